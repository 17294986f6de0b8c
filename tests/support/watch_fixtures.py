"""Fixtures for watcher tests: services wired to a Hub stand-in with a fake budget clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from governance.alerts.models import Alert
from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.core.db import transaction
from governance.flows import decide_with_policy
from governance.flows.recheck import CycleReport, run_cycle
from governance.registry.models import Approval, IntendedUse
from governance.registry.requests import request_approval
from governance.upstream.models import Change
from governance.upstream.service import watch
from governance.wiring.contexts import watch_context
from governance.wiring.services import Services, build_services
from tests.support.hub_fixtures import FakeTime, make_client
from tests.support.hub_standin import HubStandin


@dataclass
class Watched:
    services: Services
    hub: HubStandin
    time: FakeTime

    def watch(self, repo_id: str) -> None:
        with transaction(self.services.session_factory) as session:
            watch(session, repo_id=repo_id, actor="alice", clock=self.services.clock)

    def approve(self, repo_id: str, use: IntendedUse = IntendedUse.COMMERCIAL) -> int:
        s = self.services
        with transaction(s.session_factory) as session:
            approval = request_approval(
                session, repo_id=repo_id, use=use, reason="", requester="carol", clock=s.clock
            )
            decide_with_policy.approve(
                session, ref=str(approval.id), actor="bob", approvers=s.approvers, clock=s.clock
            )
            return approval.id

    def cycle(self, *repo_ids: str) -> CycleReport:
        assert isinstance(self.services.clock, FrozenClock)
        self.services.clock.advance(hours=6)
        return run_cycle(watch_context(self.services), repo_ids=repo_ids or None)

    def approval(self, approval_id: int) -> Approval:
        with transaction(self.services.session_factory) as session:
            approval = session.get(Approval, approval_id)
            assert approval is not None
            return approval

    def changes(self) -> list[tuple[str, str]]:
        with transaction(self.services.session_factory) as session:
            return [(c.kind, c.summary) for c in session.query(Change).order_by(Change.id)]

    def alerts(self) -> list[Alert]:
        with transaction(self.services.session_factory) as session:
            return list(session.query(Alert).order_by(Alert.id))


def watched_services(settings: Settings, clock: FrozenClock) -> Iterator[Watched]:
    time = FakeTime()
    with HubStandin(clock=time.monotonic) as hub:
        services = build_services(settings, clock=clock, hub=make_client(hub, time=time))
        yield Watched(services, hub, time)
        services.close()
