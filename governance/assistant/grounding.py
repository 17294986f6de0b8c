"""Turning the model's raw text into a grounded answer: cleanup, citations, source list.

Small models echo the prompt ("<source id=...>", "Question: ..."), forget to cite, or cite
numbers that were never given. Here the echo is cut, dead citations are removed, and a sentence
without a citation gets the source it overlaps most (by the retrieval's own terms), if any does
enough; then the cited sources are renumbered 1..n in order of first use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from governance.assistant.prompting import (
    DONT_KNOW,
    extract_citations,
    format_source,
    strip_invalid_citations,
)
from governance.assistant.retrieval import Passage, tokenize
from governance.assistant.runtime_base import ChatMessage

_ECHO = re.compile(r"^\s*(<\s*/?\s*source\b|question\s*:|sources\s*:|answer with citations)", re.I)
_TAG = re.compile(r"</?\s*source\b[^>]*>", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)
_CITE_GROUP = re.compile(r"\[(\s*\d+\s*(?:[,;]\s*\d+\s*)*)\]")
_DONT_KNOW_START = re.compile(r"^\W*(i\s+(do\s*not|don'?t)\s+know)\b", re.IGNORECASE)
MIN_OVERLAP_TERMS = 2
MIN_OVERLAP_SHARE = 0.3


_EXAMPLE_SOURCES = (
    Passage(
        "example:1",
        "Example License (license knowledge base)",
        "Commercial use: allowed. Notice: copies must keep the NOTICE file.",
        "https://example.org/license",
    ),
    Passage(
        "example:2",
        "Request #9 (acme/x-1b)",
        "Request #9: acme/x-1b for research use is approved; decided by dana.",
        "/models info acme/x-1b (request #9)",
    ),
)


def example_exchange() -> list[ChatMessage]:
    """One worked question and answer shown before the real one: small models copy the
    citation format from an example far better than from an instruction alone."""
    sources = "\n".join(format_source(n, p) for n, p in enumerate(_EXAMPLE_SOURCES, start=1))
    return [
        {
            "role": "user",
            "content": f"Sources:\n{sources}\n\nQuestion: Who approved acme/x-1b, and what must "
            "copies keep?\nAnswer with citations like [1].",
        },
        {
            "role": "assistant",
            "content": "dana approved acme/x-1b for research use [2]. Copies must keep the NOTICE "
            "file [1].",
        },
    ]


def clean_generated(text: str) -> str:
    """The answer without echoed prompt parts (cut at the first echoed line) or fence tags."""
    kept: list[str] = []
    for line in text.splitlines():
        if _ECHO.match(line):
            break
        kept.append(_TAG.sub("", line))
    return "\n".join(kept).strip()


def is_dont_know(text: str) -> bool:
    """True when the model declined (it was told to say exactly ``DONT_KNOW``)."""
    return bool(_DONT_KNOW_START.match(text)) or DONT_KNOW.lower() in text.lower()


def attribute_citations(text: str, sources: Sequence[Passage]) -> str:
    """Append ``[n]`` to each uncited sentence that overlaps source ``n`` enough."""
    source_terms = [set(tokenize(f"{p.title} {p.text}")) for p in sources]

    def attribute(match: re.Match[str]) -> str:
        sentence = match.group(0)
        if _CITE_GROUP.search(sentence) or not sentence.strip():
            return sentence
        terms = set(tokenize(sentence))
        if not terms:
            return sentence
        overlaps = [len(terms & st) for st in source_terms]
        best = max(range(len(sources)), key=lambda i: overlaps[i], default=None)
        if best is None:
            return sentence
        shared = overlaps[best]
        if shared < MIN_OVERLAP_TERMS or shared / len(terms) < MIN_OVERLAP_SHARE:
            return sentence
        body = sentence.rstrip()
        trail = sentence[len(body) :]
        end = len(body.rstrip(".!?"))
        return f"{body[:end]} [{best + 1}]{body[end:]}{trail}"

    return _SENTENCE.sub(attribute, text)


def renumber(text: str, n_sources: int) -> tuple[str, list[int]]:
    """Citations renumbered 1..k in order of first use; returns the text and the old numbers."""
    cited = extract_citations(text, n_sources)
    mapping = {old: new for new, old in enumerate(cited, start=1)}

    def swap(match: re.Match[str]) -> str:
        numbers = [int(raw) for raw in re.split(r"[,;]", match.group(1))]
        return "[" + ", ".join(str(mapping[n]) for n in numbers if n in mapping) + "]"

    return _CITE_GROUP.sub(swap, text), cited


def ground(text: str, sources: Sequence[Passage]) -> tuple[str, list[int]]:
    """Clean ``text``, keep valid citations, attribute missing ones, renumber.

    Returns the final text and, for each new number 1..k, the 0-based index of its source.
    """
    cleaned = strip_invalid_citations(clean_generated(text), len(sources))
    attributed = attribute_citations(cleaned, sources)
    final, cited = renumber(attributed, len(sources))
    return final, [n - 1 for n in cited]


def closest_passage_sentence(question: str, sources: Sequence[Passage]) -> tuple[str, int] | None:
    """The source sentence sharing most terms with ``question``, and its source's index."""
    wanted = set(tokenize(question))
    best: tuple[int, str, int] | None = None
    for index, passage in enumerate(sources):
        for match in _SENTENCE.finditer(passage.text):
            sentence = " ".join(match.group(0).split())
            shared = len(wanted & set(tokenize(sentence)))
            if sentence and (best is None or shared > best[0]):
                best = (shared, sentence, index)
    if best is None or best[0] == 0:
        return None
    return best[1], best[2]
