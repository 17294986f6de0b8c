"""One call of a subcommand: who runs it, where, with which services, and its arguments.

A typed ``/models`` command, a button and a form all build the same two values, so the
handler behind them cannot tell (and need not care) which surface it was called from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.orm import Session, sessionmaker

from governance.registry.audit import AuditOrigin, with_origin
from governance.registry.models import ApprovalState
from governance.wiring.services import Services


@dataclass(frozen=True)
class Invocation:
    """Who runs a command, where, with which services.

    ``read_only``: the command runs within Slack's ack, so its sessions only read and never
    wait for a writer (``Subcommand.reads_only`` says which commands may).
    ``only_from``: the request states the card or alert the user clicked was showing; a
    decision then applies only while the request is still in one of them, so a click on an
    out-of-date card changes nothing (None for a typed command: any state the decision allows).
    ``origin``: the surface it came through (Slack, console, CLI) and, at a terminal, the OS
    account behind ``user``; every audit event the command writes records it. Each frontend
    sets it; None (a test, a benchmark) records no channel rather than a guessed one.
    """

    services: Services
    user: str
    channel: str | None = None
    read_only: bool = False
    only_from: tuple[ApprovalState, ...] | None = None
    origin: AuditOrigin | None = None

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        """The sessions this command uses (read-only ones when ``read_only``), carrying its
        ``origin`` for the audit trail."""
        factory = (
            self.services.read_session_factory if self.read_only else self.services.session_factory
        )
        return factory if self.origin is None else with_origin(factory, self.origin)


@dataclass(frozen=True)
class Args:
    """Parsed arguments: positionals in order, options by name (without ``--``)."""

    positionals: list[str]
    options: dict[str, str] = field(default_factory=dict)
    # Every value of an option given more than once (``--repo a --repo b``), in order.
    repeated: dict[str, list[str]] = field(default_factory=dict)

    def option(self, name: str) -> str | None:
        """The value of ``--name``, or None when it was not given."""
        return self.options.get(name)

    def values(self, name: str) -> list[str]:
        """Every value of ``--name`` in the order given (empty when it was not given)."""
        if name in self.repeated:
            return list(self.repeated[name])
        return [self.options[name]] if name in self.options else []

    def rest(self, start: int) -> str:
        """Positionals from ``start`` on, joined: free text such as a reason."""
        return " ".join(self.positionals[start:])
