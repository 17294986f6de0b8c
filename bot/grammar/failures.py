"""Any failure of a command, as the one sentence a person sees: the only place that says so.

A ``GovernanceError`` carries its sentence. Anything else is a bug: it is logged with a short
reference the person can quote, and no frontend ever shows a traceback.
"""

from __future__ import annotations

import logging
import uuid

from bot.render.blocks import Reply, error_reply
from governance.core.errors import GovernanceError, InternalError

log = logging.getLogger(__name__)


def failure_message(exc: Exception, what: str) -> str:
    """The sentence for ``exc`` raised while doing ``what``; a bug is logged (with its
    traceback, so call this while handling it) under the reference the sentence quotes."""
    if isinstance(exc, GovernanceError):
        return exc.message
    reference = uuid.uuid4().hex[:8]
    log.exception("%s failed (ref %s)", what, reference)
    return f"Something went wrong on our side; it was logged with reference {reference}."


def failure_reply(exc: Exception, what: str) -> Reply:
    """``failure_message`` as the Reply every refusal is (``error_reply``), with the error's
    code (``internal_error`` for a bug)."""
    code = exc.code if isinstance(exc, GovernanceError) else InternalError.code
    return error_reply(failure_message(exc, what), code=code)
