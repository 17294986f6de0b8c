"""``/models ask <question>``: the local assistant, in the grammar (console, CLI, Slack).

The whole rest of the line is the question (apostrophes and all: ``ask`` is a free-text
subcommand: ``Subcommand.free_text``). It is ``slow``: Slack acks first and
answers from a worker. ``ask_streaming`` is the same with progress callbacks, for a frontend
that edits one message as the answer is written.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.grammar.spec.invocation import Args, Invocation
from bot.grammar.spec.subcommand import Subcommand
from bot.render.assistant import answer_reply, partial_reply, queued_reply
from bot.render.blocks import Reply
from governance.wiring.services import Services

ReplyCallback = Callable[[Reply], None]


def ask_streaming(
    services: Services,
    question: str,
    *,
    on_partial: ReplyCallback | None = None,
    on_queued: ReplyCallback | None = None,
) -> Reply:
    """Answer ``question``; while the model writes, ``on_partial`` gets a Reply of the text so
    far after every token and ``on_queued`` a Reply saying how many questions are ahead.

    Both callbacks run on the model's worker thread: hand the Reply to something that posts it
    at most once a second (``governance.assistant.streaming.ThrottledPublisher``), never post
    from inside the callback. Raises what ``Assistant.answer`` raises (typed GovernanceErrors).
    """
    assistant = services.assistant
    model_name = None

    def partial(text: str) -> None:
        if on_partial is not None:
            on_partial(partial_reply(question, text, model_name=model_name))

    def position(ahead: int) -> None:
        if on_queued is not None:
            on_queued(queued_reply(question, ahead))

    if on_partial is not None:
        model_name = assistant.runtime().name
    result = assistant.answer(
        question,
        on_partial=partial if on_partial is not None else None,
        on_position=position if on_queued is not None else None,
    )
    return answer_reply(question, result)


def ask(inv: Invocation, args: Args) -> Reply:
    """Answer the question (the rest of the line), without progress callbacks."""
    return ask_streaming(inv.services, args.rest(0))


SUBCOMMANDS = [
    Subcommand(
        "ask",
        "ask <question>",
        "Ask the assistant: exact answers from the registry, or the local model's cited "
        "answer (advisory).",
        ask,
        description="The rest of the line is the question. Questions about the registry "
        "(who approved what, what expires, what is in review) get exact "
        "answers from the database; others get the local model's answer, "
        "citing its sources, and marked advisory. It changes nothing.",
        examples=(
            ("ask who approved gemma?", "an exact answer from the registry"),
            ("ask can we fine-tune Llama 3.1 for a paid product?", "a cited, advisory answer"),
        ),
        min_args=1,
        slow=True,
        free_text=True,
        stream=ask_streaming,
    ),
]
