"""The Slack stand-in's HTTP side: a loopback server for ``/api/<method>`` and ``/hooks/...``.

Answers as Slack's edge does: a Web API error is HTTP 200 with ``{"ok": false, ...}``
(``not_authed`` without a token, ``invalid_auth`` with a wrong one, ``invalid_json`` for a body
that does not parse), a rate limit is HTTP 429 with ``Retry-After``, an outage is an HTML page;
every answer carries ``X-Slack-Req-Id``. Every call is recorded before it is answered.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.slack_standin_errors import (
    SERVER_ERROR_PAGE,
    Failure,
    FaultPlan,
    SlackApiRefusal,
)
from tests.support.slack_standin_recording import CallLog, RecordedCall, ResponseUrlPost
from tests.support.slack_standin_response_urls import ResponseUrls
from tests.support.slack_standin_wire import (
    JSONDict,
    bearer_token,
    decode_json_fields,
    parse_body,
    parse_response_url_body,
)
from tests.support.slack_standin_workspace import SlackWorkspace

_JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class WireAnswer:
    """One HTTP answer; `hold` is how long to keep back an answer for a call already done."""

    status: int
    data: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    hold: float = 0.0


class SlackHttpServer:
    """Serves the Web API (`call_method` carries out a method) and the response_urls on
    127.0.0.1, applying the injected failures, rate limits and latency of `faults`."""

    def __init__(
        self,
        workspace: SlackWorkspace,
        call_method: Callable[[str, JSONDict], JSONDict],
        faults: FaultPlan,
        log: CallLog,
        response_urls: ResponseUrls,
    ) -> None:
        self._workspace = workspace
        self._call_method = call_method
        self._faults = faults
        self._log = log
        self._response_urls = response_urls
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``. Raises RuntimeError when the server is not started."""
        if self._httpd is None:
            raise RuntimeError("stand-in is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(
        self, target: str, raw: bytes, content_type: str, authorization: str | None
    ) -> WireAnswer:
        """The answer to one request for `target` (path and query) with body `raw`."""
        split = urlsplit(target)
        if split.path.startswith("/api/"):
            method = split.path[len("/api/") :]
            return self._web_api(method, split.query, raw, content_type, authorization)
        if split.path.startswith("/hooks/"):
            return self._response_url(split.path, raw, content_type)
        return WireAnswer(404, b"Not Found", "text/plain")

    # ---------------------------------------------------------------- the Web API

    def _web_api(
        self, method: str, query: str, raw: bytes, content_type: str, authorization: str | None
    ) -> WireAnswer:
        try:
            payload, was_json = parse_body(raw, content_type)
        except (ValueError, UnicodeDecodeError):
            return self._recorded(method, {}, None, content_type, {"error": "invalid_json"})
        for key, value in parse_qsl(query, keep_blank_values=True):
            payload.setdefault(key, value)
        token = bearer_token(authorization)
        # Slack ignores a token inside a JSON body: JSON requests must use the header.
        if token is None and not was_json:
            token = payload.get("token") or None
        payload.pop("token", None)

        if self._faults.latency:
            time.sleep(self._faults.latency)
        failure = self._faults.take(method)
        if failure is not None and failure.delay and not failure.late:
            time.sleep(failure.delay)
        if failure is not None and failure.status > 0:
            return self._failed(method, payload, token, content_type, failure)
        wait = None
        if self._faults.has_rate_limit(method):
            # Resolved only here: resolving a #name registers it (conversations.list shows it).
            channel = self._workspace.channel_id(str(payload.get("channel") or ""))
            wait = self._faults.rate_limited(method, channel)
        if wait is not None:
            limited = Failure(status=429, retry_after=wait, error=None, delay=0)
            return self._failed(method, payload, token, content_type, limited)

        if token is None:
            body: JSONDict = {"error": "not_authed"}
        elif token not in self._workspace.tokens:
            body = {"error": "invalid_auth"}
        else:
            try:
                decode_json_fields(payload)
                body = {"ok": True, **self._call_method(method, payload)}
            except SlackApiRefusal as refusal:
                body = {"error": refusal.error, **refusal.extra}
        hold = failure.delay if failure is not None and failure.late else 0.0
        return self._recorded(method, payload, token, content_type, body, hold=hold)

    def _recorded(
        self,
        method: str,
        payload: JSONDict,
        token: str | None,
        content_type: str,
        body: JSONDict,
        *,
        hold: float = 0.0,
    ) -> WireAnswer:
        if not body.get("ok"):
            body = {"ok": False, **body}
        self._log.record(RecordedCall(method, payload, token, content_type, 200, body))
        return WireAnswer(200, json.dumps(body).encode(), _JSON, hold=hold)

    def _failed(
        self,
        method: str,
        payload: JSONDict,
        token: str | None,
        content_type: str,
        failure: Failure,
    ) -> WireAnswer:
        headers: dict[str, str] = {}
        body: JSONDict | None
        if failure.status >= 500:
            body = None
            data, ctype = SERVER_ERROR_PAGE.encode(), "text/html"
        else:
            body = {"ok": False, "error": failure.error or "ratelimited"}
            data, ctype = json.dumps(body).encode(), _JSON
            if failure.status == 429:
                headers["Retry-After"] = str(failure.retry_after if failure.retry_after else 0)
        self._log.record(RecordedCall(method, payload, token, content_type, failure.status, body))
        return WireAnswer(failure.status, data, ctype, headers)

    # ---------------------------------------------------------------- response_urls

    def _response_url(self, path: str, raw: bytes, content_type: str) -> WireAnswer:
        try:
            payload = parse_response_url_body(raw, content_type)
        except (ValueError, UnicodeDecodeError, SlackApiRefusal):
            return WireAnswer(400, b"invalid_payload", "text/plain")
        failure = self._faults.take("response_url")
        if failure is not None and failure.delay:
            time.sleep(failure.delay)
        headers: dict[str, str] = {}
        if failure is not None and failure.status != 0:
            status, text = failure.status, failure.error or "rollup_error"
            if status == 429:
                headers["Retry-After"] = str(failure.retry_after or 0)
        else:
            status, text = self._response_urls.post(path, payload)
        url = self.root_url + path
        self._log.record_post(ResponseUrlPost(url, payload, status, text))
        self._log.record(
            RecordedCall("response_url", payload, None, content_type, status, {"ok": status == 200})
        )
        ctype = "text/html" if status != 200 else "text/plain"
        return WireAnswer(status, text.encode(), ctype, headers)


def _handler_class(server: SlackHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are separate writes; with Nagle on, each answer would wait ~40 ms
        # for the client's delayed ACK, which Slack does not add.
        disable_nagle_algorithm = True
        server_version = "Apache"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest output clean

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            content_type = (self.headers.get("Content-Type") or "").lower()
            answer = server.answer(self.path, raw, content_type, self.headers.get("Authorization"))
            if answer.hold:
                time.sleep(
                    answer.hold
                )  # done and recorded; the answer comes after the client gave up
            # A client that hung up (killed, timed out) misses the answer, as it would Slack's;
            # what was done stays done.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.data)))
                self.send_header("X-Slack-Req-Id", uuid.uuid4().hex)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(answer.data)

    return Handler
