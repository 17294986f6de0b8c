"""Design (a): the model selects numbered source sentences; the answer quotes them verbatim.

The retrieved passages are cut into sentences, the sentences that share terms with the
question are ranked and numbered, and the model is asked for ``{"ids": [...]}`` only, its
output held to that shape by a JSON schema (a llama.cpp grammar in-process, ``response_format``
on a server). The answer is assembled from the chosen sentences exactly as the sources say
them, each with the citation of its passage: the model chooses, it never writes a fact.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from governance.assistant.retrieval import Passage, tokenize

MAX_CANDIDATES = 5
MAX_SELECTED = 3
MAX_SENTENCE_CHARS = 600
MIN_SENTENCE_WORDS = 3

# A sentence ends at . ! ? followed by space and something that starts a sentence; "v0.3",
# "2.0" and "e.g.x" never split because no space follows the dot.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[#])")
_PARAGRAPH = re.compile(r"\n\s*\n")
_LIST_LINE = re.compile(r"^\s*(?:[-*\u2022]\s+|\(?[0-9]+(?:\.[0-9]+)*[.)]\s+|[a-z][.)]\s+)")
_DIFF_LINE = re.compile(r"^\s*(?:[+\-]{1,3}|@@)")
_IDS = re.compile(r'"ids"\s*:\s*\[([0-9,\s]*)\]?')


@dataclass(frozen=True, slots=True)
class Candidate:
    """One numbered sentence offered to the model: its words exactly as in ``passage``."""

    number: int
    sentence: str
    passage: int  # index into the passages the candidates were cut from


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, whitespace-normalised, in order.

    Paragraphs (blank lines) and list lines (bullets, numbered clauses) always end a
    sentence; wrapped lines inside a paragraph are joined. Diff lines are skipped.
    """
    sentences: list[str] = []
    for paragraph in _PARAGRAPH.split(text.replace("\r\n", "\n")):
        lines: list[str] = []
        for line in paragraph.split("\n"):
            if _DIFF_LINE.match(line):
                continue
            if _LIST_LINE.match(line) and lines:
                sentences += _split_run(" ".join(lines))
                lines = []
            lines.append(line.strip())
        sentences += _split_run(" ".join(lines))
    return sentences


def _split_run(run: str) -> list[str]:
    normalized = " ".join(run.split())
    return [part for part in _SENTENCE_END.split(normalized) if part]


def _quotable(sentence: str) -> bool:
    return len(sentence) <= MAX_SENTENCE_CHARS and len(sentence.split()) >= MIN_SENTENCE_WORDS


def candidates(
    question: str, passages: Sequence[Passage], *, limit: int = MAX_CANDIDATES
) -> list[Candidate]:
    """The sentences of ``passages`` that share terms with ``question``, best first, numbered.

    A sentence's score is the IDF (over all the passages' sentences) of the question terms it
    or its passage's title contains, so a sentence about the asked model or license outranks
    one that only shares common words; ties keep the retrieval's passage order.
    """
    wanted = set(tokenize(question))
    pool: list[tuple[int, str, set[str]]] = []
    for index, passage in enumerate(passages):
        title_terms = set(tokenize(passage.title))
        for sentence in split_sentences(passage.text):
            if _quotable(sentence):
                pool.append((index, sentence, set(tokenize(sentence)) | title_terms))
    if not pool or not wanted:
        return []
    frequency: Counter[str] = Counter()
    for _, _, terms in pool:
        frequency.update(terms & wanted)
    idf = {t: math.log(1 + len(pool) / (frequency[t] or 1)) for t in wanted}
    scored = []
    seen: set[str] = set()
    for order, (index, sentence, terms) in enumerate(pool):
        shared = terms & wanted
        own = set(tokenize(sentence)) & wanted
        if not own or sentence in seen:  # the sentence itself must touch the question
            continue
        seen.add(sentence)
        scored.append((-sum(idf[t] for t in shared), order, index, sentence))
    scored.sort()
    return [
        Candidate(number, sentence, index)
        for number, (_, _, index, sentence) in enumerate(scored[:limit], start=1)
    ]


def selection_schema(count: int, *, max_selected: int = MAX_SELECTED) -> dict[str, Any]:
    """The JSON schema of a selection among ``count`` candidates: ``{"ids": [n, ...]}``.

    The same schema constrains every runtime: llama.cpp turns it into a grammar, servers take
    it as ``response_format``. An empty list is how the model says none answers.
    """
    return {
        "type": "object",
        "properties": {
            "ids": {
                "type": "array",
                "items": {"type": "integer", "enum": list(range(1, count + 1))},
                "maxItems": max_selected,
            }
        },
        "required": ["ids"],
        "additionalProperties": False,
    }


def parse_selection(raw: str, count: int) -> list[int] | None:
    """The candidate numbers the model chose (valid, distinct, in its order), or None when
    ``raw`` is not a selection at all (an unconstrained server wrote prose instead).

    A selection cut short by the time budget keeps the numbers it completed.
    """
    text = raw.strip()
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("ids"), list):
        numbers = [n for n in parsed["ids"] if isinstance(n, int) and not isinstance(n, bool)]
    else:
        match = _IDS.search(text)
        if match is None:
            return None
        pieces = match.group(1).split(",")
        if not match.group(0).endswith("]"):
            pieces = pieces[:-1]  # the last number may have been cut mid-digit
        numbers = [int(p) for p in pieces if p.strip().isdigit()]
    chosen: list[int] = []
    for number in numbers:
        if 1 <= number <= count and number not in chosen:
            chosen.append(number)
    return chosen[:MAX_SELECTED]
