"""Which tracked model, or which license, a question names, however loosely.

"llama 3.1 8b instruct", "Llama-3.1-8B-Instruct" and "meta-llama/Llama-3.1-8B-Instruct" all
name the same repo: names are compared as normalized token sequences (lowercase, split on
punctuation and on letter/digit boundaries, so "llama3.1" and "llama 3.1" meet). A model is a
candidate when the question mentions its family word (the first word of its name: "llama",
"mistral", "gemma"); candidates rank by how many of their name tokens the question mentions,
and a tie at the top is ambiguous: the assistant asks back with the candidates.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from governance.licenses.knowledge import KnowledgeBase, LicenseTerms
from governance.registry.models import TrackedModel

_TOKEN = re.compile(r"[a-z]+|\d+")
_REPO_ID = re.compile(r"\b([A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*[A-Za-z0-9])")
# Words that, on their own, say nothing about which model is meant (they still count when they
# follow a word of the same model name, as in "gemma 2 9b it").
_WEAK = frozenset(
    """a an and are as at be by can do for from has have i in is it its may model models
    of on or the to use used we what when which who with ai instruct chat base hf v llm llms
    another other""".split()  # noqa: SIM905
)
# Words a license name shares with every license: never evidence of which license is meant.
_GENERIC_LICENSE = frozenset(
    "license licence agreement community terms of use the and policy research".split()  # noqa: SIM905
)
_LICENSE_WORDS = ("license", "licence", "terms", "agreement")


def name_tokens(text: str) -> list[str]:
    """Normalized tokens: ``Llama-3.1-8B`` -> ``['llama', '3', '1', '8', 'b']``."""
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class ModelMatch:
    """What the question says about models: one ``model``, or ``candidates`` to choose from."""

    model: TrackedModel | None
    candidates: tuple[TrackedModel, ...] = ()
    matched: frozenset[str] = frozenset()

    @property
    def ambiguous(self) -> bool:
        return self.model is None and len(self.candidates) > 1


@dataclass(frozen=True)
class _Scored:
    model: TrackedModel
    score: int
    extra: int
    matched: frozenset[str]


def _anchors(tokens: Sequence[str]) -> set[str]:
    """Name words distinctive enough to name the model on their own ("llama", "nemotron")."""
    return {t for t in tokens if t.isalpha() and len(t) >= 3 and t not in _WEAK}


def _expand_acronyms(question: list[str], tokens: Sequence[str]) -> list[str]:
    """``question`` with the initials of the name's leading words spelled out: "sdxl" ->
    "stable diffusion xl", "sd 1.5" -> "stable diffusion 1 5" for stable-diffusion-* names."""
    lead = list(itertools.takewhile(lambda t: t.isalpha() and len(t) >= 3, tokens))
    if len(lead) < 2:
        return question
    initials = "".join(t[0] for t in lead)
    rest = tokens[len(lead)] if len(tokens) > len(lead) else None
    expanded: list[str] = []
    for token in question:
        if token == initials:
            expanded += lead
        elif rest is not None and token == initials + rest:
            expanded += [*lead, rest]
        else:
            expanded.append(token)
    return expanded


def _score(question: list[str], model: TrackedModel, names: Iterable[str]) -> _Scored | None:
    best: _Scored | None = None
    for name in names:
        owner, _, repo = name.rpartition("/")
        tokens = name_tokens(repo)
        asked = _expand_acronyms(question, tokens)
        anchors = _anchors(tokens)
        owner_tokens = set(name_tokens(owner))
        wanted = set(tokens)
        if not anchors:  # "IF-I-XL-v1.0": only the owner ("deepfloyd") is distinctive
            anchors = _anchors(list(owner_tokens))
            wanted |= anchors
        if not anchors or (not anchors & set(asked) and not owner_tokens & set(asked)):
            continue
        matched: set[str] = set()
        for i, token in enumerate(asked):
            if token not in wanted:
                continue
            follows = i > 0 and asked[i - 1] in wanted
            precedes = i + 1 < len(asked) and asked[i + 1] in wanted
            if token not in _WEAK or follows or precedes:
                matched.add(token)
        if not anchors & matched:
            continue
        scored = _Scored(model, len(matched), len(wanted - matched), frozenset(matched))
        if best is None or (scored.score, -scored.extra) > (best.score, -best.extra):
            best = scored
    return best


def _number_run(tokens: Sequence[str], start: int) -> list[str]:
    return list(itertools.takewhile(str.isdigit, tokens[start:]))


def _contradicts(question: list[str], repo_id: str) -> bool:
    """The question gives the family word other version numbers than the name has."""
    name = name_tokens(repo_id.rpartition("/")[2])
    for i, token in enumerate(name):
        if token in _anchors(name) and token in question:
            asked = _number_run(question, question.index(token) + 1)
            return bool(asked) and _number_run(name, i + 1)[: len(asked)] != asked
    return False


def _same_version(question: list[str], repo_id: str) -> bool:
    """The numbers right after the family word agree: "llama 3 70b" is Llama-3-70B, not
    Llama-3.3-70B; "llama 3.3" is Llama-3.3-70B, not Llama-3-8B."""
    name = name_tokens(repo_id.rpartition("/")[2])
    for i, token in enumerate(name):
        if token in _anchors(name) and token in question:
            asked = _number_run(question, question.index(token) + 1)
            return bool(asked) and _number_run(name, i + 1)[: len(asked)] == asked
    return False


def _name_part(question: str, models: Sequence[TrackedModel]) -> TrackedModel | None:
    """The model whose name (the part after the owner) the question spells out in full."""
    lowered = question.lower()
    found = [
        m
        for m in models
        for name in (m.repo_id, *(a.alias for a in m.aliases))
        if (part := name.rpartition("/")[2].lower()) in lowered  # cheap test first
        and re.search(r"(?<![\w./-])" + re.escape(part) + r"(?![\w/-]|\.\w)", lowered)
    ]
    return found[0] if len(set(found)) == 1 else None


def match_model(question: str, models: Sequence[TrackedModel]) -> ModelMatch:
    """The tracked model ``question`` names (repo id, earlier id, or a loose name).

    Returns a match with ``model`` set when one model fits best, with several ``candidates``
    when the best fits tie, and with neither when no tracked model is mentioned.
    """
    by_key = {m.repo_key: m for m in models}
    for model in models:
        for alias in model.aliases:
            by_key.setdefault(alias.alias_key, model)
    for repo_id in _REPO_ID.findall(question):
        found = by_key.get(repo_id.lower().rstrip("."))
        if found is not None:
            return ModelMatch(found, (found,), frozenset(name_tokens(found.repo_id)))
    spelled = _name_part(question, models)
    if spelled is not None:
        return ModelMatch(spelled, (spelled,), frozenset(name_tokens(spelled.repo_id)))
    tokens = name_tokens(question)
    scored = [
        s
        for m in models
        if (s := _score(tokens, m, [m.repo_id, *(a.alias for a in m.aliases)])) is not None
    ]
    # "qwen 2.5 3b" is not Qwen2.5-72B, even when that is the only Qwen tracked.
    scored = [
        s
        for s in scored
        if not all(
            _contradicts(tokens, name)
            for name in (s.model.repo_id, *(a.alias for a in s.model.aliases))
        )
    ]
    if not scored:
        return ModelMatch(None)
    top = max(s.score for s in scored)
    best = [s for s in scored if s.score == top]
    if len(best) > 1:
        # "mistral 7b instruct": of the tied names, one fully named beats longer ones.
        fewest = min(s.extra for s in best)
        if fewest == 0 and sum(1 for s in best if s.extra == 0) == 1:
            best = [s for s in best if s.extra == 0]
    if len(best) > 1:
        versioned = [s for s in best if _same_version(tokens, s.model.repo_id)]
        best = versioned or best
    if len(best) == 1:
        return ModelMatch(best[0].model, (best[0].model,), best[0].matched)
    ordered = sorted(best, key=lambda s: (s.extra, s.model.repo_id.lower()))
    matched = frozenset().union(*(s.matched for s in best))
    return ModelMatch(None, tuple(s.model for s in ordered), matched)


@dataclass(frozen=True)
class LicenseMention:
    terms: LicenseTerms
    matched: frozenset[str]


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def match_license(question: str, kb: KnowledgeBase) -> LicenseMention | None:
    """The knowledge-base license the question names by id, alias or name, if any.

    The longest mention wins ("cc by nc 4.0" over "cc"); generic words ("license") alone never
    name a license.
    """
    tokens = name_tokens(_plus(question))
    present = set(tokens)
    best: tuple[int, LicenseMention] | None = None
    for terms, needle, distinctive in _license_needles(kb):
        if not distinctive or not set(distinctive) <= present:
            continue  # cheap test first: every distinctive word must occur
        if not _contains(tokens, needle):
            # "Gemma Terms of Use" also counts as "gemma terms", "gemma license": the
            # distinctive part followed by a license word (alone it may name a model).
            if needle == distinctive or not any(
                _contains(tokens, [*distinctive, word]) for word in _LICENSE_WORDS
            ):
                continue
            needle = distinctive
        if len(needle) == 1 and len(needle[0]) < 3:
            continue  # "cc", "ms": too short to trust on their own
        if best is None or len(needle) > best[0]:
            best = (len(needle), LicenseMention(terms, frozenset(needle)))
    if best is None:
        # "the Apache license": a family word that only one license's name starts with.
        starts = _unique_first_words(kb)
        for token, following in itertools.pairwise(tokens):
            if token in starts and following in _LICENSE_WORDS:
                return LicenseMention(starts[token], frozenset([token]))
    return best[1] if best else None


@functools.cache
def _license_needles(kb: KnowledgeBase) -> tuple[tuple[LicenseTerms, list[str], list[str]], ...]:
    """Each license name, alias and id of ``kb`` as tokens, and its distinctive tokens."""
    found = []
    for terms in kb.all():
        for name in (terms.id, *terms.aliases, terms.name):
            needle = name_tokens(_plus(name))
            found.append((terms, needle, [t for t in needle if t not in _GENERIC_LICENSE]))
    return tuple(found)


def _plus(text: str) -> str:
    """Keep "++" as part of its word ("openrail++" is not "openrail")."""
    return text.replace("++", "pp")


@functools.cache
def _unique_first_words(kb: KnowledgeBase) -> dict[str, LicenseTerms]:
    firsts: dict[str, list[LicenseTerms]] = {}
    for terms in kb.all():
        words = [t for t in name_tokens(terms.name) if t not in _GENERIC_LICENSE]
        if words and words[0].isalpha() and len(words[0]) >= 4:
            firsts.setdefault(words[0], []).append(terms)
    return {word: found[0] for word, found in firsts.items() if len(found) == 1}


_SEGMENTS = re.compile(
    r"\s*(?:,|;|\band\b|\bvs\.?(?=\s)|\bversus\b|\bwith\b|\bfrom\b|\bor\b|\bto\b|\bagainst\b|"
    r"\bthan\b)\s*",
    re.IGNORECASE,
)


def licenses_named(
    question: str, kb: KnowledgeBase, models: Sequence[TrackedModel]
) -> list[LicenseTerms | TrackedModel]:
    """Every license (or tracked model, standing for its license) the question names, in order.

    The question is cut at "and", "vs", "or", commas...; each piece names at most one: a
    license by name first, else a tracked model.
    """
    found: list[LicenseTerms | TrackedModel] = []
    for piece in _SEGMENTS.split(question):
        if not piece.strip():
            continue
        mention = match_license(piece, kb)
        model = match_model(piece, models)
        named: LicenseTerms | TrackedModel | None = mention.terms if mention else None
        if model.model is not None and (mention is None or not model.matched <= mention.matched):
            named = model.model  # "deepseek r1" is the model, not the DeepSeek license
        if named is not None and named not in found:
            found.append(named)
    return found
