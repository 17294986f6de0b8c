"""Words of a question: typo repair for the cue words, and the people of the registry it names.

Typos are repaired only towards the assistant's own cue words ("aproved" -> "approved",
"revokd" -> "revoked", "licnese" -> "license"), and never on a word that is part of a tracked
model's name or a person's name, so repair cannot turn one model or person into another.
People are whoever the registry holds (requesters, deciders, approvers): never a fixed list.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable

_CUE_WORDS = frozenset(
    """
    approve approved approves approval approvals approver approvers approving reapproved
    reject rejected rejects rejection rejections rejecting revoke revoked revokes revocation
    revoking request requested requests requester requesting review reviewed expire expired
    expires expiry expiring expiration condition conditions conditional license licenses
    licensed licence licences history happened happen commercial commercially research
    internal internally pending decided decide decision decisions reason reasons because
    permission permitted allowed forbidden forbid prohibited outputs output improve compare
    comparison difference between openness quantization quantized quantize weights source
    training inference architecture components definition everything withdrawn withdraw
    declined denied timeline status standing attribution threshold restriction restrictions
    explain tell show list which models model whose somebody someone anybody anyone
    require requires required requirement requirements obligations
    """.split()  # noqa: SIM905
)
_WORD = re.compile(r"[A-Za-z]+")
# A word of this length or longer may be a typo of a cue word; shorter words are too ambiguous.
_MIN_LENGTH = 5
_CUTOFF = 0.82


@functools.lru_cache(maxsize=4096)
def _repair(word: str) -> str:
    close = difflib.get_close_matches(word, _CUE_WORDS, n=1, cutoff=_CUTOFF)
    return close[0] if close else word


def repair_typos(text: str, protected: Iterable[str] = ()) -> str:
    """``text`` with misspelled cue words replaced by the cue word they are closest to.

    ``protected`` words (lowercase: model-name tokens, person names) are left as they are.
    """
    keep = frozenset(protected)

    def fix(found: re.Match[str]) -> str:
        word = found.group(0)
        low = word.lower()
        if len(low) < _MIN_LENGTH or low in _CUE_WORDS or low in keep:
            return word
        return _repair(low)

    return _WORD.sub(fix, text)


_PERSON_TOKEN = re.compile(r"[\w.@\-]+")


# Names that are also words of questions ("May outputs...", "Will it expire?"): they name a
# person only where a name is expected ("did may approve", "by will", "may's requests").
_WORDLIKE = frozenset(
    """may will can must should would could might shall do does did is are was were has have
    use open free who what which when why how all any none grant mark bill pat rob sue""".split()  # noqa: SIM905
)


def _as_person(text: str, key: str) -> bool:
    if key not in _WORDLIKE:
        return True
    word = re.escape(key)
    return bool(
        re.search(rf"\b(did|has|have|had|by|from|of|for|and)\s+{word}\b|\b{word}'s\b", text, re.I)
    )


def people_named(text: str, people: Iterable[str]) -> list[str]:
    """The registry's people that ``text`` names (case-insensitive, "gina's" counts), in order.

    Returns names as the registry spells them.
    """
    by_key = {p.lower(): p for p in people if p}
    text = text.replace("\u2019", "'")
    found: list[str] = []
    for token in _PERSON_TOKEN.findall(text):
        key = token.lower().strip(".-@")  # "<@U04ABC123>": a Slack mention
        key = key.removesuffix("'s")
        person = by_key.get(key)
        if person is not None and person not in found and _as_person(text, key):
            found.append(person)
    return found
