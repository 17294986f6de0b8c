"""A registry generated from a seed, built through the real services, with its truth recorded.

``plan(seed)`` decides everything (people, models, stories of requests and decisions, upstream
changes, dates) without touching a database and returns the intended ``Truth`` plus the steps
that realise it. ``build(services, steps)`` runs the steps in time order through the registry
service, the upstream apply path (a recheck outcome whose gating moved) and the expiry job,
with the FrozenClock advanced to each step's time. ``verify`` then checks that the database
agrees with the truth, so a generator bug cannot pass for a product bug (or the reverse).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.core.db import transaction
from governance.flows.decide_with_policy import approve
from governance.flows.snapshots import apply_outcome
from governance.licenses.knowledge import load_knowledge_base
from governance.registry.decisions import reject, revoke
from governance.registry.models import Approval, AuditEvent, IntendedUse
from governance.registry.requests import request_approval
from governance.registry.tracking import find_model
from governance.upstream.facts import facts_from_row
from governance.upstream.fetch import FetchOutcome, WatchTarget
from governance.upstream.hub import RepoFile, RepoFiles, RepoStatus
from governance.upstream.models import Snapshot, WatchState
from governance.upstream.service import watch
from governance.wiring.contexts import watch_context
from governance.wiring.scheduler import expiry_job
from governance.wiring.services import Services, build_services
from tests.eval import catalog
from tests.eval.truth import ApprovalTruth, Event, ModelTruth, Truth, UpstreamChange

START = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
USES = ("research", "internal", "commercial")
TARGETS = (
    ("requested", 3),
    ("approved", 5),
    ("rejected", 3),
    ("revoked", 2),
    ("expired", 2),
)


@dataclass(order=True)
class Step:
    """One thing to do at one time; ``run`` does it through the services."""

    at: datetime
    order: int
    label: str = field(compare=False)
    run: Callable[[Services], None] = field(compare=False, repr=False)


@dataclass
class Plan:
    truth: Truth
    steps: list[Step]


class _Timeline:
    """Distinct event times (working hours, quarter hours) so the audit order is the plan's."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[datetime] = set()

    def at(self, day: datetime) -> datetime:
        moment = day.replace(hour=self.rng.randint(8, 17), minute=15 * self.rng.randint(0, 3))
        while moment in self.used:
            moment += timedelta(minutes=5)
        self.used.add(moment)
        return moment

    def after(self, moment: datetime, lo: int, hi: int) -> datetime:
        return self.at(moment + timedelta(days=self.rng.randint(lo, hi)))


def _sha(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


def _card_license(license_id: str) -> tuple[str, str | None]:
    """The card's (license, license_name) for a knowledge-base id: Hub ids directly, others as
    ``other`` with a license_name, the way vendor licenses appear on the Hub."""
    if license_id in load_knowledge_base().hub_ids():
        return license_id, None
    return "other", license_id


@dataclass
class _Draft:
    """An approval story before times are final: what should happen to it."""

    repo_id: str
    use: str
    requester: str
    reason: str
    story: list[tuple[str, datetime, dict[str, Any]]] = field(default_factory=list)


def plan(seed: int) -> Plan:
    """Everything the generated registry will hold for ``seed`` (deterministic)."""
    rng = random.Random(seed)
    times = _Timeline(rng)
    people = rng.sample(catalog.PEOPLE, 11)
    approvers, requesters = tuple(sorted(people[:3])), tuple(sorted(people[3:]))
    chosen = rng.sample(catalog.MODELS, 24)
    expire_job = NOW - timedelta(days=1, hours=1)
    latest = NOW - timedelta(days=3)
    models: dict[str, ModelTruth] = {}
    drafts: list[_Draft] = []
    tracked_only = chosen[-2:]
    for index, entry in enumerate(chosen):
        t0 = times.at(START + timedelta(days=rng.randint(0, 200)))
        tracker = rng.choice(requesters)
        models[entry.repo_id] = ModelTruth(entry.repo_id, entry.license, entry.loose, t0, tracker)
        if entry in tracked_only:
            continue
        review = index % 4 == 1  # a quarter of the models change upstream after approval
        uses = rng.sample(USES, rng.choice((1, 1, 2, 2, 3)))
        decided_last = t0
        for use in uses:
            requester = rng.choice(requesters if rng.random() > 0.15 else approvers)
            deciders = [a for a in approvers if a != requester]
            reason = rng.choice(catalog.REQUEST_REASONS)[0]
            draft = _Draft(entry.repo_id, use, requester, reason)
            requested = times.after(t0, 1, 60)
            draft.story.append(("requested", requested, {}))
            target = "approved" if review else _weighted(rng, TARGETS)
            if target == "requested":
                drafts.append(draft)
                continue
            decided = times.after(requested, 1, 20)
            decider = rng.choice(deciders)
            if target == "rejected":
                draft.story.append(
                    (
                        "rejected",
                        decided,
                        {"actor": decider, "reason": rng.choice(catalog.REJECT_REASONS)},
                    )
                )
                drafts.append(draft)
                if rng.random() < 0.35:  # asked again later, by someone else
                    again = _Draft(
                        entry.repo_id,
                        use,
                        rng.choice([r for r in requesters if r != requester]),
                        rng.choice(catalog.REQUEST_REASONS)[0],
                    )
                    again.story.append(("requested", times.after(decided, 2, 30), {}))
                    drafts.append(again)
                continue
            conditions = rng.choice(catalog.CONDITIONS) if rng.random() < 0.6 else None
            expires: date | None = None
            if target == "expired":
                expires = (decided + timedelta(days=rng.randint(20, 60))).date()
                if expires >= expire_job.date():
                    target, expires = "approved", None
            if target != "expired" and rng.random() < 0.45:
                expires = NOW.date() + timedelta(days=rng.randint(20, 400))
            draft.story.append(
                (
                    "approved",
                    decided,
                    {"actor": decider, "conditions": conditions, "expires": expires},
                )
            )
            decided_last = max(decided_last, decided)
            if target == "revoked":
                revoked = times.after(decided, 5, 60)
                draft.story.append(
                    (
                        "revoked",
                        revoked,
                        {
                            "actor": rng.choice(approvers),
                            "reason": rng.choice(catalog.REVOKE_REASONS),
                        },
                    )
                )
            drafts.append(draft)
        if review:
            change_at = times.after(decided_last, 3, 30)
            gated = rng.choice(("manual", "auto"))
            models[entry.repo_id].changes.append(
                UpstreamChange(change_at, entry.repo_id, "gating_changed", "false", gated)
            )
            models[entry.repo_id].gated = gated
            # What approvers then do with the approvals in review: some re-approve, some revoke.
            for draft in drafts:
                if draft.repo_id != entry.repo_id or draft.story[-1][0] != "approved":
                    continue
                roll = rng.random()
                decider = rng.choice([a for a in approvers if a != draft.requester])
                if roll < 0.3:
                    conditions = rng.choice(catalog.CONDITIONS) if rng.random() < 0.5 else None
                    draft.story.append(
                        (
                            "reapproved",
                            times.after(change_at, 1, 10),
                            {"actor": decider, "conditions": conditions, "expires": None},
                        )
                    )
                elif roll < 0.5:
                    draft.story.append(
                        (
                            "revoked",
                            times.after(change_at, 1, 10),
                            {
                                "actor": rng.choice(approvers),
                                "reason": rng.choice(catalog.REVOKE_REASONS),
                            },
                        )
                    )
    _clamp(drafts, models, latest)
    return _realise(seed, approvers, requesters, models, drafts, expire_job)


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _clamp(drafts: list[_Draft], models: dict[str, ModelTruth], latest: datetime) -> None:
    """Drop story steps that would fall after ``latest`` (the story ends earlier instead)."""
    for draft in drafts:
        draft.story = [s for s in draft.story if s[1] <= latest] or draft.story[:1]
        if draft.story[0][1] > latest:
            draft.story[0] = ("requested", latest - timedelta(hours=len(drafts)), {})
    for model in models.values():
        model.changes = [c for c in model.changes if c.at <= latest]
        if not model.changes:
            model.gated = "false"


def _realise(
    seed: int,
    approvers: tuple[str, ...],
    requesters: tuple[str, ...],
    models: dict[str, ModelTruth],
    drafts: list[_Draft],
    expire_job: datetime,
) -> Plan:
    """Number the requests in time order, simulate the registry's rules into the truth, and
    turn it into steps."""
    drafts.sort(key=lambda d: d.story[0][1])
    approvals = [
        ApprovalTruth(n, d.repo_id, d.use, d.requester, d.story[0][1], d.reason)
        for n, d in enumerate(drafts, start=1)
    ]
    actions: list[tuple[datetime, str, Any]] = []
    for approval, draft in zip(approvals, drafts, strict=True):
        for action, at, data in draft.story:
            actions.append((at, action, (approval, data)))
    for model in models.values():
        for change in model.changes:
            actions.append((change.at, "upstream", change))
    # The hourly expiry job: its first run after each expiry date, and one near the end.
    job_days = {
        d.story[1][2]["expires"]
        for d in drafts
        if len(d.story) > 1 and d.story[1][2].get("expires")
    }
    for day in sorted(day for day in job_days if day < expire_job.date()):
        actions.append(
            (datetime.combine(day + timedelta(days=1), time(1, 0), UTC), "expire_job", None)
        )
    actions.append((expire_job, "expire_job", None))
    actions.sort(key=lambda a: a[0])
    truth = Truth(seed, NOW, approvers, requesters, models, approvals)
    steps: list[Step] = []
    for model in sorted(models.values(), key=lambda m: m.tracked_at):
        steps.append(
            Step(model.tracked_at, len(steps), f"track {model.repo_id}", _track(model, seed))
        )
    for at, action, payload in actions:
        if action == "upstream":
            _simulate_review(truth, payload)
            steps.append(
                Step(at, len(steps), f"upstream {payload.repo_id}", _upstream(payload, truth, seed))
            )
        elif action == "expire_job":
            _simulate_expiry(truth, at)
            steps.append(Step(at, len(steps), "expiry job", jobs_expire))
        else:
            approval, data = payload
            _simulate(approval, action, at, data)
            steps.append(
                Step(
                    at, len(steps), f"{action} #{approval.number}", _decide(approval, action, data)
                )
            )
    steps.sort()
    return Plan(truth, steps)


def _simulate(approval: ApprovalTruth, action: str, at: datetime, data: dict[str, Any]) -> None:
    """What the registry's rules make of one action (mirrors governance.registry.decisions)."""
    actor = data.get("actor", approval.requester)
    if action == "requested":
        approval.events.append(
            Event(
                at,
                approval.requester,
                "requested",
                approval.number,
                approval.repo_id,
                approval.use,
                approval.reason or None,
            )
        )
        return
    if action in ("approved", "reapproved"):
        if action == "reapproved" and approval.state != "needs_review":
            return  # nothing to re-approve (an earlier step did not happen); the step is dropped
        approval.state = "approved"
        approval.conditions = data["conditions"]
        approval.expires_on = data["expires"]
        approval.decided_by, approval.decided_at = actor, at
        approval.events.append(
            Event(
                at,
                actor,
                action,
                approval.number,
                approval.repo_id,
                approval.use,
                data["conditions"],
                data["expires"],
            )
        )
        data["done"] = True
        return
    if action in ("rejected", "revoked"):
        if action == "revoked" and approval.state not in ("approved", "needs_review"):
            return
        approval.state = action
        approval.decided_by, approval.decided_at = actor, at
        approval.decision_reason = data["reason"]
        approval.events.append(
            Event(
                at, actor, action, approval.number, approval.repo_id, approval.use, data["reason"]
            )
        )
        data["done"] = True


def _simulate_review(truth: Truth, change: UpstreamChange) -> None:
    for approval in truth.of_model(change.repo_id):
        if approval.state == "approved":
            approval.state = "needs_review"
            approval.events.append(
                Event(
                    change.at,
                    catalog.SYSTEM_ACTOR,
                    "needs_review",
                    approval.number,
                    approval.repo_id,
                    approval.use,
                    change.kind,
                )
            )


def _simulate_expiry(truth: Truth, at: datetime) -> None:
    for approval in truth.approvals:
        if (
            approval.state in ("approved", "needs_review")
            and approval.expires_on
            and approval.expires_on < at.date()
        ):
            approval.state = "expired"
            approval.events.append(
                Event(
                    at,
                    catalog.SYSTEM_ACTOR,
                    "expired",
                    approval.number,
                    approval.repo_id,
                    approval.use,
                )
            )


# ---------------------------------------------------------------------------- steps


def _status(model: ModelTruth, seed: int, gated: str) -> RepoStatus:
    card, name = _card_license(model.license)
    return RepoStatus(
        requested_id=model.repo_id,
        repo_id=model.repo_id,
        sha=_sha(seed, model.repo_id),
        last_modified=model.tracked_at - timedelta(days=30),
        created_at=model.tracked_at - timedelta(days=90),
        gated=gated,  # type: ignore[arg-type]
        disabled=False,
        private=False,
        license=card,
        license_name=name,
        license_link=None,
        license_tags=(card,),
        base_model=(),
        new_version=None,
        tags=(f"license:{card}",),
    )


def _files(model: ModelTruth, seed: int) -> RepoFiles:
    sha = _sha(seed, model.repo_id)
    files = (
        RepoFile("config.json", 700, _sha(sha, "config"), None),
        RepoFile(
            "model.safetensors", 4_000_000_000, _sha(sha, "weights"), _sha(sha, "lfs") + "0" * 24
        ),
        RepoFile("README.md", 5_000, _sha(sha, "readme"), None),
    )
    return RepoFiles(model.repo_id, sha, files, ())


def _advance(services: Services, at: datetime) -> None:
    clock = services.clock
    assert isinstance(clock, FrozenClock)
    delta = (at - clock.now()).total_seconds()
    if delta < 0:
        raise RuntimeError(f"the plan goes back in time to {at}")
    clock.advance(seconds=delta)


def _check(
    services: Services, model_repo: str, status: RepoStatus, files: RepoFiles | None
) -> None:
    """One recheck outcome recorded through the watcher's apply path."""
    ctx = watch_context(services)
    with transaction(services.session_factory) as session:
        model = find_model(session, model_repo)
        assert model is not None
        state = session.get(WatchState, model.id)
        previous = None
        if state is not None and state.latest_snapshot_id is not None:
            row = session.get(Snapshot, state.latest_snapshot_id)
            previous = facts_from_row(row) if row is not None else None
        target = WatchTarget(model.id, model.repo_id, previous)
        apply_outcome(session, ctx, FetchOutcome(target, status=status, files=files), None)


def _track(model: ModelTruth, seed: int) -> Callable[[Services], None]:
    def run(services: Services) -> None:
        with transaction(services.session_factory) as session:
            watch(session, repo_id=model.repo_id, actor=model.tracked_by, clock=services.clock)
        services.clock.advance(minutes=1)  # type: ignore[attr-defined]
        _check(services, model.repo_id, _status(model, seed, "false"), _files(model, seed))

    return run


def _upstream(change: UpstreamChange, truth: Truth, seed: int) -> Callable[[Services], None]:
    model = truth.models[change.repo_id]

    def run(services: Services) -> None:
        _check(services, change.repo_id, _status(model, seed, change.after), None)

    return run


def jobs_expire(services: Services) -> None:
    expiry_job(services)


def _decide(
    approval: ApprovalTruth, action: str, data: dict[str, Any]
) -> Callable[[Services], None]:
    def run(services: Services) -> None:
        if action != "requested" and not data.get("done"):
            return  # the simulation dropped it
        ref = f"#{approval.number}"
        clock, approvers = services.clock, services.approvers
        with transaction(services.session_factory) as session:
            if action == "requested":
                made = request_approval(
                    session,
                    repo_id=approval.repo_id,
                    use=IntendedUse(approval.use),
                    reason=approval.reason,
                    requester=approval.requester,
                    clock=clock,
                )
                if made.id != approval.number:
                    raise RuntimeError(
                        f"request got #{made.id}, the plan numbered it #{approval.number}"
                    )
            elif action in ("approved", "reapproved"):
                approve(
                    session,
                    ref=ref,
                    actor=data["actor"],
                    approvers=approvers,
                    clock=clock,
                    conditions=data["conditions"],
                    expires_on=data["expires"],
                )
            elif action == "rejected":
                reject(
                    session,
                    ref=ref,
                    actor=data["actor"],
                    approvers=approvers,
                    reason=data["reason"],
                    clock=clock,
                )
            else:
                revoke(
                    session,
                    ref=ref,
                    actor=data["actor"],
                    approvers=approvers,
                    reason=data["reason"],
                    clock=clock,
                )

    return run


# ---------------------------------------------------------------------------- build


def build(services: Services, generated: Plan) -> None:
    """Run the plan's steps in time order through the services; the clock ends at NOW."""
    for step in generated.steps:
        _advance(services, step.at)
        step.run(services)
    _advance(services, generated.truth.now)


def generated_services(database_url: str, seed: int, **overrides: Any) -> tuple[Services, Truth]:
    """Services over a migrated, empty ``database_url`` holding the registry for ``seed``.

    Raises RuntimeError when the database does not match the intended truth.
    """
    from governance.core import migrate

    generated = plan(seed)
    migrate.upgrade(database_url)
    values: dict[str, Any] = {
        "database_url": database_url,
        "approvers": list(generated.truth.approvers),
    }
    values.update(overrides)
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    services = build_services(settings, clock=FrozenClock(START))
    build(services, generated)
    verify(services, generated.truth)
    return services, generated.truth


def verify(services: Services, truth: Truth) -> None:
    """Raise RuntimeError naming the first difference between the database and ``truth``."""
    with transaction(services.session_factory) as session:
        rows = {a.id: a for a in session.scalars(select(Approval))}
        if sorted(rows) != [a.number for a in truth.approvals]:
            raise RuntimeError(f"approvals {sorted(rows)} differ from the plan's")
        for want in truth.approvals:
            row = rows[want.number]
            got = (
                row.model.repo_id,
                row.use.value,
                row.state.value,
                row.requested_by,
                row.reason,
                row.conditions,
                row.expires_on,
                row.decided_by,
                row.decision_reason,
            )
            expected = (
                want.repo_id,
                want.use,
                want.state,
                want.requester,
                want.reason,
                want.conditions,
                want.expires_on,
                want.decided_by,
                want.decision_reason,
            )
            if got != expected:
                raise RuntimeError(f"approval #{want.number}: database {got}, plan {expected}")
            events = session.scalars(
                select(AuditEvent).where(AuditEvent.approval_id == row.id).order_by(AuditEvent.id)
            ).all()
            seen = [(e.action, e.actor, e.at) for e in events]
            meant = [(e.action, e.actor, e.at) for e in want.events]
            if seen != meant:
                raise RuntimeError(f"approval #{want.number}: events {seen}, plan {meant}")
