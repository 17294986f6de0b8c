"""Who is at the terminal: the OS account behind a console or CLI command, and what ``--as``
(CLI) and ``:as`` (console) may claim.

The OS account is read from the process's real user id (``pwd``), not from ``$USER`` or
``$LOGNAME`` (``getpass.getuser`` reads those first, so ``USER=bob modelgov ...`` would pass
for bob). A name claimed with ``--as`` / ``:as`` is recorded as the actor, next to the OS
account; it may do what needs an approver only when MODELGOV_CLI_IMPERSONATION allows it, which
by default it does only on the embedded SQLite database, where trying the product alone at one
terminal is the point.
"""

from __future__ import annotations

import getpass
import os

from sqlalchemy.engine import make_url

from governance.core.config import Settings
from governance.registry.audit import AuditOrigin
from governance.registry.models import AuditChannel

AS_OPTION = "--as"
CONSOLE_AS = ":as"


def os_account() -> str:
    """The login name of this process's real user id (``getpass.getuser`` where there is no
    ``pwd``, as on Windows); ``unknown`` if neither can tell."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, OSError):
        pass
    try:
        return getpass.getuser()
    except Exception:  # getpass raises OSError, or KeyError on some platforms, when it cannot
        return "unknown"


def impersonation_allowed(settings: Settings) -> bool:
    """MODELGOV_CLI_IMPERSONATION if set; otherwise True only for the embedded SQLite database
    (DATABASE_URL not set), False for PostgreSQL or any database named explicitly."""
    if settings.cli_impersonation is not None:
        return settings.cli_impersonation
    explicit = "database_url" in settings.model_fields_set
    return not explicit and make_url(settings.database_url).get_backend_name() == "sqlite"


def terminal_origin(
    settings: Settings, channel: AuditChannel, *, acting: str, account: str, option: str
) -> AuditOrigin:
    """The audit origin of a console or CLI command run by OS user ``account`` acting as
    ``acting``: a claim (made with ``option``) when the two differ."""
    claimed = option if acting != account else None
    return AuditOrigin(
        channel,
        os_user=account,
        claimed_with=claimed,
        impersonation_allowed=impersonation_allowed(settings),
    )
