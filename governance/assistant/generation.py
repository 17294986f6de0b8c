"""The free-form path: relevant passages, the grounded prompt, the queued model, grounding.

The model sees numbered sources after one worked example; its text is cleaned and its
citations checked (``grounding``); text that cites nothing traceable is replaced by the closest
source sentence. The budget counts from the question, queue time included: on timeout the
partial answer is returned with a note.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout

from governance.assistant.answers import Answer, advisory_label, untraced_label
from governance.assistant.grounding import (
    closest_passage_sentence,
    example_exchange,
    ground,
    is_dont_know,
)
from governance.assistant.intents import Intent
from governance.assistant.prompting import (
    DONT_KNOW,
    MESSAGE_OVERHEAD_TOKENS,
    build_grounded_messages,
    make_counter,
    prompt_budget,
)
from governance.assistant.queued import PositionCallback, QueuedRuntime
from governance.assistant.retrieval import Hit, Passage, tokenize
from governance.assistant.sources import Source
from governance.config import Settings

MIN_SHARED_TERMS = 2
STRONG_COVERAGE = 0.6
# The worker notices a passed deadline between tokens; this covers the last token and the hop.
RESULT_GRACE_SECONDS = 2.0

PartialCallback = Callable[[str], None]


def relevant(question: str, hits: list[Hit]) -> list[Hit]:
    """Hits that share at least two distinct terms with the question, or most of its weight.

    One shared word is not topicality: "the capital of France" shares only "France" with the
    Etalab license entry.
    """
    terms = set(tokenize(question))
    kept = []
    for hit in hits:
        shared = terms & set(tokenize(f"{hit.passage.title}\n{hit.passage.text}"))
        if len(shared) >= MIN_SHARED_TERMS or hit.coverage >= STRONG_COVERAGE:
            kept.append(hit)
    return kept


def _numbered(
    passages: Sequence[Passage], order: Sequence[int] | None = None
) -> tuple[Source, ...]:
    picks = order if order is not None else range(len(passages))
    return tuple(
        Source(n, passages[i].title, passages[i].ref, passages[i].source_id)
        for n, i in enumerate(picks, start=1)
    )


def generate(
    question: str,
    passages: list[Passage],
    *,
    runtime: QueuedRuntime | None,
    settings: Settings,
    deadline: float,
    started: float,
    on_partial: PartialCallback | None,
    on_position: PositionCallback | None,
) -> Answer:
    intent = Intent.FREE_FORM.value
    if runtime is None:
        text = "No language model is available to write an answer; these sources look relevant."
        elapsed = time.monotonic() - started
        return Answer(text, _numbered(passages), "unknown", intent, elapsed=elapsed)
    max_tokens = settings.model_max_tokens
    n_ctx = runtime.context_window or settings.model_n_ctx
    example = example_exchange()
    count = make_counter(runtime.count_tokens)
    example_cost = sum(count(m["content"]) + MESSAGE_OVERHEAD_TOKENS for m in example)
    prompt = build_grounded_messages(
        question,
        passages,
        budget_tokens=prompt_budget(n_ctx, max_tokens) - example_cost,
        count_tokens=runtime.count_tokens,
    )
    messages = [prompt.messages[0], *example, *prompt.messages[1:]]
    pieces: list[str] = []

    def on_token(piece: str) -> None:
        pieces.append(piece)
        if on_partial is not None:
            on_partial("".join(pieces))

    future = runtime.submit(
        messages,
        max_tokens=max_tokens,
        deadline=deadline,
        on_token=on_token,
        on_position=on_position,
    )
    wait = max(0.0, deadline - time.monotonic()) + RESULT_GRACE_SECONDS
    try:
        generation = future.result(timeout=wait)
        raw, timed_out = generation.text, generation.timed_out
    except FutureTimeout:
        future.cancel()  # still queued: it never starts; running: it stops at the deadline
        raw, timed_out = "".join(pieces), True
    elapsed = time.monotonic() - started
    if is_dont_know(raw) and not timed_out:
        return Answer(DONT_KNOW, (), "unknown", intent, model_name=runtime.name, elapsed=elapsed)
    text, used = ground(raw, prompt.sources)
    advisory = advisory_label(runtime.name)
    if not used and text:
        # Nothing in the model's text can be traced to a source: do not pass it on as an
        # answer; quote the closest source sentence instead, and say so.
        closest = closest_passage_sentence(question, prompt.sources)
        if closest is not None:
            sentence, index = closest
            text = f'The closest source says: "{sentence}" [1]'
            used = [index]
            advisory = untraced_label(runtime.name)
    # Cited sources in order of first use; if nothing could be traced, what the model was given.
    sources = _numbered(prompt.sources, used or None)
    if timed_out:
        note = (
            f"(Stopped at the {settings.answer_timeout_seconds:g}-second time budget: this "
            "answer is partial.)"
        )
        text = f"{text}\n\n{note}" if text else note
    elif not text:
        text = "The local model gave no answer from these sources."
    return Answer(
        text=text,
        sources=sources,
        kind="generated",
        intent=intent,
        model_name=runtime.name,
        timed_out=timed_out,
        advisory=advisory,
        elapsed=elapsed,
    )
