"""The answer text from statements that each quote one source passage, with citations.

A statement is a sentence found in a passage (or checked against one, ``verify``). The answer
lists them in order, each followed by ``[n]``, where the cited passages are numbered 1..k in
order of first use; a sentence that does not name what its passage is about (a license term
such as "Commercial use: allowed.") is introduced by that passage's title. Sentences of
upstream texts (license files: untrusted, possibly written to fool an assistant) are always
quoted as what that file says, never stated as the assistant's own words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from governance.assistant.retrieval import Passage, tokenize
from governance.assistant.sources import Source

_TITLE_SUFFIX = re.compile(r"\s*\((?:license knowledge base|part \d+)\)\s*$")


@dataclass(frozen=True, slots=True)
class Statement:
    """A sentence and the index of the passage it comes from (or was checked against)."""

    sentence: str
    passage: int


def subject(passage: Passage) -> str:
    """What a passage is about, from its title ("Llama 2 Community License")."""
    return _TITLE_SUFFIX.sub("", passage.title)


UPSTREAM_TEXT_PREFIX = "text:"


def _introduced(statement: Statement, passage: Passage) -> str:
    if passage.source_id.startswith(UPSTREAM_TEXT_PREFIX):
        return f'{subject(passage)} says: "{statement.sentence}"'
    title_terms = set(tokenize(subject(passage)))
    if title_terms & set(tokenize(statement.sentence)):
        return statement.sentence
    return f"{subject(passage)}: {statement.sentence}"


def assemble(
    statements: Sequence[Statement], passages: Sequence[Passage]
) -> tuple[str, tuple[Source, ...]]:
    """The answer text (one sentence per statement, each cited) and its numbered sources.

    Duplicate sentences are said once. Returns ``("", ())`` for no statements.
    """
    numbers: dict[int, int] = {}
    lines: list[str] = []
    said: set[str] = set()
    for statement in statements:
        if statement.sentence in said:
            continue
        said.add(statement.sentence)
        number = numbers.setdefault(statement.passage, len(numbers) + 1)
        text = _introduced(statement, passages[statement.passage])
        lines.append(f"{text} [{number}]")
    sources = tuple(
        Source(number, passages[index].title, passages[index].ref, passages[index].source_id)
        for index, number in numbers.items()
    )
    return " ".join(lines), sources


def closest_sources(passages: Sequence[Passage], limit: int = 3) -> tuple[Source, ...]:
    """The first ``limit`` passages (retrieval order) as numbered sources."""
    return tuple(
        Source(n, p.title, p.ref, p.source_id) for n, p in enumerate(passages[:limit], start=1)
    )
