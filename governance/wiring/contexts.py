"""The collaborators of the flows, taken from a process's Services (the one place they are)."""

from __future__ import annotations

from governance.flows.watch_context import WatchContext
from governance.registry.audit import WATCHER, with_origin
from governance.wiring.services import Services


def watch_context(services: Services) -> WatchContext:
    """The collaborators of a recheck cycle: the process's database, Hub client and clock, the
    alerts channel, the configured approvers (named in alerts) and the Hub concurrency.

    Its sessions audit as the watcher, whoever started the cycle: what a check finds and does
    (an approval moved to review) is the watcher's act, not the act of whoever asked for it."""
    return WatchContext(
        factory=with_origin(services.session_factory, WATCHER),
        hub=services.hub,
        clock=services.clock,
        default_destination=services.settings.alerts_channel,
        approvers=tuple(sorted(services.approvers.configured)),
        concurrency=services.settings.hub_concurrency,
    )
