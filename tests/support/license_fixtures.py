"""Helpers for license, openness and policy tests: services watching a Hub stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.grammar.dispatch import run_text
from bot.grammar.spec.invocation import Invocation
from bot.render.blocks import Reply
from governance.alerts.models import Alert
from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.core.db import transaction
from governance.flows import decide_with_policy
from governance.flows.recheck import CycleReport, run_cycle
from governance.registry.models import Approval, ApprovalState, IntendedUse
from governance.registry.requests import request_approval
from governance.upstream.service import watch
from governance.wiring.contexts import watch_context
from governance.wiring.services import Services, build_services
from tests.support.hub_fixtures import make_client
from tests.support.hub_standin import HubStandin

REAL = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "licenses"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="shared/realdata/licenses is absent")

MIT_TEXT = """MIT License

Copyright (c) 2024 Acme Research

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""

WEIGHTS = {"config.json": '{"model_type": "llama"}', "model.safetensors": b"\x00" * 64}


def real_text(name: str) -> str:
    return (REAL / name).read_text(encoding="utf-8")


@dataclass
class Governed:
    """Services wired to a Hub stand-in, with shortcuts for requests, cycles and commands."""

    services: Services
    hub: HubStandin

    def run(self, text: str, user: str = "alice") -> Reply:
        return run_text(text, Invocation(services=self.services, user=user))

    def track(self, repo_id: str) -> None:
        with transaction(self.services.session_factory) as session:
            watch(session, repo_id=repo_id, actor="alice", clock=self.services.clock)

    def request(self, repo_id: str, use: IntendedUse = IntendedUse.COMMERCIAL) -> int:
        s = self.services
        with transaction(s.session_factory) as session:
            approval = request_approval(
                session, repo_id=repo_id, use=use, reason="", requester="carol", clock=s.clock
            )
            return approval.id

    def approve(self, approval_id: int) -> None:
        s = self.services
        with transaction(s.session_factory) as session:
            decide_with_policy.approve(
                session, ref=str(approval_id), actor="bob", approvers=s.approvers, clock=s.clock
            )

    def cycle(self) -> CycleReport:
        assert isinstance(self.services.clock, FrozenClock)
        self.services.clock.advance(hours=6)
        report = run_cycle(watch_context(self.services), trigger="manual")
        assert not report.failures, report.failures
        return report

    def state(self, approval_id: int) -> ApprovalState:
        with transaction(self.services.session_factory) as session:
            approval = session.get(Approval, approval_id)
            assert approval is not None
            return approval.state

    def alerts(self, kind: str) -> list[Alert]:
        with transaction(self.services.session_factory) as session:
            return list(session.scalars(select(Alert).where(Alert.kind == kind)))


def governed(settings: Settings, clock: FrozenClock) -> Iterator[Governed]:
    """Body for a fixture: ``yield from governed(settings, clock)``."""
    with HubStandin() as hub:
        services = build_services(settings, clock=clock, hub=make_client(hub))
        try:
            yield Governed(services, hub)
        finally:
            services.close()
