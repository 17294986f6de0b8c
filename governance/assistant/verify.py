"""Design (b), the safety net: model prose survives only where its cited source says it.

Used when a model's output is not a selection (a server that cannot constrain its output
wrote prose), and on every assembled answer. Each sentence of the text must cite a candidate
sentence ``[n]``; it is kept only when every term in it (names, repo ids, states, uses,
numbers, dates: every content word, stemmed) occurs in one clause of the cited passage and
it negates exactly when that clause does. Otherwise it is replaced by the cited passage's own
sentence that overlaps it most, or dropped. Bare "yes"/"no" verdicts, sentences that cite
nothing and repeats (a degenerate loop) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from governance.assistant.assembly import Statement
from governance.assistant.retrieval import Passage, tokenize
from governance.assistant.selection import Candidate, split_sentences

MIN_REPLACEMENT_OVERLAP = 2

_CITATION = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_CLAIM_END = re.compile(r"(?<=[.!?])\s+|\n+")
_CLAUSE = re.compile(r";|:(?=\s)")
_NUMBER = re.compile(r"\b\d+\b")
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nobody|neither|nor|cannot|without|forbid\w*|prohibit\w*|"
    r"den(?:y|ies|ied)|\w+n't)\b",
    re.IGNORECASE,
)
_VERDICT_WORDS = frozenset(
    "yes no yeah nope correct incorrect true false right wrong indeed sure ok okay".split()  # noqa: SIM905
)


def fact_terms(text: str) -> set[str]:
    """The content terms a claim is checked on: the retrieval's terms plus bare numbers."""
    return set(tokenize(text)) | set(_NUMBER.findall(text))


def negates(text: str) -> bool:
    """True when ``text`` contains a negation ("not", "no", "cannot", "may not", ...)."""
    return bool(_NEGATION.search(text))


def _claims(text: str) -> list[tuple[str, list[int]]]:
    """Sentences of ``text`` with the citation numbers each carries, citations removed."""
    found: list[tuple[str, list[int]]] = []
    for piece in _CLAIM_END.split(text):
        numbers = [int(n) for group in _CITATION.findall(piece) for n in re.split(r"[,;]", group)]
        claim = " ".join(_CITATION.sub(" ", piece).split())
        if claim.strip(" .!?,;:"):
            found.append((claim, numbers))
        elif numbers and found and not found[-1][1]:
            found[-1] = (found[-1][0], numbers)  # "... filter. [2]": the citation trails
    return found


def _is_verdict(claim: str) -> bool:
    words = re.findall(r"[a-z']+", claim.lower())
    return bool(words) and all(w in _VERDICT_WORDS for w in words)


def _clauses(passage: Passage) -> list[tuple[str, set[str]]]:
    out = []
    title = fact_terms(passage.title)
    for sentence in split_sentences(passage.text):
        for clause in _CLAUSE.split(sentence):
            out.append((clause, fact_terms(clause) | title))
    return out


def supported(claim: str, passage: Passage) -> bool:
    """True when one clause of ``passage`` (with its title) holds every term of ``claim``
    and negates exactly when ``claim`` does."""
    terms = fact_terms(claim)
    if not terms:
        return False
    if " ".join(claim.split()) in split_sentences(passage.text):
        return True  # quoted verbatim
    return any(
        terms <= clause_terms and negates(clause) == negates(claim)
        for clause, clause_terms in _clauses(passage)
    )


def _replacement(claim: str, passage: Passage) -> str | None:
    terms = fact_terms(claim)
    best: tuple[int, str] | None = None
    for sentence in split_sentences(passage.text):
        shared = len(terms & fact_terms(sentence))
        if shared >= MIN_REPLACEMENT_OVERLAP and (best is None or shared > best[0]):
            best = (shared, sentence)
    return best[1] if best is not None else None


def verify(text: str, offered: Sequence[Candidate], passages: Sequence[Passage]) -> list[Statement]:
    """The statements of model ``text`` (citing ``offered`` sentences by number) that hold.

    Returns, in the text's order, each claim its cited passage supports (as written), or that
    passage's own closest sentence in its place; nothing else.
    """
    by_number = {c.number: c for c in offered}
    kept: list[Statement] = []
    seen: set[str] = set()
    for claim, numbers in _claims(text):
        key = " ".join(sorted(fact_terms(claim)))
        if key in seen or _is_verdict(claim):
            continue
        seen.add(key)
        cited = [by_number[n].passage for n in numbers if n in by_number]
        statement = None
        for index in cited:
            if supported(claim, passages[index]):
                statement = Statement(claim, index)
                break
        if statement is None:
            for index in cited:
                own = _replacement(claim, passages[index])
                if own is not None:
                    statement = Statement(own, index)
                    break
        if statement is not None and statement.sentence not in {s.sentence for s in kept}:
            kept.append(statement)
    return kept


def verified(statements: Sequence[Statement], passages: Sequence[Passage]) -> list[Statement]:
    """Only the statements whose passage supports them (a verbatim sentence always is)."""
    return [s for s in statements if supported(s.sentence, passages[s.passage])]
