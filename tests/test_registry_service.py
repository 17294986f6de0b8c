"""The registry's rules, enforced in the service (not the UI)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from governance.alerts.notifier import LogNotifier
from governance.core.clock import Clock, FrozenClock
from governance.core.config import Settings
from governance.core.db import transaction
from governance.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from governance.flows.decide_with_policy import approve
from governance.registry.decisions import expire, mark_needs_review, reject, revoke
from governance.registry.models import Approval, ApprovalState, AuditEvent, IntendedUse
from governance.registry.queries import history, model_overview
from governance.registry.requests import request_approval
from governance.registry.tracking import get_model
from governance.wiring.services import Services, build_services

REPO = "meta-llama/Llama-3.1-8B-Instruct"


def _request(
    services: Services,
    *,
    user: str = "alice",
    use: IntendedUse = IntendedUse.COMMERCIAL,
    repo: str = REPO,
    reason: str = "support bot",
) -> int:
    with transaction(services.session_factory) as session:
        return request_approval(
            session, repo_id=repo, use=use, reason=reason, requester=user, clock=services.clock
        ).id


def _approve(services: Services, ref: str, *, user: str, **kwargs: object) -> Approval:
    with transaction(services.session_factory) as session:
        return approve(
            session,
            ref=ref,
            actor=user,
            approvers=services.approvers,
            clock=services.clock,
            **kwargs,
        )  # type: ignore[arg-type]


def _audit_count(services: Services) -> int:
    with transaction(services.session_factory) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_request_records_model_approval_and_audit(services: Services) -> None:
    approval_id = _request(services)
    with transaction(services.session_factory) as session:
        approval = session.get(Approval, approval_id)
        assert approval is not None
        assert approval.state is ApprovalState.REQUESTED
        assert approval.model.repo_id == REPO
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["model_tracked", "requested"]


def test_only_approvers_decide_and_never_their_own_request(services: Services) -> None:
    _request(services, user="alice")
    with pytest.raises(PermissionDenied, match="yourself"):
        _approve(services, REPO, user="alice")
    with pytest.raises(PermissionDenied, match="Only approvers"):
        _approve(services, REPO, user="carol")
    approval = _approve(
        services, REPO, user="bob", conditions="no PII", expires_on=date(2027, 6, 1)
    )
    assert approval.state is ApprovalState.APPROVED
    assert (approval.decided_by, approval.conditions) == ("bob", "no PII")
    assert approval.expires_on == date(2027, 6, 1)


def test_deciding_twice_names_who_decided_and_when(services: Services) -> None:
    approval_id = _request(services)
    _approve(services, f"#{approval_id}", user="bob")
    with pytest.raises(Conflict, match=r"already approved by bob at 2026-11-27 09:00 UTC"):
        _approve(services, str(approval_id), user="bob")
    with pytest.raises(Conflict, match="already approved by bob"):
        with transaction(services.session_factory) as session:
            reject(
                session,
                ref=REPO,
                actor="bob",
                approvers=services.approvers,
                reason="no",
                clock=services.clock,
            )


def test_duplicate_request_points_at_the_existing_one(services: Services) -> None:
    first = _request(services)
    with pytest.raises(Conflict, match=rf"request #{first}"):
        _request(services, user="carol")
    _approve(services, REPO, user="bob")
    with pytest.raises(Conflict, match="already approved by bob"):
        _request(services, user="dave")
    # Another use is a separate request.
    assert _request(services, user="dave", use=IntendedUse.RESEARCH) != first


def test_needs_review_then_reapprove_or_revoke(services: Services) -> None:
    approval_id = _request(services)
    _approve(services, REPO, user="bob")
    with transaction(services.session_factory) as session:
        approval = session.get(Approval, approval_id)
        assert approval is not None
        assert mark_needs_review(
            session, approval=approval, reason="license changed", clock=services.clock
        )
    with pytest.raises(Conflict, match="in review"):
        _request(services, user="carol")
    approval = _approve(services, REPO, user="bob", conditions="re-read the new license")
    assert approval.state is ApprovalState.APPROVED
    with transaction(services.session_factory) as session:
        revoked = revoke(
            session,
            ref=REPO,
            actor="alice",
            approvers=services.approvers,
            reason="legal said no",
            clock=services.clock,
        )
        assert revoked.state is ApprovalState.REVOKED
        _, events = history(session, repo=REPO)
    assert [e.action for e in events] == [
        "model_tracked",
        "requested",
        "approved",
        "needs_review",
        "reapproved",
        "revoked",
    ]
    assert events[3].before["state"] == "approved" and events[3].after["state"] == "needs_review"
    assert all(e.at is not None and e.actor for e in events)


def test_reject_and_revoke_require_a_reason(services: Services) -> None:
    _request(services)
    with pytest.raises(InvalidInput, match="reason is required"):
        with transaction(services.session_factory) as session:
            reject(
                session,
                ref=REPO,
                actor="bob",
                approvers=services.approvers,
                reason="  ",
                clock=services.clock,
            )


@pytest.mark.parametrize(
    ("repo", "message"),
    [
        ("", "missing"),
        ("llama", "namespace/name"),
        ("a/b/c", "namespace/name"),
        ("meta llama/x", "characters"),
        ("org/-bad", "characters"),
        ("org/a--b", "characters"),
        ("org/a..b", "characters"),
        ("o/" + "x" * 95, "longer than 96"),
        ("org/<!channel>", "characters"),
        ("org/模型", "characters"),
    ],
)
def test_malformed_repo_ids_write_nothing(services: Services, repo: str, message: str) -> None:
    before = _audit_count(services)
    with pytest.raises(InvalidInput, match=message):
        _request(services, repo=repo)
    assert _audit_count(services) == before


def test_overlong_reason_and_past_expiry_write_nothing(services: Services) -> None:
    with pytest.raises(InvalidInput, match="keep it to 1000"):
        _request(services, reason="x" * 1001)
    assert _audit_count(services) == 0
    _request(services)
    with pytest.raises(InvalidInput, match="not in the future"):
        _approve(services, REPO, user="bob", expires_on=date(2026, 11, 26))
    with transaction(services.session_factory) as session:
        assert session.scalars(select(Approval)).one().state is ApprovalState.REQUESTED


def test_ambiguous_repo_ref_lists_the_candidates(services: Services) -> None:
    _request(services, use=IntendedUse.RESEARCH)
    _request(services, use=IntendedUse.COMMERCIAL)
    with pytest.raises(InvalidInput, match=r"2 requests you could approve: #1 \(research"):
        _approve(services, REPO, user="bob")
    assert _approve(services, REPO, user="bob", use=IntendedUse.COMMERCIAL).id == 2


def test_unknown_model_and_request(services: Services) -> None:
    with pytest.raises(NotFound, match="not tracked yet"):
        with transaction(services.session_factory) as session:
            model_overview(session, repo="nobody/nothing")
    with pytest.raises(NotFound, match="no request #42"):
        _approve(services, "#42", user="bob")


def test_lookup_is_case_insensitive_and_follows_aliases(services: Services) -> None:
    from governance.registry.models import ModelAlias

    _request(services)
    with transaction(services.session_factory) as session:
        model = get_model(session, REPO.upper())
        session.add(
            ModelAlias(
                model=model,
                alias="old-org/old-name",
                alias_key="old-org/old-name",
                created_at=services.clock.now(),
            )
        )
    with transaction(services.session_factory) as session:
        assert get_model(session, "Old-Org/old-name").repo_id == REPO


def test_expire_moves_approved_to_expired(services: Services) -> None:
    _request(services)
    approval = _approve(services, REPO, user="bob", expires_on=date(2026, 12, 1))
    with transaction(services.session_factory) as session:
        target = session.get(Approval, approval.id)
        assert target is not None
        assert expire(session, approval=target, clock=services.clock)
        assert not expire(session, approval=target, clock=services.clock)
        assert target.state is ApprovalState.EXPIRED


def test_audit_events_are_append_only(services: Services) -> None:
    _request(services)
    with pytest.raises(RuntimeError, match="append-only"):
        with transaction(services.session_factory) as session:
            event = session.scalars(select(AuditEvent)).first()
            assert event is not None
            event.actor = "mallory"


def test_approvers_table_counts_too(services: Services) -> None:
    from governance.registry.models import Approver, ApproverKind

    _request(services)
    with transaction(services.session_factory) as session:
        session.add(
            Approver(
                kind=ApproverKind.USER,
                principal="carol",
                added_by="alice",
                added_at=services.clock.now(),
            )
        )
    assert _approve(services, REPO, user="carol").decided_by == "carol"


def test_the_notifier_tells_dates_by_the_services_clock(settings: Settings) -> None:
    # A request card shows a derivative's bases' standing on "today": the process's clock,
    # the same one every other answer uses (a frozen one in tests, a tz-aware one in prod).
    frozen = FrozenClock(datetime(2031, 1, 2, 9, 0, tzinfo=UTC))
    given: list[Clock] = []

    def make_notifier(_sessions: object, clock: Clock) -> LogNotifier:
        given.append(clock)
        return LogNotifier()

    services = build_services(settings, clock=frozen, make_notifier=make_notifier)
    try:
        assert given == [frozen] and services.clock is frozen
    finally:
        services.close()
