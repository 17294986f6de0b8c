"""A question read once for the exact path: its cues, the models, licenses, people, dates.

The registry is read with a few queries (tracked models with their aliases, the people who
requested or decided, the approvers); approvals load later, per model or by query, only when
an answer needs them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.assistant import listings
from governance.assistant.exact import ExactAnswer
from governance.assistant.exact_cues import ExtraCues, read_extra_cues
from governance.assistant.exact_time import Window, window_of
from governance.assistant.exact_words import people_named, repair_typos
from governance.assistant.intents import Cues, read_cues
from governance.assistant.resolve import (
    LicenseMention,
    ModelMatch,
    match_license,
    match_model,
    name_tokens,
)
from governance.assistant.sources import tracked_models
from governance.core.config import Settings
from governance.licenses.knowledge import load_knowledge_base
from governance.registry.models import Approval, Approver, TrackedModel
from governance.upstream.hub import HubClient

_REPO_LIKE = re.compile(r"\b([A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*[A-Za-z0-9])")


@dataclass(frozen=True)
class HubSizing:
    """What hardware-fit answers read: the Hub client and the team's machines setting
    (``MODELGOV_HARDWARE_PROFILES``, parsed when a question needs it)."""

    hub: HubClient
    profiles: str | None


@dataclass(frozen=True)
class Asked:
    """One question, read once: its cues, the models, licenses, people and dates it names."""

    text: str
    fixed: str  # cue words' typos repaired
    cues: Cues
    extra: ExtraCues
    match: ModelMatch
    mention: LicenseMention | None
    people: tuple[str, ...]
    untracked: tuple[str, ...]
    models: list[TrackedModel]
    today: date
    hub: str
    sizing: HubSizing | None = None  # None: no Hub client, so no hardware-fit answers

    @property
    def model(self) -> TrackedModel | None:
        return self.match.model

    @property
    def names_model(self) -> bool:
        return self.match.model is not None or self.match.ambiguous

    def window(self, *, future: bool = False) -> Window | None:
        return window_of(self.fixed, self.today, future=future)


@dataclass(frozen=True)
class Routed:
    intent: str
    result: ExactAnswer
    kind: str = "exact"
    candidates: tuple[str, ...] = ()


Recogniser = Callable[[Session, Asked], Routed | None]


def _people(session: Session, settings: Settings) -> set[str]:
    """Everyone the registry knows: requesters, deciders, approvers (configured and stored)."""
    rows = session.execute(select(Approval.requested_by, Approval.decided_by).distinct())
    found = {name for row in rows for name in row if name}
    found |= set(settings.approvers)
    found |= set(session.scalars(select(Approver.principal)))
    return found


def read_question(
    session: Session,
    text: str,
    *,
    today: date,
    settings: Settings,
    hub: HubClient | None = None,
) -> tuple[Asked, set[str]]:
    """Read ``text`` against the registry; returns the reading and the registry's people.

    ``hub``: the client hardware-fit answers read the Hub with (None: they are not given)."""
    models = tracked_models(session, with_approvals=False)
    people = _people(session, settings)
    protected = {t for m in models for t in name_tokens(m.repo_id)} | {p.lower() for p in people}
    protected |= {t for m in models for a in m.aliases for t in name_tokens(a.alias)}
    fixed = repair_typos(text, protected)
    repo_ids = [r.rstrip(".") for r in _REPO_LIKE.findall(text) if not r.startswith("http")]
    known = {m.repo_id.lower() for m in models} | {
        a.alias.lower() for m in models for a in m.aliases
    }
    untracked = tuple(r for r in repo_ids if r.lower() not in known)
    match = match_model(text, models)
    named_tokens = {t for r in untracked for t in name_tokens(r)}
    if untracked and len(untracked) == len(repo_ids) and match.matched <= named_tokens:
        # The loose match came only from an untracked full repo id: a tracked look-alike
        # (deepseek-llm-7b-base vs DeepSeek-V3, a GGUF of a tracked base) is another model,
        # and answering about it would state facts of the wrong model.
        match = ModelMatch(None)
    asked = Asked(
        text=text,
        fixed=fixed,
        cues=read_cues(fixed),
        extra=read_extra_cues(fixed),
        match=match,
        mention=match_license(text, load_knowledge_base()),
        people=tuple(people_named(text, people)),
        untracked=untracked,
        models=models,
        today=today,
        hub=settings.hub_endpoint,
        sizing=HubSizing(hub, settings.hardware_profiles) if hub is not None else None,
    )
    return asked, people


def clarify(asked: Asked, intent: str) -> Routed:
    found = asked.match.candidates
    return Routed(intent, listings.clarify(found), "clarify", tuple(m.repo_id for m in found))


def one_model(asked: Asked, intent: str, run: Callable[[TrackedModel], ExactAnswer]) -> Routed:
    if asked.model is None:
        return clarify(asked, intent)
    return Routed(intent, run(asked.model))
