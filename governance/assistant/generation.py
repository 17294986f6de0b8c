"""The free-form path: relevant passages, numbered sentences, the model's selection, the answer.

The same for every runtime: the retrieved passages are cut into sentences (``selection``), the
model picks the ones that answer the question under a JSON schema, and the answer quotes the
picked sentences verbatim with their citations (``assembly``). Output that is not a selection
(a server that could not be constrained wrote prose) is kept only where its cited source says
it (``verify``); every assembled statement passes that check too. When nothing survives, the
answer says it does not know and lists the closest sources. The budget counts from the
question, queue time included.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout

from governance.assistant.answers import Answer
from governance.assistant.assembly import Statement, assemble, closest_sources
from governance.assistant.intents import Intent
from governance.assistant.prompting import (
    DONT_KNOW,
    build_selection_messages,
    prompt_budget,
)
from governance.assistant.retrieval import Hit, Passage, tokenize
from governance.assistant.runtime.queue import PositionCallback, QueuedRuntime
from governance.assistant.selection import (
    Candidate,
    candidates,
    parse_selection,
    selection_schema,
)
from governance.assistant.verify import verified, verify
from governance.core.config import Settings

MIN_SHARED_TERMS = 2
STRONG_COVERAGE = 0.6
# A selection is at most ~20 tokens ({"ids": [12, 3, 7]}); prose from a server that could not
# be constrained is cut here too, which bounds any degenerate loop.
SELECTION_MAX_TOKENS = 40
# The worker notices a passed deadline between tokens; this covers the last token and the hop.
RESULT_GRACE_SECONDS = 2.0
DONT_KNOW_CLOSEST = (
    "I don't know: no sentence in the registry or the license knowledge base answers this. "
    "The closest sources are listed below."
)

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


def selected_label(model_name: str) -> str:
    """The label of an answer whose sentences the model chose (and did not write)."""
    return (
        f"Sentences chosen by the local model {model_name} and quoted verbatim from the "
        "sources. Advisory only: the choice may miss the point; the registry, not this text, "
        "decides what is approved."
    )


def statements_from(
    raw: str, offered: Sequence[Candidate], passages: Sequence[Passage]
) -> list[Statement]:
    """What survives of the model's output ``raw`` over the ``offered`` sentences.

    A selection gives its sentences verbatim; anything else is verified claim by claim.
    Either way only statements their passage supports are returned.
    """
    chosen = parse_selection(raw, len(offered))
    if chosen is None:
        statements = verify(raw, offered, passages)
    else:
        by_number = {c.number: c for c in offered}
        statements = [
            Statement(by_number[n].sentence, by_number[n].passage) for n in chosen if n in by_number
        ]
    return verified(statements, passages)


def _unknown(
    passages: Sequence[Passage], *, model_name: str | None, started: float, note: str = ""
) -> Answer:
    sources = closest_sources(passages)
    text = DONT_KNOW_CLOSEST if sources else DONT_KNOW
    return Answer(
        text + note,
        sources,
        "unknown",
        Intent.FREE_FORM.value,
        model_name=model_name,
        timed_out=bool(note),
        elapsed=time.monotonic() - started,
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
    """The free-form answer to ``question`` from ``passages`` (best first).

    ``on_partial`` gets the assembled answer once, before it is returned (the model's own
    output is numbers, nothing a reader should see). Raises what the runtime raises
    (ModelUnavailable, ModelServerError, PromptTooLong, RuntimeClosed).
    """
    intent = Intent.FREE_FORM.value
    if runtime is None:
        text = "No language model is available to choose an answer; these sources look relevant."
        elapsed = time.monotonic() - started
        return Answer(text, closest_sources(passages), "unknown", intent, elapsed=elapsed)
    offered = candidates(question, passages)
    if not offered:
        return _unknown(passages, model_name=runtime.name, started=started)
    max_tokens = min(settings.model_max_tokens, SELECTION_MAX_TOKENS)
    n_ctx = runtime.context_window or settings.model_n_ctx
    prompt = build_selection_messages(
        question,
        offered,
        passages,
        budget_tokens=prompt_budget(n_ctx, max_tokens),
        count_tokens=runtime.count_tokens,
    )
    pieces: list[str] = []
    future = runtime.submit(
        prompt.messages,
        max_tokens=max_tokens,
        deadline=deadline,
        on_token=pieces.append,
        on_position=on_position,
        json_schema=selection_schema(len(prompt.offered)),
    )
    wait = max(0.0, deadline - time.monotonic()) + RESULT_GRACE_SECONDS
    try:
        generation = future.result(timeout=wait)
        raw, timed_out = generation.text, generation.timed_out
    except FutureTimeout:
        future.cancel()  # still queued: it never starts; running: it stops at the deadline
        raw, timed_out = "".join(pieces), True
    note = ""
    if timed_out:
        note = (
            f"\n\n(Stopped at the {settings.answer_timeout_seconds:g}-second time budget: this "
            "answer is partial.)"
        )
    statements = statements_from(raw, prompt.offered, passages)
    if not statements:
        return _unknown(passages, model_name=runtime.name, started=started, note=note)
    text, sources = assemble(statements, passages)
    if on_partial is not None:
        on_partial(text)
    return Answer(
        text=text + note,
        sources=sources,
        kind="generated",
        intent=intent,
        model_name=runtime.name,
        timed_out=timed_out,
        advisory=selected_label(runtime.name),
        elapsed=time.monotonic() - started,
    )
