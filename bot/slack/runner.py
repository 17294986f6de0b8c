"""Running the Slack app: Socket Mode (no public URL) or HTTP under gunicorn.

Socket Mode is the default for development and small teams: one outbound connection, nothing
to expose. HTTP mode is the Procfile's ``web``: gunicorn's threaded workers, each building its
own Services, app and worker pool after the fork (connections, threads and a loaded model must
not cross a fork), and loading the model before its first request when
``MODELGOV_MODEL_LOAD_AT_START`` is set.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker
from sqlalchemy.engine import make_url

from bot.slack.app import build_app
from bot.slack.delivery.client import make_client
from bot.slack.delivery.workers import WorkerPool
from bot.slack.health import HealthProbe
from bot.slack.observability import (
    MeasuredSocketModeHandler,
    run_multiprocess,
    serve_metrics,
    worker_exited,
)
from bot.slack.wsgi import wsgi_app
from governance.assistant.factory import Assistant
from governance.core.config import ConfigError, Settings
from governance.core.errors import GovernanceError
from governance.core.startup import backoff_delays
from governance.wiring.services import Services

log = logging.getLogger(__name__)

# Threads per gunicorn worker. SQLite serializes transactions (its busy handler backs off by
# sleeping, which is unfair under contention), so more threads only lengthen the tail there;
# PostgreSQL overlaps round trips. Measured with bench/ack_latency.py on 2 CPUs.
HTTP_THREADS = {"sqlite": 4, "postgresql": 8}
# While a worker loads its model (a Hub download can take minutes) it tells the arbiter it is
# alive this often, well inside gunicorn's worker timeout.
HEARTBEAT_SECONDS = 5.0

# Builds a process's Services from its settings (``bot.cli.process_services.process_services``).
ServicesFactory = Callable[[Settings], Services]


def connect_with_backoff(
    connect: Callable[[], None],
    *,
    log: Callable[[str], None],
    sleep: Callable[[float], object] = time.sleep,
    delay: Callable[[int], float] | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> int:
    """Call ``connect`` until it returns; return the number of attempts (0: ``stopped()``).

    Each failure (Slack unreachable, ``apps.connections.open`` refused, the WebSocket not
    opening) logs one line, ``Slack not reachable (URLError: ...); retrying in 4 s``, and waits
    1 s, 2 s, 4 s ... up to 30 s. KeyboardInterrupt (Ctrl-C) propagates from ``sleep``.
    """
    schedule = delay or backoff_delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            connect()
        except Exception as exc:  # any failure to connect is retried; the cause is logged
            pause = schedule(attempt)
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            log(f"Slack not reachable ({reason}); retrying in {pause:g} s")
            sleep(pause)
            if stopped():
                return 0
            continue
        if attempt > 1:
            log(f"connected to Slack after {attempt} attempts")
        return attempt


def watch_connection(
    client: Any,
    *,
    stop: threading.Event,
    log: Callable[[str], None],
    check_every: float = 5.0,
    stale_after: float = 15.0,
) -> None:
    """Until ``stop`` is set: reopen the Socket Mode connection when it has gone quiet.

    slack_sdk's builtin client pings every 5 s but, when the TCP connection dies without a
    close frame, only gives up on it after five failed pings in a row (measured: no reconnect
    within 40 s). Here a connection with a failed ping, a last pong older than ``stale_after``
    seconds, or no socket is replaced through ``apps.connections.open``, with the same backoff
    as at start. ``client`` is the builtin ``SocketModeClient``.
    """
    while not stop.wait(check_every):
        session = client.current_session
        last_pong = getattr(session, "last_ping_pong_time", None)
        quiet = last_pong is not None and time.time() - last_pong > stale_after
        ping_failed = getattr(session, "consecutive_check_state_error_count", 0) > 0
        if client.is_connected() and not quiet and not ping_failed:
            continue
        log("Slack connection lost (a ping failed or no pong came back); reconnecting")
        connect_with_backoff(
            lambda: client.connect_to_new_endpoint(force=True),
            log=log,
            sleep=stop.wait,
            stopped=stop.is_set,
        )


def serve_socket_mode(
    settings: Settings,
    services: Services,
    *,
    stop: threading.Event | None = None,
) -> None:
    """Connect to Slack over a WebSocket and serve until interrupted (or ``stop`` is set).

    Slack unreachable at start is retried with backoff (``connect_with_backoff``); a dropped
    WebSocket is reopened by slack_sdk's builtin client (its monitor checks the session every
    5 s and asks ``apps.connections.open`` for a new URL, logging each failed attempt).
    """
    if not settings.slack_app_token or not settings.slack_bot_token:
        raise ConfigError("Socket Mode needs SLACK_APP_TOKEN (xapp-...) and SLACK_BOT_TOKEN.")
    pool = WorkerPool()
    app = build_app(settings, services, pool=pool, socket_mode=True)
    # Its own Web client, pointed at SLACK_API_BASE_URL: Bolt's default one (the app is built
    # with ``authorize=``, not a client) would ask slack.com for the WebSocket URL.
    handler = MeasuredSocketModeHandler(
        app, settings.slack_app_token, web_client=make_client(settings)
    )
    metrics = serve_metrics(services, HealthProbe.for_socket_mode(services, handler.client))
    stop = stop or threading.Event()
    try:
        if connect_with_backoff(
            handler.connect, log=log.warning, sleep=stop.wait, stopped=stop.is_set
        ):
            log.info("connected to Slack in Socket Mode")
            watch_connection(handler.client, stop=stop, log=log.warning)
    finally:
        handler.close()  # type: ignore[no-untyped-call]  # slack_bolt leaves close() unannotated
        pool.shutdown(wait=False)
        metrics.close()


class _Gunicorn(BaseApplication):
    """gunicorn run from Python: each worker builds its Services and app (``load``), then
    loads the model if so configured (``_start_worker``), before it accepts a request."""

    def __init__(
        self, settings: Settings, options: dict[str, Any], worker_services: ServicesFactory
    ) -> None:
        self._settings = settings
        self._options = options
        self._worker_services = worker_services
        self._pool: WorkerPool | None = None
        self._services: Services | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)
        self.cfg.set("post_worker_init", self._start_worker)
        self.cfg.set("child_exit", lambda _server, worker: worker_exited(worker.pid))
        self.cfg.set("worker_exit", lambda _server, _worker: self._close())

    def load(self) -> Any:
        self._services = self._worker_services(self._settings)
        self._pool = WorkerPool()
        app = build_app(self._settings, self._services, pool=self._pool)
        return wsgi_app(app, self._services)

    def _start_worker(self, worker: Worker) -> None:
        """gunicorn's ``post_worker_init``: the app is built, no request accepted yet.

        A model that cannot load stops the worker with one line; gunicorn then stops (a
        worker that fails to boot halts the arbiter) rather than serving without it.
        """
        assert self._services is not None
        assistant = self._services.assistant
        try:
            loaded = _load_model(assistant, worker)
        except GovernanceError as exc:
            worker.log.error("worker %s cannot load the model: %s", worker.pid, exc.message)
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
        if loaded:
            name = assistant.runtime().name
            worker.log.info("worker %s loaded the model %s before serving", worker.pid, name)

    def _close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._services is not None:
            self._services.close()


def _load_model(assistant: Assistant, worker: Worker) -> bool:
    """``assistant.start()`` in a thread while this thread keeps ``worker`` alive for the
    arbiter; returns whether a model was loaded. Raises what ``start`` raises."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-load") as loader:
        loading = loader.submit(assistant.start)
        while True:
            try:
                return loading.result(timeout=HEARTBEAT_SECONDS)
            except TimeoutError:
                worker.notify()


def serve_http(
    settings: Settings,
    *,
    worker_services: ServicesFactory,
    port: int,
    host: str = "0.0.0.0",
    threads: int | None = None,
) -> None:
    """Serve ``POST /slack/events`` and ``GET /healthz`` on ``host:port`` until stopped.

    ``WEB_CONCURRENCY`` sets the number of worker processes (gunicorn's convention; default 1);
    each builds its Services with ``worker_services`` after the fork.
    """
    if not settings.slack_bot_token or not settings.slack_signing_secret:
        raise ConfigError("HTTP mode needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.")
    options = gunicorn_options(settings, port=port, host=host, threads=threads)
    # Several workers share /metrics through files (this may restart the process once).
    run_multiprocess(options["workers"], _Gunicorn(settings, options, worker_services).run)


def gunicorn_options(
    settings: Settings, *, port: int, host: str = "0.0.0.0", threads: int | None = None
) -> dict[str, Any]:
    """The gunicorn settings of the web process (bench/ack_latency.py serves bare Bolt with
    the same ones); returns them as ``cfg.set`` names and values."""
    return {
        "bind": f"{host}:{port}",
        "workers": int(os.environ.get("WEB_CONCURRENCY", "1")),
        "worker_class": "gthread",
        "threads": threads
        or HTTP_THREADS.get(make_url(settings.database_url).get_backend_name(), 8),
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "modelgov-web",
    }


def serve_slack(
    services: Services,
    *,
    http: bool,
    port: int,
    worker_services: ServicesFactory,
) -> None:
    """``modelgov serve``: HTTP with ``--http``, else Socket Mode (needs SLACK_APP_TOKEN).

    ``worker_services`` builds each gunicorn worker's own Services (HTTP mode). The CLI starts
    the scheduler itself before calling this in Socket Mode; in HTTP mode it is the separate
    ``worker``.
    """
    settings = services.settings
    if http:
        services.close()  # each gunicorn worker builds its own Services after the fork
        serve_http(settings, worker_services=worker_services, port=port)
        return
    if not settings.slack_app_token:
        raise ConfigError(
            "SLACK_APP_TOKEN is not set: set it for Socket Mode, or run `modelgov serve --http`."
        )
    serve_socket_mode(settings, services)
