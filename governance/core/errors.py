"""Typed domain errors.

Every error a person can cause carries one clear sentence (``message``) saying what was wrong
and what is expected. Adapters render them in one place; nothing below the UI formats output.
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


class DatabaseBusy(GovernanceError):
    """Another transaction held the lock past the bounded wait; this one was rolled back."""

    code = "database_busy"
