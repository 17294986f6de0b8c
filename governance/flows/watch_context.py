"""What a recheck cycle and the snapshot flow need, passed explicitly (never the wiring)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from governance.core.clock import Clock
from governance.upstream.hub import HubClient


@dataclass(frozen=True)
class WatchContext:
    """The collaborators of a recheck: where to record, whom to ask, where alerts go by
    default, the approvers named in alerts, and how many Hub requests may run at once."""

    factory: sessionmaker[Session]
    hub: HubClient
    clock: Clock
    default_destination: str
    approvers: tuple[str, ...] = ()
    concurrency: int = 8
