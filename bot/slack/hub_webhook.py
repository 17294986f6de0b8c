"""``POST /hub/webhook``: the Hub tells the web process a watched model changed.

Checked in this order, on the raw bytes:

1. size: a body over ``MAX_BODY_BYTES`` gets 413 (a longer Content-Length is not even read);
2. no ``MODELGOV_HUB_WEBHOOK_SECRET`` configured: 503, saying what to set (nothing is read);
3. the ``X-Webhook-Secret`` header, compared with the secret in constant time
   (``hmac.compare_digest``): missing or wrong gets 401 and changes nothing;
4. the body: not JSON, or without ``event``/``repo`` fields, gets 400 with one sentence;
5. a repository event of a watched model (or one of its earlier ids) queues a check of it
   (one ``check_requests`` row, folded into a queued one) and gets 200; anything else
   (datasets, Spaces, discussions, models nobody watches) gets 200 and is ignored.

The request thread only writes that row: the worker runs the check within a second or two.
A database too busy to take the row gets 503, so the Hub delivers the event again.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from governance.core.db import transaction
from governance.core.errors import GovernanceError
from governance.upstream.hub_events import parse_event, queue_for_event
from governance.wiring.services import Services

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

HUB_WEBHOOK_PATH = "/hub/webhook"
# The Hub's payloads are a few kB; the same ceiling as the Slack endpoint.
MAX_BODY_BYTES = 1024 * 1024
_TEXT = "text/plain; charset=utf-8"


def hub_webhook_app(services: Services) -> WSGIApplication:
    """The WSGI application answering ``POST /hub/webhook`` for ``services``."""
    secret = services.settings.hub_webhook_secret or ""

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "GET") != "POST":
            return _answer(start_response, "405 Method Not Allowed", "POST only.")
        status, sentence = _handle(environ, services, secret)
        return _answer(start_response, status, sentence)

    return application


def _handle(environ: WSGIEnvironment, services: Services, secret: str) -> tuple[str, str]:
    length = _content_length(environ)
    too_large = (
        "413 Content Too Large",
        f"The request body is larger than {MAX_BODY_BYTES // 1024} kB; it was ignored.",
    )
    if length is not None and length > MAX_BODY_BYTES:
        return too_large
    if not secret:
        return (
            "503 Service Unavailable",
            "Hub webhooks are off: set MODELGOV_HUB_WEBHOOK_SECRET on the web process to the "
            "webhook's secret (`modelgov hub-webhook create` registers it with the Hub).",
        )
    raw = environ["wsgi.input"].read(MAX_BODY_BYTES + 1 if length is None else length)
    if len(raw) > MAX_BODY_BYTES:
        return too_large
    # WSGI gives headers as latin-1 text: back to the bytes sent, compared in constant time.
    given = str(environ.get("HTTP_X_WEBHOOK_SECRET") or "").encode("latin-1", "replace")
    if not hmac.compare_digest(given, secret.encode("utf-8")):
        return "401 Unauthorized", "The X-Webhook-Secret header is missing or wrong; ignored."
    try:
        event = parse_event(raw)
    except GovernanceError as exc:
        return "400 Bad Request", exc.message
    try:
        with transaction(services.session_factory) as session:
            outcome = queue_for_event(session, event, now=services.clock.now())
    except GovernanceError as exc:  # the database is busy: the Hub delivers it again
        return "503 Service Unavailable", exc.message
    except SQLAlchemyError as exc:
        log.warning("hub webhook not queued: %s: %s", type(exc).__name__, exc)
        return "503 Service Unavailable", "The database is unreachable; nothing was queued."
    log.info("hub webhook: %s", outcome.sentence)
    return "200 OK", outcome.sentence


def _content_length(environ: WSGIEnvironment) -> int | None:
    value = str(environ.get("CONTENT_LENGTH") or "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _answer(start_response: StartResponse, status: str, sentence: str) -> Iterable[bytes]:
    data = f"{sentence}\n".encode()
    start_response(status, [("Content-Type", _TEXT), ("Content-Length", str(len(data)))])
    return [data]
