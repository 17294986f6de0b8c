"""A loopback stand-in for the Hugging Face Hub, speaking the wire shapes huggingface_hub 2.x uses.

What it serves, on ``http://127.0.0.1:<port>``, is in ``hub_api`` (model info, listings, file
downloads, the Hub's errors) and ``hub_webhooks`` (the webhook settings API, and ``deliver`` to
POST events as the Hub does); its repositories and what tests do to them in ``hub_repos``;
injected failures and corrupted downloads in ``hub_faults``; rate limits (a fixed 300 s window
per resource, ``RateLimit`` headers on every answer) in ``hub_rate_limits``.

Drive it from tests::

    with HubStandin() as hub:
        hub.add_model("acme/m-7b", license="apache-2.0", files={"LICENSE": "Apache ..."})
        sha = hub.commit("acme/m-7b", files={"LICENSE": "new text"})
        hub.inject("status", status=503, times=2, path="/api/models/acme")
        hub.count(prefix="/api/models/")

The clock (``clock``: monotonic seconds) is injectable so a test can move the rate-limit window
along with a fake sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.hub_api import HubApi
from tests.support.hub_faults import (
    Corruption,
    FaultKind,
    HubFault,
    HubFaults,
    corrupted,
    file_path_of,
)
from tests.support.hub_rate_limits import RateWindows, resource_of
from tests.support.hub_replies import HubReply, error_reply
from tests.support.hub_repos import HubRepos
from tests.support.hub_webhooks import PREFIX as WEBHOOKS_PREFIX
from tests.support.hub_webhooks import HubWebhooks


class Request(NamedTuple):
    """One logged request."""

    method: str
    path: str  # unquoted path, without the query
    query: dict[str, list[str]]
    token: str | None


class HubStandin(HubRepos):
    """A Hub on 127.0.0.1 with mutable state, request counting and failure injection."""

    def __init__(
        self,
        *,
        api_quota: int = 500,
        resolve_quota: int = 3000,
        page_size: int = 1000,
        latency: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.latency = latency  # seconds added to every request (benchmarks)
        self._rates = RateWindows(api_quota=api_quota, resolve_quota=resolve_quota, clock=clock)
        self._faults = HubFaults()
        self._api = HubApi(self, lambda: self.endpoint, page_size)
        self.webhooks = HubWebhooks()  # the settings API and deliveries (hub_webhooks)
        self._log_lock = threading.Lock()
        self._log: list[Request] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> HubStandin:
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        # A short poll interval so that stop() (and every test teardown) returns quickly.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hanging requests are released."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> HubStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def page_size(self) -> int:
        """The most repos one listing page holds, whatever ``limit`` the client asked for."""
        return self._api.page_size

    @page_size.setter
    def page_size(self, size: int) -> None:
        self._api.page_size = size

    # -- failure injection -----------------------------------------------------------------

    def inject(
        self,
        kind: FaultKind,
        *,
        times: int = 1,
        path: str | None = None,
        status: int = 503,
        seconds: float = 30.0,
        after: int = 0,
    ) -> None:
        """Make the next ``times`` requests (whose path starts with ``path``, if given) fail,
        once ``after`` of them have been answered normally.

        ``status``: answer ``status`` with a JSON error body; ``rate_limit``: a 429 with
        ``RateLimit`` r=0 and t=``seconds``; ``malformed``: a 200 with truncated JSON;
        ``hang``: wait ``seconds`` then answer normally; ``drop``: close the connection without
        answering.
        """
        self._faults.add(HubFault(kind, times, path, status, seconds, skip=after))

    def corrupt_download(
        self, repo_id: str, corruption: Corruption, *, path: str = "", times: int = 1
    ) -> None:
        """Answer the next ``times`` downloads of ``repo_id`` (files under ``path``) with 200
        and the wrong bytes (see ``Corruption``); the file list still announces the right ones.

        ``stale`` is the file's content at the parent commit (or, for a new file, an empty
        body); ``altered`` is the right text with one clause changed.
        """
        fault = HubFault("corrupt", times, f"/{repo_id}/resolve/", 200, 0.0, corruption, path)
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    def reset_rate_limits(self) -> None:
        self._rates.reset()

    # -- request log -----------------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        """A copy of the request log, oldest first."""
        with self._log_lock:
            return list(self._log)

    def count(self, prefix: str = "", *, method: str | None = None) -> int:
        """How many requests had a path starting with ``prefix`` (and this method)."""
        with self._log_lock:
            return sum(
                1
                for r in self._log
                if r.path.startswith(prefix) and (method is None or r.method == method)
            )

    def reset_counts(self) -> None:
        with self._log_lock:
            self._log.clear()

    # -- requests --------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        raw_path: str,
        query: dict[str, list[str]],
        token: str | None,
        body: bytes = b"",
    ) -> HubReply | Literal["drop"]:
        """Route one request; return the reply, or ``"drop"`` to close without answering."""
        path = unquote(raw_path)
        with self._log_lock:
            self._log.append(Request(method, path, query, token))
        if self.latency:
            self._stopping.wait(self.latency)
        fault = self._faults.take(path)
        resource = resource_of(path)
        if fault is not None:
            if fault.kind == "drop":
                return "drop"
            if fault.kind == "hang":
                self._stopping.wait(fault.seconds)
            elif fault.kind == "status":
                return error_reply(fault.status, {"error": f"Injected failure ({fault.status})"})
            elif fault.kind == "malformed":
                return HubReply(200, {"Content-Type": "application/json"}, b'{"id": "trunc')
            elif fault.kind == "rate_limit":
                return self._rates.too_many(resource, max(1, int(fault.seconds)))
        allowed, rate_headers = self._rates.count(resource, consume=True)
        if not allowed:
            return self._rates.too_many(resource, int(rate_headers["RateLimit"].rsplit("t=", 1)[1]))
        if path == WEBHOOKS_PREFIX or path.startswith(WEBHOOKS_PREFIX + "/"):
            reply = self.webhooks.route(method, path, body, token)
            reply.headers.update(rate_headers)
            return reply
        with self.lock:
            reply = self._api.route(method, raw_path, path, query, token)
            if fault is not None and fault.kind == "corrupt" and reply.status == 200:
                assert fault.corruption is not None
                stale = b""
                if fault.corruption == "stale":
                    commit = reply.headers.get("X-Repo-Commit", "")
                    stale = self.parent_content(file_path_of(path), commit)
                reply = corrupted(reply, fault.corruption, stale)
        reply.headers.update(rate_headers)
        return reply


def _handler_class(hub: HubStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real Hub behind its proxy
        # Headers and body go out in separate writes; with Nagle on, the body waits for the
        # client's delayed ACK (~40 ms a request), which no real server would add.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet tests

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            auth = self.headers.get("Authorization", "")
            token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
            length = self.headers.get("Content-Length", "")
            body = self.rfile.read(int(length)) if length.isdigit() else b""
            reply = hub.handle(self.command, parts.path, query, token, body)
            if reply == "drop":
                self.close_connection = True
                return
            assert isinstance(reply, HubReply)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (its timeout fired during a "hang"): nothing to answer.
                self.close_connection = True

        def do_GET(self) -> None:
            self._serve()

        def do_HEAD(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

    return Handler
