"""The alert outbox: dedupe across restarts, retries with backoff, nothing dropped, threading."""

from __future__ import annotations

from datetime import timedelta

from governance.alerts.notifier import Delivered, DeliveryFailed, OutgoingAlert
from governance.alerts.service import PENDING, deliver_pending, raise_alert
from governance.app import Services
from governance.db import transaction
from governance.registry import service as registry
from governance.upstream.facts import fingerprint


class FlakyNotifier:
    """Fails the first ``failures`` deliveries, then records successes."""

    def __init__(self, failures: int = 0, retry_after: float | None = None) -> None:
        self.failures = failures
        self.retry_after = retry_after
        self.delivered: list[OutgoingAlert] = []
        self.attempts = 0

    def deliver(self, alert: OutgoingAlert) -> Delivered:
        self.attempts += 1
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryFailed("slack said 503", retry_after=self.retry_after)
        self.delivered.append(alert)
        return Delivered(message_ref=f"ts-{alert.id}")


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
        return registry.track_model(session, repo_id="acme/m", actor="a", clock=services.clock).id


def test_the_same_alert_is_raised_once_even_after_a_restart(services: Services) -> None:
    model_id = _model(services)
    assert _raise(services, model_id=model_id) == 1
    assert _raise(services, model_id=model_id) == 0  # a recheck re-detecting the same state
    from governance.app import build_services

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
    class Broken:
        def deliver(self, alert: OutgoingAlert) -> Delivered:
            raise RuntimeError("bug")

    _raise(services)
    report = deliver_pending(services.session_factory, notifier=Broken(), clock=services.clock)
    assert report.failed == 1
    services.clock.advance(hours=1)  # type: ignore[attr-defined]
    good = FlakyNotifier()
    deliver_pending(services.session_factory, notifier=good, clock=services.clock)
    assert len(good.delivered) == 1
