"""The alert outbox: dedupe across restarts, retries with backoff, nothing dropped, threading."""

from __future__ import annotations

from datetime import datetime, timedelta

from governance.alerts.claims import PENDING
from governance.alerts.delivery import deliver_pending
from governance.alerts.notifier import (
    Delivered,
    DeliveryFailed,
    OutcomeUnknown,
    Outgoing,
    OutgoingAlert,
    OutgoingMessage,
)
from governance.alerts.outbox import raise_alert
from governance.core.db import transaction
from governance.core.fingerprints import fingerprint
from governance.registry.models import IntendedUse
from governance.registry.requests import request_approval
from governance.registry.tracking import track_model
from governance.wiring.services import Services


class FlakyNotifier:
    """Fails the first ``failures`` deliveries, then records successes.

    With ``lose_answers`` the next that many posts land but their answer is lost (as after a
    client timeout); ``find`` looks in what landed, as a channel's history would.
    """

    reaches_slack = True
    max_step_seconds = 1.0

    def __init__(
        self, failures: int = 0, retry_after: float | None = None, lose_answers: int = 0
    ) -> None:
        self.failures = failures
        self.retry_after = retry_after
        self.lose_answers = lose_answers
        self.delivered: list[OutgoingAlert] = []
        self.sent: list[OutgoingMessage] = []
        self.attempts = 0
        self.finds = 0

    def deliver(self, alert: OutgoingAlert) -> Delivered:
        self.attempts += 1
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryFailed("slack said 503", retry_after=self.retry_after)
        self.delivered.append(alert)
        if self.lose_answers > 0:
            self.lose_answers -= 1
            raise OutcomeUnknown("read timed out")
        return Delivered(message_ref=f"ts-{alert.id}")

    def waiting(self, count: int) -> None:
        raise AssertionError("a notifier that reaches Slack is never told rows wait")

    def send(self, message: OutgoingMessage) -> Delivered:
        self.sent.append(message)
        return Delivered(message_ref=f"m-{message.id}")

    def find(self, item: Outgoing, *, since: datetime) -> Delivered | None:
        self.finds += 1
        landed = [a for a in self.delivered if a.dedupe_key == item.dedupe_key]
        return Delivered(message_ref=f"ts-{landed[0].id}") if landed else None


def _raise(services: Services, *, state: str = "v1", model_id: int | None = None) -> int:
    with transaction(services.session_factory) as session:
        created = raise_alert(
            session,
            kind="license_changed",
            title="t",
            body="b",
            payload={"kind": "x"},
            state_fingerprint=fingerprint(state),
            default_destination="#alerts",
            clock=services.clock,
            model_id=model_id,
        )
        return len(created)


def _model(services: Services) -> int:
    with transaction(services.session_factory) as session:
        return track_model(session, repo_id="acme/m", actor="a", clock=services.clock).id


def test_the_same_alert_is_raised_once_even_after_a_restart(services: Services) -> None:
    model_id = _model(services)
    assert _raise(services, model_id=model_id) == 1
    assert _raise(services, model_id=model_id) == 0  # a recheck re-detecting the same state
    from governance.wiring.services import build_services

    restarted = build_services(services.settings, clock=services.clock)
    assert _raise(restarted, model_id=model_id) == 0
    assert _raise(restarted, model_id=model_id, state="v2") == 1
    restarted.close()


def test_failed_delivery_is_retried_with_backoff_and_never_dropped(services: Services) -> None:
    _raise(services)
    notifier = FlakyNotifier(failures=3)
    clock = services.clock
    report = deliver_pending(services.session_factory, notifier=notifier, clock=clock)
    assert (report.delivered, report.failed) == (0, 1)
    # Not due yet: the backoff holds it.
    assert deliver_pending(services.session_factory, notifier=notifier, clock=clock).failed == 0
    waits = []
    for _ in range(3):
        from governance.alerts.models import Alert

        with transaction(services.session_factory) as session:
            alert = session.query(Alert).one()
            waits.append(alert.next_attempt_at - clock.now())
            assert alert.state == PENDING
        clock.advance(hours=2)  # type: ignore[attr-defined]
        deliver_pending(services.session_factory, notifier=notifier, clock=clock)
    assert waits[0] == timedelta(seconds=30) and waits[1] == timedelta(seconds=60)
    assert len(notifier.delivered) == 1 and notifier.attempts == 4
    clock.advance(hours=2)  # type: ignore[attr-defined]
    deliver_pending(services.session_factory, notifier=notifier, clock=clock)
    assert len(notifier.delivered) == 1  # delivered alerts are never sent again


def test_retry_after_from_the_notifier_is_honoured(services: Services) -> None:
    from governance.alerts.models import Alert

    _raise(services)
    deliver_pending(
        services.session_factory, notifier=FlakyNotifier(1, retry_after=600), clock=services.clock
    )
    with transaction(services.session_factory) as session:
        alert = session.query(Alert).one()
        assert alert.next_attempt_at - services.clock.now() == timedelta(seconds=600)
        assert alert.last_error == "slack said 503"


def test_follow_ups_thread_under_the_first_alert_of_a_model(services: Services) -> None:
    model_id = _model(services)
    _raise(services, model_id=model_id, state="a")
    notifier = FlakyNotifier()
    deliver_pending(services.session_factory, notifier=notifier, clock=services.clock)
    _raise(services, model_id=model_id, state="b")
    _raise(services, model_id=model_id, state="c")
    deliver_pending(services.session_factory, notifier=notifier, clock=services.clock)
    first, second, third = notifier.delivered
    assert first.thread_ref is None
    assert second.thread_ref == third.thread_ref == f"ts-{first.id}"


def test_a_crashing_notifier_keeps_the_alert(services: Services) -> None:
    class Broken(FlakyNotifier):
        def deliver(self, alert: OutgoingAlert) -> Delivered:
            raise RuntimeError("bug")

    _raise(services)
    report = deliver_pending(services.session_factory, notifier=Broken(), clock=services.clock)
    assert report.failed == 1
    services.clock.advance(hours=1)  # type: ignore[attr-defined]
    good = FlakyNotifier()
    deliver_pending(services.session_factory, notifier=good, clock=services.clock)
    assert len(good.delivered) == 1


def test_a_lost_answer_is_found_and_recorded_not_posted_again(services: Services) -> None:
    from governance.alerts.models import Alert

    _raise(services)
    notifier = FlakyNotifier(lose_answers=1)
    report = deliver_pending(services.session_factory, notifier=notifier, clock=services.clock)
    assert report.failed == 1 and len(notifier.delivered) == 1
    services.clock.advance(seconds=10)  # type: ignore[attr-defined]
    report = deliver_pending(services.session_factory, notifier=notifier, clock=services.clock)
    assert (report.reconciled, report.delivered, notifier.finds) == (1, 0, 1)
    assert len(notifier.delivered) == 1
    with transaction(services.session_factory) as session:
        alert = session.query(Alert).one()
        assert (alert.state, alert.message_ref) == ("delivered", f"ts-{alert.id}")
        assert alert.claimed_by is None and alert.attempt_started_at is None


def test_a_crash_after_the_attempt_started_is_reconciled_once_the_claim_expires(
    services: Services,
) -> None:
    from governance.alerts import claims
    from governance.alerts.models import Alert

    _raise(services)
    ttl = timedelta(seconds=20)
    # A worker claims the alert, starts its attempt, posts, and dies before recording it.
    (alert_id,) = claims.claim_due(
        services.session_factory, Alert, holder="dead", ttl=ttl, clock=services.clock, batch=5
    )
    assert claims.extend_claim(
        services.session_factory,
        Alert,
        alert_id,
        holder="dead",
        ttl=ttl,
        clock=services.clock,
        start_attempt=True,
    )
    notifier = FlakyNotifier()
    with transaction(services.session_factory) as session:
        notifier.delivered.append(
            OutgoingAlert(
                id=alert_id,
                kind="license_changed",
                destination="#alerts",
                title="t",
                body="b",
                dedupe_key=session.get(Alert, alert_id).dedupe_key,  # type: ignore[union-attr]
            )
        )
    # While the claim holds, nobody else touches the alert.
    assert deliver_pending(services.session_factory, notifier=notifier, clock=services.clock) == (
        deliver_pending(services.session_factory, notifier=notifier, clock=services.clock)
    )
    assert notifier.finds == 0 and len(notifier.delivered) == 1
    services.clock.advance(seconds=21)  # type: ignore[attr-defined]
    report = deliver_pending(services.session_factory, notifier=notifier, clock=services.clock)
    assert (report.reconciled, report.delivered) == (1, 0)
    assert len(notifier.delivered) == 1
    # The dead worker's claim is gone: it could not record anything now.
    assert not claims.extend_claim(
        services.session_factory, Alert, alert_id, holder="dead", ttl=ttl, clock=services.clock
    )


def test_two_runs_never_claim_the_same_row(services: Services) -> None:
    from governance.alerts import claims
    from governance.alerts.models import Alert

    for state in ("a", "b", "c"):
        _raise(services, state=state)
    ttl = timedelta(seconds=30)
    first = claims.claim_due(
        services.session_factory, Alert, holder="one", ttl=ttl, clock=services.clock, batch=2
    )
    second = claims.claim_due(
        services.session_factory, Alert, holder="two", ttl=ttl, clock=services.clock, batch=5
    )
    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)


def test_a_worker_whose_claim_expired_posts_nothing(services: Services) -> None:
    from governance.alerts import claims
    from governance.alerts.delivery import DeliveryReport as Report
    from governance.alerts.delivery import RetryPolicy, _Run
    from governance.alerts.models import Alert

    _raise(services)
    slow = FlakyNotifier()
    ttl = timedelta(seconds=5)
    (alert_id,) = claims.claim_due(
        services.session_factory, Alert, holder="slow", ttl=ttl, clock=services.clock, batch=1
    )
    services.clock.advance(seconds=6)  # type: ignore[attr-defined]
    fast = FlakyNotifier()
    assert deliver_pending(services.session_factory, notifier=fast, clock=services.clock).delivered
    run = _Run(
        factory=services.session_factory,
        notifier=slow,
        clock=services.clock,
        policy=RetryPolicy(),
        holder="slow",
        ttl=ttl,
        report=Report(),
    )
    run.deliver_one(Alert, alert_id)  # the slow worker wakes up with its stale claim
    assert slow.attempts == 0 and len(fast.delivered) == 1


def test_a_card_refresh_asked_for_during_a_send_is_sent_again(services: Services) -> None:
    from governance.alerts.models import OutboxMessage
    from governance.alerts.outbox import queue_card_update
    from governance.registry.card_refs import remember_card

    with transaction(services.session_factory) as session:
        approval = request_approval(
            session,
            repo_id="acme/m",
            use=IntendedUse.COMMERCIAL,
            reason="r",
            requester="carol",
            clock=services.clock,
        )
        remember_card(
            session,
            approval_id=approval.id,
            destination="C1",
            message_ref="1.1",
            clock=services.clock,
        )
        approval_id = approval.id
        assert queue_card_update(session, approval_id=approval_id, clock=services.clock)

    class Racing(FlakyNotifier):
        def send(self, message: OutgoingMessage) -> Delivered:
            if not self.sent:  # a decision lands while the first refresh is on the wire
                with transaction(services.session_factory) as session:
                    queue_card_update(session, approval_id=approval_id, clock=services.clock)
            return super().send(message)

    notifier = Racing()
    deliver_pending(services.session_factory, notifier=notifier, clock=services.clock)
    assert [m.payload for m in notifier.sent] == [{"ts": "1.1"}, {"ts": "1.1"}]
    with transaction(services.session_factory) as session:
        row = session.query(OutboxMessage).one()
        assert (row.state, row.generation) == ("delivered", 1)
