"""The team policy's rules: names, value parsing and the stored configuration.

Each rule is one ``PolicySetting`` row (key -> JSON value). An unset rule is not checked.
Rule names are written with hyphens (``denied-licenses``); underscores are accepted too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.core.errors import InvalidInput
from governance.licenses.knowledge import KnowledgeBase, load_knowledge_base
from governance.licenses.models import PolicySetting
from governance.registry.validation import shorten

# The seed's spectrum, least open first; ``min-openness`` takes one of the short names.
OPENNESS_LEVELS = ("closed", "restricted", "open-weights", "fully-open")
SPECTRUM_LEVEL = {
    "gated or closed": "closed",
    "restricted weights": "restricted",
    "open weights": "open-weights",
    "fully open": "fully-open",
}
MAX_DAYS_LIMIT = 3650
# ``derivatives``: whether an approved base covers its quantized copies and adapters.
DERIVATIVE_MODES = ("inherit", "review")
DEFAULT_DERIVATIVES = "review"
# ASCII only: str.isdigit() and int() also take Arabic-Indic, fullwidth and other digits.
_ASCII_DAYS = re.compile(r"[0-9]+")
_TRUE = {"on", "true", "yes", "1", "required", "deny"}
_FALSE = {"off", "false", "no", "0"}


@dataclass(frozen=True)
class Rule:
    name: str
    summary: str
    example: str
    parse: Callable[[list[str], KnowledgeBase], Any]


def _flag(name: str) -> Callable[[list[str], KnowledgeBase], bool]:
    def parse(words: list[str], _kb: KnowledgeBase) -> bool:
        word = " ".join(words).strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise InvalidInput(f"{name} takes on or off, not {shorten(' '.join(words))}.")

    return parse


def _licenses(words: list[str], kb: KnowledgeBase) -> list[str]:
    names = [w.strip() for word in words for w in word.split(",") if w.strip()]
    if not names:
        raise InvalidInput("Name at least one license id, e.g. apache-2.0,mit.")
    return list(dict.fromkeys(kb.get(name).id for name in names))  # NotFound suggests ids


def _openness(words: list[str], _kb: KnowledgeBase) -> str:
    word = " ".join(words).strip().lower().replace(" ", "-").replace("_", "-")
    if word not in OPENNESS_LEVELS:
        raise InvalidInput(
            f"min-openness takes one of {', '.join(OPENNESS_LEVELS)}, "
            f"not {shorten(' '.join(words))}."
        )
    return word


def _days(words: list[str], _kb: KnowledgeBase) -> int:
    word = " ".join(words).strip().lower().removesuffix("d").removesuffix(" days")
    if not _ASCII_DAYS.fullmatch(word) or not 1 <= int(word) <= MAX_DAYS_LIMIT:
        raise InvalidInput(
            f"max-approval-days takes a number of days from 1 to {MAX_DAYS_LIMIT}, "
            f"not {shorten(' '.join(words))}."
        )
    return int(word)


def _derivatives(words: list[str], _kb: KnowledgeBase) -> str:
    word = " ".join(words).strip().lower()
    if word not in DERIVATIVE_MODES:
        raise InvalidInput(
            f"derivatives takes inherit or review, not {shorten(' '.join(words))}: inherit lets "
            "an approved base cover its quantized copies and adapters for the same use; review "
            "(the default) asks for their own approval."
        )
    return word


RULES: tuple[Rule, ...] = (
    Rule(
        "allowed-licenses",
        "only these licenses may be approved",
        "apache-2.0,mit",
        _licenses,
    ),
    Rule("denied-licenses", "these licenses are never approved", "cc-by-nc-4.0", _licenses),
    Rule(
        "commercial-use",
        "commercial requests need a license that permits commercial use",
        "on",
        _flag("commercial-use"),
    ),
    Rule(
        "deny-output-restrictions",
        "refuse licenses that forbid using outputs to improve other models (for teams that distil)",
        "on",
        _flag("deny-output-restrictions"),
    ),
    Rule(
        "min-openness",
        "the least open spectrum label allowed (closed, restricted, open-weights, fully-open)",
        "open-weights",
        _openness,
    ),
    Rule(
        "license-text-required",
        "the repository must carry a readable LICENSE text",
        "on",
        _flag("license-text-required"),
    ),
    Rule(
        "max-approval-days",
        "approvals expire after at most this many days (caps --expires)",
        "365",
        _days,
    ),
    Rule(
        "derivatives",
        "inherit: an approved base covers its quantized copies and adapters for the same use; "
        "review (default): each derivative needs its own approval, its base's shown beside it",
        "inherit",
        _derivatives,
    ),
    Rule(
        "dry-run",
        "report policy failures without blocking approvals or moving them to review",
        "on",
        _flag("dry-run"),
    ),
)
RULE_NAMES = tuple(r.name for r in RULES)


def find_rule(name: str) -> Rule:
    """The rule called ``name`` (hyphens or underscores, any case); InvalidInput otherwise."""
    key = name.strip().lower().replace("_", "-")
    for rule in RULES:
        if rule.name == key:
            return rule
    raise InvalidInput(f"Unknown policy rule {shorten(name)}; the rules: {', '.join(RULE_NAMES)}.")


def parse_value(rule: Rule, words: list[str], *, kb: KnowledgeBase | None = None) -> Any:
    """The JSON value ``words`` give ``rule``; raises InvalidInput or NotFound (license ids)."""
    if not words or not " ".join(words).strip():
        raise InvalidInput(
            f"{rule.name} needs a value, e.g. `policy set {rule.name} {rule.example}`."
        )
    return rule.parse(words, kb or load_knowledge_base())


@dataclass(frozen=True)
class Policy:
    """The team policy as stored; ``None``/empty means the rule is not set."""

    allowed_licenses: tuple[str, ...] = ()
    denied_licenses: tuple[str, ...] = ()
    commercial_use: bool = False
    deny_output_restrictions: bool = False
    min_openness: str | None = None
    license_text_required: bool = False
    max_approval_days: int | None = None
    dry_run: bool = False
    derivatives: str = DEFAULT_DERIVATIVES  # inherit | review

    @property
    def empty(self) -> bool:
        """True when no rule that checks a model is set (dry-run and derivatives alone check
        nothing: the latter says which approval covers a derivative)."""
        return self == Policy(dry_run=self.dry_run, derivatives=self.derivatives)

    @property
    def inherit(self) -> bool:
        """True when an approved base covers its quantized copies and adapters."""
        return self.derivatives == "inherit"


def settings_by_rule(session: Session) -> dict[str, PolicySetting]:
    """The stored rows of known rules, by rule name."""
    rows = session.scalars(select(PolicySetting).where(PolicySetting.key.in_(RULE_NAMES)))
    return {row.key: row for row in rows}


def load_policy(session: Session) -> Policy:
    """The team policy from the database (rules not set take their defaults)."""
    values = {key: row.value for key, row in settings_by_rule(session).items()}
    return Policy(
        allowed_licenses=tuple(values.get("allowed-licenses") or ()),
        denied_licenses=tuple(values.get("denied-licenses") or ()),
        commercial_use=bool(values.get("commercial-use", False)),
        deny_output_restrictions=bool(values.get("deny-output-restrictions", False)),
        min_openness=values.get("min-openness"),
        license_text_required=bool(values.get("license-text-required", False)),
        max_approval_days=values.get("max-approval-days"),
        dry_run=bool(values.get("dry-run", False)),
        derivatives=str(values.get("derivatives") or DEFAULT_DERIVATIVES),
    )


def describe(value: Any) -> str:
    """A stored value as people write it."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
