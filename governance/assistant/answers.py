"""What the assistant returns: an answer with numbered sources, and its labels."""

from __future__ import annotations

from dataclasses import dataclass

from governance.assistant.sources import Source


@dataclass(frozen=True)
class Answer:
    """An answer. ``text`` is plain text (escape it for mrkdwn) with [n] citations.

    ``kind``: ``exact`` (from the registry, no model), ``generated`` (written by the local
    model, advisory), ``unknown`` (nothing relevant: "I don't know") or ``clarify`` (the model
    name fits several tracked models; ``candidates`` lists them).
    """

    text: str
    sources: tuple[Source, ...]
    kind: str
    intent: str
    model_name: str | None = None
    timed_out: bool = False
    advisory: str | None = None
    candidates: tuple[str, ...] = ()
    elapsed: float = 0.0

    def render(self) -> str:
        """The whole answer as plain text: body, sources, and the label of a generated one."""
        parts = [self.text]
        if self.sources:
            parts.append("Sources:\n" + "\n".join(s.line() for s in self.sources))
        if self.advisory:
            parts.append(self.advisory)
        return "\n\n".join(parts)
