"""The collaborators a running modelgov passes to its services, built once from Settings.

This is wiring, not state: each service function still takes what it needs explicitly.
``Services`` is frozen and made whole by ``build_services``; what differs between process
kinds (the notifier, who is in the approver group) is passed in by the frontend that runs the
process (``bot.cli.process_services``), never set afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from governance.alerts.notifier import LogNotifier, Notifier
from governance.assistant.factory import Assistant, build_runtime
from governance.assistant.runtime import ModelRuntime
from governance.core.clock import Clock, SystemClock
from governance.core.config import ConfigError, Settings
from governance.core.db import create_db_engine, make_session_factory
from governance.core.errors import InvalidInput
from governance.hardware.profiles import parse_profiles
from governance.registry.approvers import ApproverDirectory
from governance.upstream.hub import HubClient
from governance.upstream.ratelimit import RequestBudget

# Builds the outbox's notifier for a process, given its session factory (request cards are
# rendered from the database when they are posted).
# The notifier over the session factory, telling dates by the process's clock.
NotifierFactory = Callable[[sessionmaker[Session], Clock], Notifier]
# A user group's members (``ApproverDirectory.group_members``).
GroupMembers = Callable[[str], Iterable[str]]


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    # Sessions that only read: on SQLite they take no lock, so they never wait for a writer
    # (what answers within Slack's ack uses them).
    read_session_factory: sessionmaker[Session]
    clock: Clock
    approvers: ApproverDirectory
    hub: HubClient
    notifier: Notifier
    # The process's one assistant; its model is loaded on first use or by ``assistant.start()``.
    assistant: Assistant

    def close(self) -> None:
        """Stop the assistant (freeing its model) and close the database connections."""
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


def _check_hardware_profiles(settings: Settings) -> None:
    """A wrong ``MODELGOV_HARDWARE_PROFILES`` stops start-up with its one sentence, like any
    other bad setting, instead of surfacing at the first question about a machine. (Parsed
    here, not in Settings: profiles are a hardware notion, above the core layer.)

    Raises:
        ConfigError: the setting's sentence (which entry is wrong, and what is expected).
    """
    try:
        parse_profiles(settings.hardware_profiles)
    except InvalidInput as exc:
        raise ConfigError(exc.message) from None


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    hub: HubClient | None = None,
    make_notifier: NotifierFactory | None = None,
    group_members: GroupMembers | None = None,
    runtime_factory: Callable[[Settings], ModelRuntime] = build_runtime,
) -> Services:
    """The Services for ``settings``: one engine, one Hub client and one assistant per process.

    Raises ConfigError when ``MODELGOV_HARDWARE_PROFILES`` is malformed.

    ``make_notifier`` builds the outbox's notifier over the session factory and ``clock``
    (default: the log); ``group_members`` lists a user group's members for
    ``MODELGOV_APPROVER_GROUP`` (default: none, so only ``MODELGOV_APPROVERS`` may decide);
    ``runtime_factory`` makes the assistant's model runtime when it is first needed. Nothing
    connects or loads here.
    """
    _check_hardware_profiles(settings)
    engine = engine or create_db_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    clock = clock or SystemClock()
    hub = hub or build_hub_client(settings)
    return Services(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        read_session_factory=make_session_factory(engine, read_only=True),
        clock=clock,
        approvers=ApproverDirectory(
            configured=frozenset(settings.approvers),
            groups=frozenset([settings.approver_group] if settings.approver_group else []),
            group_members=group_members,
        ),
        hub=hub,
        notifier=make_notifier(session_factory, clock) if make_notifier else LogNotifier(),
        assistant=Assistant(
            settings=settings,
            session_factory=session_factory,
            clock=clock,
            runtime_factory=runtime_factory,
            hub=hub,
        ),
    )
