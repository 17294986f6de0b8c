"""The concept explainers: typed, validated access to ``data/concepts.yaml``.

Short sentences in our own words about the seed's concepts (open weights vs open source, the
components of an AI release, the OSI definition, quantization, the MOF), each citing a source.
Loading validates every entry and fails loudly, naming it, like the license knowledge base.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from governance.licenses.knowledge import KnowledgeBaseError

CONCEPTS_FILE = Path(__file__).parent / "data" / "concepts.yaml"
_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class ConceptSource:
    id: str
    title: str
    ref: str


@dataclass(frozen=True)
class ConceptFact:
    text: str
    source: ConceptSource


@dataclass(frozen=True)
class Concept:
    """One explainer: its title, the phrase groups that ask for it, and its facts."""

    id: str
    title: str
    match: tuple[tuple[tuple[str, ...], ...], ...]  # groups of phrases, each phrase as tokens
    facts: tuple[ConceptFact, ...]

    def asked_in(self, tokens: list[str]) -> int:
        """How many tokens of ``tokens`` the best fully present phrase group covers (0: none).

        A phrase matches a contiguous run of question tokens, each starting with its token
        ("defin" matches "definition").
        """
        best = 0
        for group in self.match:
            covered = [_covers(tokens, phrase) for phrase in group]
            if all(covered):
                best = max(best, sum(len(p) for p in group))
        return best


def _covers(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(
        all(tokens[i + k].startswith(phrase[k]) for k in range(n))
        for i in range(len(tokens) - n + 1)
    )


def tokens_of(text: str) -> list[str]:
    """Lowercase word tokens (hyphens and spaces alike)."""
    return _TOKEN.findall(text.lower())


def _fail(where: str, problem: str) -> KnowledgeBaseError:
    return KnowledgeBaseError(f"{CONCEPTS_FILE.name}: {where}: {problem}")


def _text(where: str, field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"{field} must be a non-empty string")
    return value.strip()


def _sources(raw: Any) -> dict[str, ConceptSource]:
    if not isinstance(raw, Mapping) or not raw:
        raise _fail("sources", "expected a mapping of source ids")
    found = {}
    for key, value in raw.items():
        where = f"source {key!r}"
        if not isinstance(value, Mapping):
            raise _fail(where, "expected title and ref")
        ref = _text(where, "ref", value.get("ref"))
        if not (ref.startswith("https://") or ref.startswith("seeds/")):
            raise _fail(where, "ref must be an https link or a seeds/ file")
        found[str(key)] = ConceptSource(str(key), _text(where, "title", value.get("title")), ref)
    return found


def _concept(raw: Any, sources: Mapping[str, ConceptSource]) -> Concept:
    if not isinstance(raw, Mapping):
        raise _fail("concepts", "each concept must be a mapping")
    where = f"concept {raw.get('id', '?')!r}"
    unknown = set(raw) - {"id", "title", "match", "facts"}
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    groups = raw.get("match")
    if not isinstance(groups, list) or not groups:
        raise _fail(where, "match must be a non-empty list of phrase lists")
    match = []
    for group in groups:
        if not isinstance(group, list) or not group:
            raise _fail(where, "each match group must be a non-empty list of phrases")
        phrases = tuple(tuple(tokens_of(_text(where, "match phrase", p))) for p in group)
        if any(not p for p in phrases):
            raise _fail(where, "a match phrase has no words")
        match.append(phrases)
    facts = raw.get("facts")
    if not isinstance(facts, list) or not facts:
        raise _fail(where, "facts must be a non-empty list")
    parsed = []
    for fact in facts:
        if not isinstance(fact, Mapping) or fact.get("source") not in sources:
            raise _fail(where, f"fact {fact!r} must name a source listed under sources")
        text = _text(where, "fact text", fact.get("text"))
        if not text.endswith("."):
            raise _fail(where, f"fact {text!r} must be one sentence ending with a period")
        parsed.append(ConceptFact(text, sources[fact["source"]]))
    return Concept(
        _text(where, "id", raw.get("id")),
        _text(where, "title", raw.get("title")),
        tuple(match),
        tuple(parsed),
    )


def parse_concepts(document: Any) -> tuple[Concept, ...]:
    """Build and validate the concepts from the parsed YAML document.

    Raises:
        KnowledgeBaseError: a malformed document, naming the entry and the field.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("concepts"), list):
        raise _fail("top level", "expected a mapping with a 'concepts' list")
    sources = _sources(document.get("sources"))
    concepts = tuple(_concept(raw, sources) for raw in document["concepts"])
    ids = [c.id for c in concepts]
    if len(set(ids)) != len(ids):
        raise _fail("concepts", "duplicate concept ids")
    return concepts


@functools.cache
def load_concepts(path: Path = CONCEPTS_FILE) -> tuple[Concept, ...]:
    """Load, validate and cache the concepts (read once per process and path)."""
    with path.open(encoding="utf-8") as handle:
        return parse_concepts(yaml.safe_load(handle))


def concept_asked(question: str, concepts: tuple[Concept, ...]) -> Concept | None:
    """The concept ``question`` asks about (the one whose matching phrases cover most words)."""
    tokens = tokens_of(question)
    scored = [(c.asked_in(tokens), i, c) for i, c in enumerate(concepts)]
    best = max(scored, key=lambda s: (s[0], -s[1]), default=(0, 0, None))
    return best[2] if best[0] > 0 else None
