"""BM25 retrieval over governance passages, with a relevance floor so "I don't know" is possible.

Passages come from registry facts, knowledge-base license entries, stored license texts (chunked
with ``chunk_text``) and change diffs. The index is built once per corpus (``Retriever(...)``)
and is read-only afterwards, so one retriever can serve many threads.

Relevance: BM25 scores are not comparable across corpora, so a hit must pass two tests: a
minimum BM25 score, and IDF-weighted query coverage (how much of the query's information the
passage matches). A query whose distinctive words appear nowhere ("best pizza recipe for a
model launch") matches only weak common terms and returns nothing.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np

# A blank line, or a line that starts a numbered clause, a markdown heading or an ALL-CAPS title.
_SECTION_BREAK = re.compile(r"\n\s*\n|\n(?=\s*(?:\d+(?:\.\d+)*[.)]\s|#+ |[A-Z][A-Z ]{3,}\n))")
_WORD = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")
# Question and filler words carry no topic; BM25's own English list is too short for questions.
STOPWORDS = frozenset(
    """a about above after again all am an and any are as at be been before being below between
    both but by can could did do does doing down during each few for from further had has have
    having he her here hers him his how i if in into is it its itself just me more most my no nor
    not now of off on once only or other our ours out over own same she should so some such than
    that the their theirs them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    tell know please us let say said also may might must shall get got give given""".split()  # noqa: SIM905
)


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrievable piece of text. ``source_id`` is stable (e.g. ``license:apache-2.0#3``);
    ``ref`` is what a person can follow (a URL, a registry reference, a revision)."""

    source_id: str
    title: str
    text: str
    ref: str


@dataclass(frozen=True, slots=True)
class Hit:
    passage: Passage
    score: float
    coverage: float


def _stem(word: str) -> str:
    """A deliberately light English stemmer (no dependency): plurals, then one common suffix,
    so "commercially"/"commercial" and "approvals"/"approved"/"approve" meet."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-3] + "y" if word.endswith("ies") and len(word) > 4 else word[:-1]
    for suffix, keep in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            return word[: -len(suffix)]
    return word


_SUFFIXES = (
    ("ically", 2),
    ("ally", 2),
    ("ation", 4),
    ("ing", 4),
    ("edly", 3),
    ("ed", 3),
    ("ly", 4),
    ("al", 5),
    ("e", 4),
)


def tokenize(text: str) -> list[str]:
    """Lowercased, stopword-free, lightly stemmed terms. Model names keep their dots and dashes
    as one term too ("llama-3.1") besides their parts, so exact names rank first."""
    terms: list[str] = []
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        parts = re.split(r"[.\-]", word) if ("." in word or "-" in word) else [word]
        if len(parts) > 1:
            terms.append(word)
        terms.extend(_stem(part) for part in parts if part not in STOPWORDS and len(part) > 1)
    return terms


class Retriever:
    """An immutable BM25 index over passages."""

    def __init__(
        self,
        passages: Iterable[Passage],
        *,
        min_score: float = 0.5,
        min_coverage: float = 0.3,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        self.passages: tuple[Passage, ...] = tuple(passages)
        self.min_score = min_score
        self.min_coverage = min_coverage
        corpus = [tokenize(f"{p.title}\n{p.text}") for p in self.passages]
        self._doc_terms = [frozenset(terms) for terms in corpus]
        document_frequency: Counter[str] = Counter()
        for terms in self._doc_terms:
            document_frequency.update(terms)
        n_docs = len(corpus)
        self._idf = {
            term: math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
            for term, df in document_frequency.items()
        }
        # A term the corpus has never seen is as rare as it gets: it counts fully against
        # coverage, which is what makes off-topic questions fall below the floor.
        self._unseen_idf = math.log(1 + (n_docs + 0.5) / 0.5)
        self._bm25: bm25s.BM25 | None = None
        if n_docs:
            self._bm25 = bm25s.BM25(k1=k1, b=b)
            self._bm25.index(corpus, show_progress=False)

    def __len__(self) -> int:
        return len(self.passages)

    def search(self, query: str, *, k: int = 4) -> list[Hit]:
        """The ``k`` best passages that pass the relevance floor; [] when nothing is relevant."""
        if self._bm25 is None or k <= 0:
            return []
        query_terms = list(dict.fromkeys(tokenize(query)))
        if not query_terms:
            return []
        weights = {t: self._idf.get(t, self._unseen_idf) for t in query_terms}
        total_weight = sum(weights.values())
        scores = np.asarray(self._bm25.get_scores(query_terms), dtype=float)
        hits: list[Hit] = []
        for index in np.argsort(-scores, kind="stable"):
            score = float(scores[index])
            if score < self.min_score:
                break  # sorted: nothing further can pass
            matched = self._doc_terms[index]
            coverage = sum(w for t, w in weights.items() if t in matched) / total_weight
            if coverage >= self.min_coverage:
                hits.append(Hit(self.passages[index], score, coverage))
                if len(hits) == k:
                    break
        return hits


def chunk_text(
    text: str,
    *,
    max_chars: int = 1200,
    min_chars: int = 200,
) -> list[str]:
    """Split a long text (a license, a diff) into retrievable chunks on its own structure.

    Paragraphs (blank lines) and numbered/heading lines start new sections; small neighbours
    are merged up to ``max_chars`` so a chunk carries enough context; a single paragraph longer
    than ``max_chars`` is cut on sentence ends, then on whitespace.
    """
    normalized = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not normalized:
        return []
    blocks = [block.strip() for block in _SECTION_BREAK.split(normalized)]
    # (text, starts a section). Small neighbours are merged, but a new section only joins a
    # small chunk that is itself a whole section (a title, a one-line clause), so clause
    # boundaries survive and the tail of a long clause does not swallow the next clause.
    pieces: list[tuple[str, bool]] = []
    for block in blocks:
        if block:
            parts = _split_long(block, max_chars)
            pieces.extend((part, n == 0) for n, part in enumerate(parts))
    chunks: list[str] = []
    whole_sections: list[bool] = []
    for piece, starts_section in pieces:
        fits = bool(chunks) and len(chunks[-1]) + len(piece) + 2 <= max_chars
        if starts_section:
            merge = fits and whole_sections[-1] and len(chunks[-1]) < min_chars
        else:
            merge = fits and (len(chunks[-1]) < min_chars or len(piece) < min_chars)
        if merge:
            chunks[-1] = f"{chunks[-1]}\n\n{piece}"
            whole_sections[-1] = whole_sections[-1] and starts_section
        else:
            chunks.append(piece)
            whole_sections.append(starts_section)
    return chunks


def _split_long(block: str, max_chars: int) -> list[str]:
    if len(block) <= max_chars:
        return [block]
    sentences = re.split(r"(?<=[.;:!?])\s+", block)
    out: list[str] = []
    current = ""
    for sentence in sentences:
        while len(sentence) > max_chars:  # no sentence ends: cut at the last space that fits
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            if current:
                out.append(current)
                current = ""
            out.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        candidate = f"{current} {sentence}".strip()
        if len(candidate) > max_chars:
            out.append(current)
            current = sentence
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def passages_from_text(
    source_id: str, title: str, text: str, ref: str, *, max_chars: int = 1200
) -> list[Passage]:
    """Chunk a long text into passages whose ids (``source_id#n``) stay stable for a text."""
    chunks = chunk_text(text, max_chars=max_chars)
    if len(chunks) == 1:
        return [Passage(source_id, title, chunks[0], ref)]
    return [
        Passage(f"{source_id}#{n}", f"{title} (part {n})", chunk, ref)
        for n, chunk in enumerate(chunks, start=1)
    ]


def deduplicate(passages: Sequence[Passage]) -> list[Passage]:
    """Drop passages with the same source id (first wins), so the index has no twins."""
    seen: set[str] = set()
    unique: list[Passage] = []
    for passage in passages:
        if passage.source_id not in seen:
            seen.add(passage.source_id)
            unique.append(passage)
    return unique
