"""Serving the metrics and the health of a process, and timing Slack's acks.

- ``MetricsEndpoint``: what ``GET /metrics`` answers, in Prometheus' text format (or
  OpenMetrics when the scraper asks for it): this process's metrics (``governance.core.metrics``;
  every gunicorn worker's in multiprocess mode) and the database's (``DatabaseCollector``).
  With ``MODELGOV_METRICS_TOKEN`` set it wants ``Authorization: Bearer <token>``.
- ``serve_metrics``: the worker's and Socket Mode's own small HTTP server on
  ``MODELGOV_METRICS_PORT`` (``/metrics`` and ``/healthz``); the web process serves both on
  its own port (``bot.slack.wsgi``).
- ``MeasuredSocketModeHandler``: Bolt's Socket Mode handler, timing each ack.
- ``prepare_multiprocess`` / ``worker_exited``: prometheus_client's multiprocess mode for
  ``WEB_CONCURRENCY`` > 1, so one scrape of ``/metrics`` (answered by whichever worker) sums
  them all. The library needs ``PROMETHEUS_MULTIPROC_DIR`` set before it is imported, so when
  it is not set, ``serve --http`` makes a temporary directory and restarts itself once with it
  (and removes it when gunicorn stops); one set by the operator is used as is (its files of an
  earlier run are removed at start, as the library requires).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, multiprocess, values
from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.slack.health import HealthProbe
from governance.core import metrics
from governance.core.config import ConfigError
from governance.wiring.db_metrics import DatabaseCollector
from governance.wiring.services import Services

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
HEALTH_PATH = "/healthz"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The directory this process made for itself (removed when gunicorn stops). No MODELGOV_
# prefix: it is not a setting, and unknown MODELGOV_ variables are warned about.
_OWNED_ENV = "_MODELGOV_OWNED_MULTIPROC_DIR"
# Where the WSGI screen leaves the kind of the Slack request it parsed (for the ack timer).
KIND_KEY = "modelgov.request_kind"
# Interaction payload types Slack sends; anything else is "other" (label values stay few).
_INTERACTIONS = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "interactive_message",
        "dialog_submission",
    }
)


def request_kind(body: Mapping[str, Any] | None) -> str:
    """The kind of a Slack payload for labels: command, event, an interaction's type, other."""
    if not body:
        return "other"
    if isinstance(body.get("command"), str):
        return "command"
    kind = body.get("type")
    if kind == "event_callback":
        return "event"
    if isinstance(kind, str) and (kind in _INTERACTIONS or kind == "url_verification"):
        return kind
    return "other"


def is_multiprocess() -> bool:
    """Whether prometheus_client keeps its values in files (``PROMETHEUS_MULTIPROC_DIR``)."""
    return bool(getattr(values.ValueClass, "_multiprocess", False))


class _Exposed(Collector):
    """This process's metrics (or every worker's) followed by the database's."""

    def __init__(self, database: Collector) -> None:
        self._database = database
        directory = os.environ.get(MULTIPROC_ENV)
        self._process: Collector = (
            multiprocess.MultiProcessCollector(None, path=directory)  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated
            if directory and is_multiprocess()
            else REGISTRY
        )

    def collect(self) -> Iterable[Metric]:
        yield from self._process.collect()
        yield from self._database.collect()


class MetricsEndpoint:
    """``GET /metrics`` for one process, as a WSGI app."""

    def __init__(self, services: Services) -> None:
        self._exposed = _Exposed(DatabaseCollector(services.engine, services.clock))
        self._token = services.settings.metrics_token

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not self._authorized(environ.get("HTTP_AUTHORIZATION") or ""):
            data = b"Metrics need Authorization: Bearer <MODELGOV_METRICS_TOKEN>.\n"
            start_response(
                "401 Unauthorized",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(data))),
                    ("WWW-Authenticate", 'Bearer realm="modelgov metrics"'),
                ],
            )
            return [data]
        encoder, content_type = choose_encoder(environ.get("HTTP_ACCEPT") or "")
        data = encoder(self._exposed)
        start_response(
            "200 OK", [("Content-Type", content_type), ("Content-Length", str(len(data)))]
        )
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [data]

    def _authorized(self, header: str) -> bool:
        if not self._token:
            return True
        scheme, _, credentials = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            credentials.strip().encode(), self._token.encode()
        )


def health_response(
    probe: HealthProbe, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """``probe``'s report as the JSON answer of ``GET /healthz`` (200, or 503 when down)."""
    status, report = probe.report()
    data = json.dumps(report, sort_keys=True).encode() + b"\n"
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(data))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [data]


def observability_app(
    endpoint: MetricsEndpoint, probe: HealthProbe
) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    """The WSGI app of the metrics port: ``/metrics``, ``/healthz``, 404 elsewhere."""

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if environ.get("REQUEST_METHOD") not in {"GET", "HEAD"}:
            return _plain(start_response, "405 Method Not Allowed", "GET only.\n")
        if path == METRICS_PATH:
            return endpoint(environ, start_response)
        if path == HEALTH_PATH:
            return health_response(probe, environ, start_response)
        return _plain(start_response, "404 Not Found", "Not found: try /metrics or /healthz.\n")

    return application


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow scraper never holds up the process's exit
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Every scrape would be a log line; nothing is logged."""


class MetricsServer:
    """The metrics port's HTTP server, on its own daemon thread until ``close()``."""

    def __init__(self, server: WSGIServer | None) -> None:
        self._server = server
        self._thread: threading.Thread | None = None
        if server is not None:
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.2},
                name="modelgov-metrics",
                daemon=True,
            )
            self._thread.start()

    @property
    def port(self) -> int | None:
        """The port it listens on (None: not serving, MODELGOV_METRICS_PORT is not set)."""
        return None if self._server is None else int(self._server.server_address[1])

    def close(self) -> None:
        """Stop serving and release the port (nothing when not serving)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def serve_metrics(services: Services, probe: HealthProbe) -> MetricsServer:
    """Serve ``/metrics`` and ``probe``'s ``/healthz`` on ``MODELGOV_METRICS_PORT`` (on
    ``MODELGOV_METRICS_HOST``) until ``close()``; a server that serves nothing when the port
    is not set.

    Raises:
        ConfigError: the port cannot be listened on (in use, or not allowed).
    """
    settings = services.settings
    if settings.metrics_port is None:
        return MetricsServer(None)
    app = observability_app(MetricsEndpoint(services), probe)
    try:
        server = make_server(
            settings.metrics_host,
            settings.metrics_port,
            app,
            server_class=_ThreadingServer,
            handler_class=_QuietHandler,
        )
    except OSError as exc:
        raise ConfigError(
            f"MODELGOV_METRICS_PORT: cannot listen on {settings.metrics_host}:"
            f"{settings.metrics_port} ({exc.strerror or exc}); free the port or choose another."
        ) from None
    log.info(
        "metrics and health of the %s at http://%s:%s%s and %s",
        probe.process,
        settings.metrics_host,
        settings.metrics_port,
        METRICS_PATH,
        HEALTH_PATH,
    )
    return MetricsServer(server)


class MeasuredSocketModeHandler(SocketModeHandler):
    """Bolt's builtin Socket Mode handler, with each request's time to its ack observed."""

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]  # slack_bolt's own override narrows the client the same way
        """Dispatch ``req`` to the app and send its ack; observe the time it took."""
        started = time.perf_counter()
        response = run_bolt_app(self.app, req)
        send_response(client, req, response, time.time())
        kind = request_kind(req.payload if isinstance(req.payload, dict) else None)
        metrics.observe_ack("socket", kind, time.perf_counter() - started)


def prepare_multiprocess(
    workers: int,
    *,
    environ: dict[str, str] | None = None,
    execv: Callable[[str, list[str]], object] = os.execv,
) -> Path | None:
    """Make metrics multiprocess for ``workers`` gunicorn workers; returns the directory
    this process owns (to remove when it stops), or None.

    One worker needs nothing. Several: with ``PROMETHEUS_MULTIPROC_DIR`` set (by the operator,
    or by this process before it restarted itself) its stale files are removed; without it, a
    temporary directory is made and the process restarts itself with it (``execv``; the
    library reads the variable once, when it is first imported).
    """
    env = os.environ if environ is None else environ
    directory = env.get(MULTIPROC_ENV)
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)
        if not is_multiprocess():
            log.warning(
                "%s is set but metrics are per process (it was set too late)", MULTIPROC_ENV
            )
        owned = env.get(_OWNED_ENV) == directory
        log.info("the metrics of %d web workers are added up in %s", workers, directory)
        return path if owned else None
    if workers <= 1:
        return None
    made = tempfile.mkdtemp(prefix="modelgov-metrics-")
    env[MULTIPROC_ENV] = made
    env[_OWNED_ENV] = made
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    logging.shutdown()
    execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
    return Path(made)  # only when ``execv`` returns (tests)


def run_multiprocess(workers: int, run: Callable[[], object]) -> None:
    """``run()`` (gunicorn) with multiprocess metrics prepared for ``workers`` workers, and
    the directory made for it removed afterwards."""
    owned = prepare_multiprocess(workers)
    try:
        run()
    finally:
        if owned is not None:
            shutil.rmtree(owned, ignore_errors=True)


def worker_exited(pid: int) -> None:
    """gunicorn's ``child_exit``: drop the live gauges of a worker that is gone."""
    if is_multiprocess():
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]  # unannotated upstream


def _plain(start_response: StartResponse, status: str, body: str) -> Iterator[bytes]:
    data = body.encode()
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))]
    )
    return iter([data])
