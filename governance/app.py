"""The collaborators a running modelgov passes to its services, built once from Settings.

This is wiring, not state: each service function still takes what it needs explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from governance.clock import Clock, SystemClock
from governance.config import Settings
from governance.db import create_db_engine, make_session_factory
from governance.registry.service import ApproverDirectory


@dataclass
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    approvers: ApproverDirectory

    def close(self) -> None:
        self.engine.dispose()


def build_services(
    settings: Settings, *, clock: Clock | None = None, engine: Engine | None = None
) -> Services:
    """Wire the collaborators for ``settings`` (one engine per process)."""
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
    )
