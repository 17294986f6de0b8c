"""The collaborators a running modelgov passes to its services, built once from Settings.

This is wiring, not state: each service function still takes what it needs explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from governance.alerts.notifier import LogNotifier, Notifier
from governance.core.clock import Clock, SystemClock
from governance.core.config import Settings
from governance.core.db import create_db_engine, make_session_factory
from governance.registry.service import ApproverDirectory
from governance.upstream.hub import HubClient
from governance.upstream.ratelimit import RequestBudget


@dataclass
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    approvers: ApproverDirectory
    hub: HubClient
    notifier: Notifier = field(default_factory=LogNotifier)
    # The local assistant (governance.assistant.factory.Assistant), made by get_assistant().
    assistant: Any = None

    def close(self) -> None:
        if self.assistant is not None:
            self.assistant.close()
        self.engine.dispose()


def build_hub_client(settings: Settings) -> HubClient:
    """The Hub client for ``settings`` (endpoint and token explicit; HF_ENDPOINT not relied on)."""
    return HubClient(
        settings.hub_endpoint,
        settings.hf_token,
        timeout=settings.hub_timeout_seconds,
        budget=RequestBudget(limit=settings.hub_budget_per_5min),
    )


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    hub: HubClient | None = None,
    notifier: Notifier | None = None,
) -> Services:
    """Wire the collaborators for ``settings`` (one engine and one Hub client per process)."""
    engine = engine or create_db_engine(settings.database_url)
    return Services(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=clock or SystemClock(),
        approvers=ApproverDirectory(
            configured=frozenset(settings.approvers),
            groups=frozenset([settings.approver_group] if settings.approver_group else []),
        ),
        hub=hub or build_hub_client(settings),
        notifier=notifier or LogNotifier(),
    )
