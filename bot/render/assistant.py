"""Block Kit views of the assistant's answers. Pure functions; all answer text is escaped.

Answer text comes from the registry (user-written conditions and reasons), from upstream
(license texts) and from the model, so every piece goes through ``escape``.
"""

from __future__ import annotations

from typing import Any

from bot.render.blocks import Block, Reply, context, escape, fit, section, truncate
from governance.assistant.answers import Answer

SOURCES_SHOWN_MAX = 12
_KIND_ICONS = {
    "exact": ":white_check_mark:",
    "generated": ":robot_face:",
    "unknown": ":grey_question:",
    "clarify": ":grey_question:",
}


def answer_data(answer: Answer) -> dict[str, Any]:
    """The answer as JSON-able data (CLI --json, tests)."""
    return {
        "text": answer.text,
        "kind": answer.kind,
        "intent": answer.intent,
        "sources": [
            {"number": s.number, "title": s.title, "ref": s.ref, "id": s.source_id}
            for s in answer.sources
        ],
        "model": answer.model_name,
        "timed_out": answer.timed_out,
        "advisory": answer.advisory,
        "candidates": list(answer.candidates),
        "elapsed_ms": round(answer.elapsed * 1000, 1),
    }


def _sources_block(answer: Answer) -> Block | None:
    if not answer.sources:
        return None
    lines = [
        f"[{s.number}] {escape(s.title)} - {escape(s.ref)}"
        for s in answer.sources[:SOURCES_SHOWN_MAX]
    ]
    hidden = len(answer.sources) - SOURCES_SHOWN_MAX
    if hidden > 0:
        lines.append(f"_{hidden} more sources not shown._")
    return context("*Sources*\n" + "\n".join(lines))


def answer_reply(question: str, answer: Answer) -> Reply:
    """The final answer: question, answer text, numbered sources, and the advisory label."""
    icon = _KIND_ICONS.get(answer.kind, "")
    blocks: list[Block] = [context(f"*Q:* {escape(truncate(question, 300))}")]
    blocks.append(section(f"{icon} {escape(answer.text)}".strip()))
    sources = _sources_block(answer)
    if sources is not None:
        blocks.append(sources)
    if answer.advisory:
        blocks.append(context(f":warning: _{escape(answer.advisory)}_"))
    return Reply(text=answer.render(), blocks=fit(blocks), data=answer_data(answer))


def partial_reply(question: str, text: str, *, model_name: str | None = None) -> Reply:
    """An answer still being written (for ``chat.update`` while streaming)."""
    who = f" by {escape(model_name)}" if model_name else ""
    blocks = [
        context(f"*Q:* {escape(truncate(question, 300))}"),
        section(escape(text) + " …" if text else "…"),
        context(f":hourglass_flowing_sand: _Being written{who}; advisory, sources follow._"),
    ]
    return Reply(text=text or "Thinking…", blocks=blocks)


def queued_reply(question: str, ahead: int) -> Reply:
    """Waiting for the model: how many questions are ahead."""
    waiting = (
        f"{ahead} question{'s' if ahead != 1 else ''} ahead of yours"
        if ahead > 0
        else "starting now"
    )
    blocks = [
        context(f"*Q:* {escape(truncate(question, 300))}"),
        section(f":hourglass_flowing_sand: Waiting for the local model: {waiting}."),
    ]
    return Reply(text=f"Waiting for the local model: {waiting}.", blocks=blocks)
