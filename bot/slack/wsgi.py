"""The HTTP face of the app: every Slack request at ``POST /slack/events``, ``GET /healthz``
and ``GET /metrics`` (``bot.slack.observability``), and the Hub's webhook at
``POST /hub/webhook`` (``bot.slack.hub_webhook``). The time to each Slack request's response,
its ack, is observed in ``modelgov_slack_ack_seconds``.

Before Bolt sees a request, in this order, on the raw bytes:

1. size: a body over ``MAX_BODY_BYTES`` gets 413 (a longer Content-Length is not even read);
2. signature and timestamp (slack_sdk's SignatureVerifier, Slack's 5-minute window): anything
   unsigned or badly signed, whatever its shape (a non-numeric timestamp, a body that is not
   UTF-8 or not JSON), gets 401;
3. replay: a signature seen before (by any process of the deployment, see
   ``governance.core.seen_requests``) gets 409 and changes nothing; an Events API retry
   (``X-Slack-Retry-Num``) of an event already received gets 200 and is not handled again;
4. shape: a signed body that cannot be what Slack sends (bad JSON, ``user`` as a string, no
   actions, a ``container`` that is not an object ...) gets 400 with a sentence, or 200 with an
   ephemeral sentence when it carries a ``response_url`` to show it through.

Only then does Bolt dispatch it, with the body as parsed here (``bot.slack.bolt_request``:
parsed once, not again by Bolt's adapter). None of these answers is a 500 or a traceback.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from slack_bolt import App
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.slack import bolt_request
from bot.slack.health import HealthProbe
from bot.slack.hub_webhook import HUB_WEBHOOK_PATH, hub_webhook_app
from bot.slack.observability import (
    KIND_KEY,
    METRICS_PATH,
    MetricsEndpoint,
    health_response,
    request_kind,
)
from bot.slack.payloads import payload_problem
from governance.core import metrics
from governance.core.errors import GovernanceError
from governance.core.seen_requests import SeenRequests
from governance.wiring.services import Services

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Far above any real Slack payload (a block action carrying a whole 50-block message is a few
# hundred kB URL-encoded), far below what would let one request tie up memory.
MAX_BODY_BYTES = 1024 * 1024
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_FORM = "application/x-www-form-urlencoded"

Respond = Callable[[str, str], None]


@dataclass(frozen=True)
class Refusal:
    """The answer to a request that does not reach Bolt."""

    status: str
    body: str
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Screened:
    """A request that passed every check: its body as text and as Bolt's payload."""

    raw: str
    body: dict[str, Any]


def wsgi_app(
    app: App,
    services: Services,
    *,
    seen: SeenRequests | None = None,
    health: HealthProbe | None = None,
) -> WSGIApplication:
    """Commands, interactivity and events share one URL (Bolt tells them apart).

    ``seen`` remembers signatures (made for ``services.engine`` if not given); ``health``
    answers /healthz (made from ``services`` if not given).
    """
    verifier = SignatureVerifier(services.settings.slack_signing_secret or "-")
    store = seen or SeenRequests.for_database(services.engine)
    probe = health or HealthProbe.for_services(services)
    exposition = MetricsEndpoint(services)
    hub_webhook = hub_webhook_app(services)
    # Sentences about malformed interactions go out through their response_url off the
    # request thread; two threads are plenty for something Slack itself never sends.
    notices = ThreadPoolExecutor(max_workers=2, thread_name_prefix="modelgov-notice")

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in {"GET", "HEAD"}:
            return health_response(probe, environ, start_response)
        if path == METRICS_PATH and method in {"GET", "HEAD"}:
            return exposition(environ, start_response)
        if path == HUB_WEBHOOK_PATH:
            return hub_webhook(environ, start_response)
        if path != EVENTS_PATH:
            return _plain(start_response, "404 Not Found", "Not found.\n")
        if method != "POST":
            return _plain(start_response, "405 Method Not Allowed", "POST only.\n")
        started = time.perf_counter()  # Slack's 3 s count from here: the ack is the response
        try:
            screened = _screen(environ, verifier, store, services, notices)
            if isinstance(screened, Refusal):
                return _respond(
                    start_response, screened.status, screened.body, screened.content_type
                )
            return bolt_request.dispatch(
                app, environ, start_response, raw=screened.raw, body=screened.body
            )
        finally:
            kind = environ.get(KIND_KEY, "refused")  # set once the request was read as Slack's
            metrics.observe_ack("http", kind, time.perf_counter() - started)

    return application


def _screen(
    environ: WSGIEnvironment,
    verifier: SignatureVerifier,
    store: SeenRequests,
    services: Services,
    notices: ThreadPoolExecutor,
) -> Screened | Refusal:
    """Read and check the request: what to hand to Bolt, or the answer refusing it."""
    length = _content_length(environ)
    if length is not None and length > MAX_BODY_BYTES:
        return Refusal("413 Content Too Large", _too_large())
    raw = environ["wsgi.input"].read(MAX_BODY_BYTES + 1 if length is None else length)
    if len(raw) > MAX_BODY_BYTES:
        return Refusal("413 Content Too Large", _too_large())
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""
    signature = environ.get("HTTP_X_SLACK_SIGNATURE") or ""
    text = _signed_text(verifier, raw, timestamp, signature)
    if text is None:
        return Refusal(
            "401 Unauthorized",
            "The request is not signed by Slack (or its timestamp is more than 5 minutes "
            "off); it was ignored.\n",
        )
    retry = bool(environ.get("HTTP_X_SLACK_RETRY_NUM"))
    try:
        fresh = store.first_time(f"sig:{signature}", now=services.clock.now())
    except GovernanceError as exc:
        return Refusal("503 Service Unavailable", f"{exc.message}\n")
    if not fresh:
        if retry:  # Slack retrying a delivery it did not see acknowledged: it was received
            return Refusal("200 OK", "")
        return Refusal(
            "409 Conflict",
            "This request was already received; a replayed request is refused and changes "
            "nothing.\n",
        )
    body = _parse(text, environ.get("CONTENT_TYPE") or "")
    if isinstance(body, str):  # not even a payload: the sentence says why
        environ[KIND_KEY] = request_kind(None)
        return _malformed(None, body, notices)
    environ[KIND_KEY] = request_kind(body)
    problem = payload_problem(body)
    if problem is not None:
        return _malformed(body, problem, notices)
    if body.get("type") == "event_callback":
        event_id = body.get("event_id")
        if isinstance(event_id, str) and event_id:
            key = f"event:{event_id[:100]}"
            try:
                if not store.first_time(key, now=services.clock.now()):
                    return Refusal("200 OK", "")  # an Events API retry: handled once already
            except GovernanceError as exc:
                return Refusal("503 Service Unavailable", f"{exc.message}\n")
    return Screened(text, body)


def _content_length(environ: WSGIEnvironment) -> int | None:
    value = str(environ.get("CONTENT_LENGTH") or "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _too_large() -> str:
    return f"The request body is larger than {MAX_BODY_BYTES // 1024} kB; it was ignored.\n"


def _signed_text(
    verifier: SignatureVerifier, raw: bytes, timestamp: str, signature: str
) -> str | None:
    """``raw`` as text if ``signature`` is Slack's for it at ``timestamp`` (within 5
    minutes), else None.

    Malformed headers are simply unsigned; a body that is not UTF-8 cannot be what Slack
    signed (the verifier works on text), so it is unsigned too.
    """
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if verifier.is_valid(body=text, timestamp=timestamp, signature=signature) else None


def _parse(text: str, content_type: str) -> dict[str, Any] | str:
    """The payload Bolt will see, or the sentence saying why there is none.

    Read the way Bolt reads it (``slack_bolt.request.internals.parse_body``): JSON for a JSON
    body or one that starts with ``{``, else a form whose ``payload`` field is JSON or whose
    fields are the payload (the last value of a repeated field). Unlike Bolt, a form is read
    as a payload form only when it has a ``payload`` field: Bolt looks for the word anywhere,
    so it reads ``/models info payload-model`` as an empty payload.
    """
    if not text:
        return {}
    if content_type.split(";")[0].strip().lower() == "application/json" or text.startswith("{"):
        return _json_object(text, "The request body")
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in fields:
        return _json_object(fields["payload"], "The payload")
    return fields


def _json_object(text: str, what: str) -> dict[str, Any] | str:
    try:
        value = json.loads(text)
    except ValueError:
        return f"{what} is not valid JSON."
    if not isinstance(value, dict):
        return f"{what} is not a JSON object."
    return value


def _malformed(body: dict[str, Any] | None, problem: str, notices: ThreadPoolExecutor) -> Refusal:
    """200 with the sentence where it can be shown, else 400 with it."""
    log.warning("signed but malformed Slack request refused: %s", problem)
    sentence = f"modelgov could not read this request: {problem}"
    if body is not None and isinstance(body.get("command"), str):
        # A slash command shows its ack: the sentence goes right there.
        reply = json.dumps({"response_type": "ephemeral", "text": sentence})
        return Refusal("200 OK", reply, "application/json")
    url = body.get("response_url") if body is not None else None
    # The payload is signed, so its response_url is Slack's (or, in tests, a stand-in's).
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        notices.submit(_post_notice, url, sentence)
        return Refusal("200 OK", "")
    return Refusal("400 Bad Request", f"{sentence}\n")


def _post_notice(url: str, sentence: str) -> None:
    try:
        WebhookClient(url, timeout=10).send(text=sentence, response_type="ephemeral")
    except Exception as exc:  # the sentence is a courtesy; the request was already refused
        log.info("cannot show a refusal through response_url: %s", exc)


def _respond(
    start_response: StartResponse, status: str, body: str, content_type: str
) -> Iterable[bytes]:
    data = body.encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
    return [data]


def _plain(start_response: StartResponse, status: str, body: str) -> Iterable[bytes]:
    return _respond(start_response, status, body, "text/plain; charset=utf-8")
