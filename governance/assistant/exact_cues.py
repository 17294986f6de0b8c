"""Cue families of the registry's decision, listing, license and concept questions.

Like ``intents``, recognition is by cue phrases, never by the language model. These families
extend the basic ones: which registry action a question is about ("rejected", "turned down",
"pulled"), whether it asks why, for a history, for an openness verdict, for a comparison, for
one license permission, and whether it touches the domain at all (else it is declined).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Registry actions, by the audit trail's action names.
_ACTIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("requested", _re(r"\b(request\w*|asked for|ask(ed)? to use|submit\w*|fil(ed|ing)|propos\w*)")),
    (
        "approved",
        _re(
            r"\b(approv\w*|sign\w* off|okay\w*|ok'?d|green.?li(t|ght)\w*|authori[sz]\w*|"
            r"go.?ahead|thumbs.?up)"
        ),
    ),
    (
        "rejected",
        _re(
            r"\b(reject\w*|declin\w*|turn\w* down|denied|deny|refus\w*|disapprov\w*|"
            r"said no|say no|says no|nixed|vetoed)"
        ),
    ),
    ("revoked", _re(r"\b(revok\w*|revocation|withdr[ae]w\w*|pulled|rescind\w*|cancel\w*)")),
    (
        "needs_review",
        _re(
            r"\b(in review|under review|needs? (a )?review|needing review|(put|moved|sent|back) "
            r"(in|into|to|under) review|re-?review|flagged)"
        ),
    ),
    ("expired", _re(r"\b(expir\w*|lapse\w*|run out|ran out|valid until)\b")),
)
_APPROVE_VERB = _re(
    r"\b(approv(e|ed|es|ing)|re-?approv\w*|sign\w* off|okay\w*|ok'?d|green.?li(t|ght)\w*|"
    r"authori[sz]\w*|go.?ahead|thumbs.?up)"
)
_DECIDE = _re(r"\b(decid\w*|decision\w*|rul(ed|ing) on|judg\w*|act(ed)? on|sign\w* off on)\b")

WHY = _re(
    r"\bwhy\b|\breasons?\b|\bhow come\b|\bon what grounds\b|\brationale\b|\bjustif\w*|"
    r"\bwhat (put|caused|triggered|moved|sent|led to|made)\b|"
    r"\bwhat (was|is) behind\b|\bexplain (the |its )?(rejection|revocation|review|decision)"
)
HISTORY = _re(
    r"\bwhat('s| has| have)? happen\w*|\bhistory\b|\btimeline\b|\bstory\b|\baudit( trail)?\b|"
    r"\bwhat went on\b|\bchronolog\w*|\bevents?\b|\bfrom start to finish\b|\blife ?cycle\b"
)
OPENNESS = _re(
    r"\bopenness\b|\bhow open\b|\bosaid\b|\bmof\b|\bmodel openness\b|\bopen.source ai\b|"
    r"\bopen.weights?\b|\bfully open\b|\bopen.?source\b|\bspectrum\b|\btruly open\b"
)
COMPARE = _re(
    r"\bcompar\w*|\bvs\.?(?=\s)|\bversus\b|\bdiffer\w*|\bdistinguish\w*|\bcontrast\w*|"
    r"\bside by side\b|\bstack up\b|\bbetween\b.+\band\b|\b(more|less) (permissive|"
    r"restrictive|open)\b|\bstricter\b|\blooser\b|\bthan\b"
)
SPLIT = _re(r"\s*(?:,|;|\band\b|\bvs\.?(?=\s)|\bversus\b|\bwith\b|\bfrom\b|\bor\b|\bto\b)\s*")
LISTING = _re(
    r"\b(list|show|which|what|everything|all|any|anything|how many|tell me|give me|name|"
    r"enumerate|models)\b"
)
CONDITIONS = _re(
    r"\b(conditions?|strings attached|caveats?|constraints?|terms of (the )?approval|"
    r"attach\w*|imposed?|(did|do) we (set|put|add))"
)
# A question about whether something is permitted ("may", "can", "allowed to", "forbid").
PERMISSION = _re(
    r"\b(may|can|could|allowed|permitted|permits?|permission|forbid\w*|prohibit\w*|ok to|"
    r"okay to|legal to|bans?|banned|lets?|allow\w*|need to|have to|must|required)\b"
)

# Permission topics: each names the knowledge-base field that answers it.
TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "outputs",
        _re(
            r"\b(outputs?|generations?|generated (text|data|content)|synthetic data|distil\w*|"
            r"(train|improve|fine.?tune|build)\w* (an?other|other|a different|competing|our own|"
            r"a new|new|rival) (llm|model|ai)s?)"
        ),
    ),
    ("naming", _re(r"\b(nam(e|ed|es|ing)|call(ed)?|renam\w*|brand\w*)\b")),
    ("attribution", _re(r"\b(attribut\w*|credit\w*|built with|acknowledg\w*|display\w*)")),
    ("geography", _re(r"\b(eu|e\.u\.|europe\w*|countr\w*|geograph\w*|region\w*|china|prc)\b")),
    ("threshold", _re(r"\b(users?|mau|monthly active|700 million|100 million|user count)\b")),
    ("research", _re(r"\b(research.only|only for research|non.?commercial|academic only)\b")),
    ("derivatives", _re(r"\b(modif\w*|fine.?tun\w*|derivativ\w*|adapt\w*|merge\w*|quantiz\w*)")),
    ("redistribution", _re(r"\b(redistribut\w*|distribut\w*|share|sharing|ship\w*|host\w*)\b")),
    ("military", _re(r"\b(military|weapons?|warfare|surveillance|law enforcement)\b")),
    (
        "commercial",
        _re(r"\b(commercial\w*|sell\w*|sold|sales?|paid|monetiz\w*|for.profit|revenue)\b"),
    ),
)

# Words that put a question in the assistant's domain; a question with none of them, naming no
# model, license or person, is declined without retrieval or the model.
DOMAIN = _re(
    r"\b(models?|llms?|ai|licen[cs]\w*|approv\w*|request\w*|reject\w*|revok\w*|review\w*|"
    r"expir\w*|pending|registry|track\w*|watch\w*|upstream|hub|hugging ?face|weights?|"
    r"open|source|osi|osaid|mof|train\w*|datasets?|data|inference|quantiz\w*|commercial\w*|"
    r"research|internal|polic\w*|terms|attribut\w*|outputs?|fine.?tun\w*|gguf|checkpoints?|"
    r"releases?|revisions?|commits?|gat(ed|ing)|notice|restrict\w*|use|used|using|usage|"
    r"conditions?|decid\w*|decision\w*|who|permi\w*|allowed|compar\w*|llama|mistral|gemma|"
    r"qwen|deepseek|phi|falcon|diffusion|bert|gpt|embedding\w*|parameters?|transformers?)\b"
)


def actions_asked(text: str) -> frozenset[str]:
    """The registry actions ``text`` is about; "decide" stands for every decision."""
    found = {action for action, pattern in _ACTIONS if pattern.search(text)}
    if "approved" in found and len(found) > 1 and not _APPROVE_VERB.search(text):
        found.discard("approved")  # "who pulled the approval": the noun names no approving
    if _DECIDE.search(text):
        found |= {"approved", "reapproved", "rejected", "revoked"}
    if {"approved", "rejected"} <= found:  # "approved or rejected": their decisions
        found |= {"revoked"}
    if "approved" in found:
        found.add("reapproved")
    return frozenset(found)


def topics_asked(text: str) -> tuple[str, ...]:
    """The permission topics ``text`` asks about, in the order of ``TOPICS``."""
    return tuple(name for name, pattern in TOPICS if pattern.search(text))


@dataclass(frozen=True)
class ExtraCues:
    """The extended cue families present in one question."""

    actions: frozenset[str]
    why: bool
    history: bool
    openness: bool
    compare: bool
    listing: bool
    conditions: bool
    permission: bool
    topics: tuple[str, ...]
    in_domain: bool


def read_extra_cues(text: str) -> ExtraCues:
    """The extended cue families in ``text`` (already typo-repaired)."""
    return ExtraCues(
        actions=actions_asked(text),
        why=bool(WHY.search(text)),
        history=bool(HISTORY.search(text)),
        openness=bool(OPENNESS.search(text)),
        compare=bool(COMPARE.search(text)),
        listing=bool(LISTING.search(text)),
        conditions=bool(CONDITIONS.search(text)),
        permission=bool(PERMISSION.search(text)),
        topics=topics_asked(text),
        in_domain=bool(DOMAIN.search(text)),
    )
