"""What a question asks for: one of the registry's exact intents, or a free-form question.

Detection is by cue phrases, not by the language model: it must be instant and it must never
guess. The cues are broad on purpose ("who signed off on", "by whom", "okayed", "in review",
"what's new upstream"); a question that matches no exact intent goes to the grounded free-form
path, which says "I don't know" when the sources do not cover it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from governance.registry.models import IntendedUse


class Intent(StrEnum):
    APPROVAL_STATUS = "approval_status"  # is X approved (for which use, conditions, expiry, pin)
    APPROVER = "approver"  # who approved X and when
    LICENSE = "license"  # what does license L require / can X be used commercially
    CHANGES = "changes"  # what changed upstream for X and when
    APPROVED_FOR_USE = "approved_for_use"  # which models are approved (for a use)
    PENDING = "pending"  # what is pending or in review
    TRACKED = "tracked"  # which models are tracked
    FREE_FORM = "free_form"


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_APPROVER_WHO = _re(
    r"\bwho\b.{0,40}\b(approv\w*|sign\w* off|okay\w*|ok'?d|authori[sz]\w*|clear\w*|decid\w*|"
    r"grant\w*|green.?lit|allow\w*|reject\w*|revok\w*|request\w*|asked for|review\w*)|"
    r"\bby whom\b|\bwhose approval\b|\bwhich approver\b|\bapprover\b|\bdecided by\b"
)
_APPROVER_WHEN = _re(
    r"\bwhen\b.{0,60}\b(approv\w*|sign\w* off|okay\w*|clear\w*|green.?lit|reject\w*|revok\w*)|"
    r"\bapproval date\b|\bdate of (the )?approval\b|\bapproved when\b"
)
_EXPIRY = _re(r"\b(expir\w*|valid until|until when|run out|lapse\w*)\b")
_TRACKED = _re(r"\b(track\w*|watch\w*|monitor\w*|registry|registered)\b")
_PENDING = _re(
    r"\b(pending|awaiting|waiting|in review|under review|needs? (a )?review|needing review|"
    r"to (be )?review(ed)?|open requests?|outstanding|undecided|not (yet )?decided|backlog|"
    r"review queue|requests? (are )?open|unanswered)\b"
)
_CHANGES = _re(
    r"\b(chang\w*|updat\w*|modif\w*|diffs?|new (commit|revision|release)|upstream|"
    r"what'?s new|different now|edited|touched)\b"
)
# Without a model named, only these say "upstream changes" ("an updated policy" does not).
_CHANGES_ANY = _re(r"\b(upstream|changed|changes|what'?s new|new (commit|revision|release)s?)\b")
_LICENSE = _re(
    r"\b(licen[cs]\w*|terms|commercial\w*|requir\w*|obligat\w*|attribut\w*|restrict\w*|"
    r"paid|for.profit|monetiz\w*|sell\w*|revenue|redistribut\w*|notice|conditions of use|"
    r"open.source|osi|acceptable use|use policy|allowed to|permitted to|legal\w*|forbid\w*|"
    r"prohibit\w*|disallow\w*|bans?|say about|says about)\b"
)
_APPROVAL_WORD = _re(r"\b(approv\w*|sign\w* off|green.?lit|okay\w*|ok'?d|cleared)\b")
_APPROVAL = _re(
    r"\b(approv\w*|okay\w*|ok|cleared|allowed|permitted|sign\w* off|green.?lit|status|"
    r"standing|can (we|i|the team|my team) (still )?use|may (we|i) use|are we allowed|"
    r"expir\w*|pinned|revision|conditions?)\b"
)
_LIST = _re(
    r"\b(which|list|show|all|any|everything|what|how many)\b.{0,40}\bmodels?\b|"
    r"\bapproved models\b|"
    r"\bwhat (can|may) (we|i) use\b|\bmodels? (are|is) approved\b|\bapproved (ones|list)\b"
)
_USES = (
    (
        IntendedUse.COMMERCIAL,
        _re(
            r"\b(commercial\w*|paid|for.profit|monetiz\w*|sell\w*|revenue|customers?|"
            r"production|prod|product)\b"
        ),
    ),
    (IntendedUse.RESEARCH, _re(r"\b(research\w*|academic\w*|experiment\w*|study|studies)\b")),
    (IntendedUse.INTERNAL, _re(r"\b(internal\w*|in.house|employees?|staff)\b")),
)


@dataclass(frozen=True)
class Cues:
    """Which cue families a question contains; ``use`` is the intended use it names, if any."""

    approver: bool
    tracked: bool
    pending: bool
    changes: bool
    changes_any: bool
    license: bool
    approval_word: bool
    approval: bool
    listing: bool
    use: IntendedUse | None


def normalize_question(question: str) -> str:
    """Straight quotes, single spaces."""
    table = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
    return " ".join(question.translate(table).split())


def read_cues(question: str) -> Cues:
    """The cue families present in ``question``."""
    # "OSI-approved" is a property of a license, not a registry approval.
    text = re.sub(r"\bosi[- ]approved\b", "osi", normalize_question(question), flags=re.I)
    use = next((u for u, pattern in _USES if pattern.search(text)), None)
    return Cues(
        approver=bool(_APPROVER_WHO.search(text))
        or (bool(_APPROVER_WHEN.search(text)) and not _EXPIRY.search(text)),
        tracked=bool(_TRACKED.search(text)),
        pending=bool(_PENDING.search(text)),
        changes=bool(_CHANGES.search(text)),
        changes_any=bool(_CHANGES_ANY.search(text)),
        license=bool(_LICENSE.search(text)),
        approval_word=bool(_APPROVAL_WORD.search(text)),
        approval=bool(_APPROVAL.search(text)),
        listing=bool(_LIST.search(text)),
        use=use,
    )


def classify(cues: Cues, *, names_model: bool, names_license: bool) -> Intent:
    """The intent of a question with ``cues`` that names a tracked model and/or a license.

    ``names_model`` is true for one resolved model and for an ambiguous loose name alike.
    """
    if cues.approver and names_model:
        return Intent.APPROVER
    if cues.pending and not names_model:
        return Intent.PENDING
    if (cues.changes and names_model) or (cues.changes_any and not names_license):
        return Intent.CHANGES
    if cues.listing and cues.approval_word:
        return Intent.APPROVED_FOR_USE  # "which llama models are approved": filtered by name
    if cues.license and not cues.approval_word and (names_model or names_license):
        return Intent.LICENSE
    if (cues.approval or cues.pending) and names_model:
        return Intent.APPROVAL_STATUS
    if cues.listing and cues.approval and not names_model:
        return Intent.APPROVED_FOR_USE
    if cues.tracked and cues.listing and not names_model:
        return Intent.TRACKED
    return Intent.FREE_FORM
