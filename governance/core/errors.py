"""Typed domain errors.

Every error a person can cause carries one clear sentence (``message``) saying what was wrong
and what is expected. Adapters render them in one place; nothing below the UI formats output.

Every class names a stable snake_case ``code`` of its own: it is what ``--json`` outputs put in
``error.code`` (``bot.cli.json_output``), so scripts branch on it instead of on the sentence. A
code, once published, is never renamed or reused for another failure.
"""

from __future__ import annotations


class GovernanceError(Exception):
    """Base class: an expected, user-facing failure. ``message`` is shown as is."""

    code: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(GovernanceError):
    """The input was malformed or out of range; nothing was written."""

    code = "invalid_input"


class UsageError(InvalidInput):
    """The command itself was mistyped: an unknown subcommand or option, a missing value, too
    few or too many arguments. The message quotes the usage."""

    code = "usage_error"


class NotFound(GovernanceError):
    """The thing named does not exist (a model, a request, a license id)."""

    code = "not_found"


class PermissionDenied(GovernanceError):
    """The acting user may not do this (not an approver, own request)."""

    code = "permission_denied"


class Conflict(GovernanceError):
    """The state no longer allows this (already decided, duplicate request)."""

    code = "conflict"


class UpstreamError(GovernanceError):
    """Upstream (the Hub, a model server) could not answer now; try again later."""

    code = "upstream_error"


class ChecksFailed(UpstreamError):
    """A recheck ran but some models (or author listings) could not be checked upstream; those
    are failed checks, never changes, and are tried again next cycle."""

    code = "check_failed"


class GateFailed(GovernanceError):
    """A gate ran and said no: ``scan`` found a model in use that is not approved."""

    code = "gate_failed"


class DatabaseBusy(GovernanceError):
    """Another transaction held the lock past the bounded wait; this one was rolled back."""

    code = "database_busy"


class InternalError(GovernanceError):
    """A bug: it was logged with the reference the message quotes; nothing is half-written."""

    code = "internal_error"


class MigrationFailed(GovernanceError):
    """A schema migration did not complete (``modelgov db upgrade``); the message says why."""

    code = "migration_failed"
