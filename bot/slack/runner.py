"""Running the Slack app: Socket Mode (no public URL) or HTTP under gunicorn.

Socket Mode is the default for development and small teams: one outbound connection, nothing
to expose. HTTP mode is the Procfile's ``web``: gunicorn's threaded workers, each building its
own Services, app and worker pool after the fork (connections, threads and a loaded model must
not cross a fork), and loading the model before its first request when
``MODELGOV_MODEL_LOAD_AT_START`` is set.
"""

from __future__ import annotations

import gc
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
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import make_url

from bot.slack.app import build_app
from bot.slack.delivery.client import make_client
from bot.slack.delivery.workers import WorkerPool
from bot.slack.gunicorn_logs import GunicornLogger
from bot.slack.health import HealthProbe
from bot.slack.observability import (
    MeasuredSocketModeHandler,
    run_multiprocess,
    serve_metrics,
    worker_exited,
)
from bot.slack.wsgi import wsgi_app
from governance.assistant.factory import Assistant
from governance.core import logs
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
# Slack's answers that mean "this token will never work" (revoked, wrong, wrong kind): retrying
# cannot help, so start-up stops with the fix instead.
TOKEN_REFUSED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)
PREFLIGHT_TIMEOUT_SECONDS = 5


class SlackTokenRefused(ConfigError):
    """Slack answered that a token is not valid; the message names the variable and the fix."""

    code = "slack_token_refused"


def bot_token_refused(error: str) -> SlackTokenRefused:
    """The one line for a refused SLACK_BOT_TOKEN."""
    return SlackTokenRefused(
        f"Slack refused SLACK_BOT_TOKEN ({error}): set it to the app's Bot User OAuth Token "
        "(xoxb-..., on the app's OAuth & Permissions page; reinstall the app if it was revoked)."
    )


def app_token_refused(error: str) -> SlackTokenRefused:
    """The one line for a refused SLACK_APP_TOKEN (Socket Mode)."""
    return SlackTokenRefused(
        f"Slack refused SLACK_APP_TOKEN ({error}): generate an app-level token with the "
        "connections:write scope (Basic Information, App-Level Tokens) and set SLACK_APP_TOKEN "
        "to it (xapp-...)."
    )


def check_bot_token(settings: Settings, *, warn_unreachable: bool = True) -> None:
    """One ``auth.test`` before serving: a refused token stops start-up, Slack away does not.

    Slack unreachable (or answering anything else) is one WARNING line and start-up goes on:
    the process serves the moment Slack is back, and /healthz says so meanwhile.

    Raises:
        SlackTokenRefused: Slack answered that SLACK_BOT_TOKEN is not valid.
    """
    client = make_client(settings, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    client.retry_handlers = []  # one quick try; the process must not hang before it serves
    try:
        answer = client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "error")
        if error in TOKEN_REFUSED:
            raise bot_token_refused(error) from None
        log.warning("Slack answered auth.test with %s; starting anyway", error)
        return
    except Exception as exc:  # unreachable, timed out, not Slack: said once, then serve
        if warn_unreachable:
            log.warning(
                "Slack is not reachable at %s (%s); starting anyway: /healthz reports it until "
                "Slack answers",
                settings.slack_api_base_url,
                _reason(exc),
            )
        return
    log.info("Slack: signed in as %s in workspace %s", answer.get("user"), answer.get("team"))


def _reason(exc: BaseException) -> str:
    """``TypeError: first line of the message``, at most 200 characters, cut between words."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= 200 else text[:200].rsplit(" ", 1)[0] + " ..."


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

    Raises:
        SlackTokenRefused: Slack refused the app-level token (retrying would not help).
    """
    schedule = delay or backoff_delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            connect()
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "error")
            if error in TOKEN_REFUSED:
                raise app_token_refused(error) from None
            pause = schedule(attempt)
            log(f"Slack not reachable (apps.connections.open: {error}); retrying in {pause:g} s")
            sleep(pause)
            if stopped():
                return 0
            continue
        except Exception as exc:  # any failure to connect is retried; the cause is logged
            pause = schedule(attempt)
            log(f"Slack not reachable ({_reason(exc)}); retrying in {pause:g} s")
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
    freeze_startup_objects()
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


def freeze_startup_objects() -> None:
    """Exempt what start-up built (settings, engines, the app, its tables and indexes, about
    140,000 objects) from the cyclic garbage collector's full passes.

    Those objects live as long as the process, yet every full collection walked them all: an
    ack in flight during one waited 110 to 180 ms (``bench/ack_latency.py``, a check running);
    with them frozen a full pass takes 5 to 15 ms. Garbage made before now is collected first
    so that none of it is kept for good.
    """
    gc.collect()
    gc.freeze()
    log.debug("froze %d start-up objects for the garbage collector", gc.get_freeze_count())


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
            if key in self.cfg.settings:  # control_socket_disable: gunicorn 25.1 and later
                self.cfg.set(key, value)
        self.cfg.set("post_worker_init", self._start_worker)
        self.cfg.set("child_exit", lambda _server, worker: worker_exited(worker.pid))
        self.cfg.set("worker_exit", lambda _server, _worker: self._close())

    def load(self) -> Any:
        """The worker's WSGI app. A failure is one line and exit status 3, which halts the
        arbiter; gunicorn would print the exception's text and traceback itself."""
        try:
            self._services = self._worker_services(self._settings)
            self._pool = WorkerPool()
            app = build_app(self._settings, self._services, pool=self._pool)
            return wsgi_app(app, self._services)
        except GovernanceError as exc:
            logs.report_failure(f"the web worker cannot start: {exc.message}", code=exc.code)
        except Exception as exc:
            logs.report_failure(
                f"the web worker cannot start: {_reason(exc)} (MODELGOV_LOG_LEVEL=DEBUG shows "
                "the traceback)",
                error=exc,
            )
        sys.exit(Arbiter.WORKER_BOOT_ERROR)

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
        freeze_startup_objects()

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
    check_bot_token(settings)
    options = gunicorn_options(settings, port=port, host=host, threads=threads)
    # Several workers share /metrics through files (this may restart the process once).
    run_multiprocess(options["workers"], _Gunicorn(settings, options, worker_services).run)


def gunicorn_options(
    settings: Settings, *, port: int, host: str = "0.0.0.0", threads: int | None = None
) -> dict[str, Any]:
    """The gunicorn settings of the web process (bench/ack_latency.py serves bare Bolt with
    the same ones); returns them as ``cfg.set`` names and values.

    Logs: gunicorn's own lines go through modelgov's logging set-up (``GunicornLogger``) at
    ``MODELGOV_LOG_LEVEL``; the access log (one line per request) is on in JSON mode, where a
    log pipeline indexes it, and off in text mode, where it would drown the rest.
    """
    current = logs.options()
    return {
        "bind": f"{host}:{port}",
        "workers": int(os.environ.get("WEB_CONCURRENCY", "1")),
        "worker_class": "gthread",
        "threads": threads
        or HTTP_THREADS.get(make_url(settings.database_url).get_backend_name(), 8),
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": "-" if current.format == "json" else None,
        "errorlog": "-",
        "loglevel": current.level.lower(),
        "logger_class": GunicornLogger,
        "proc_name": "modelgov-web",
        # gunicornc's control socket sits at one path per user ($HOME/.gunicorn): two web
        # processes on one host would share it, and nothing here uses it.
        "control_socket_disable": True,
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
    # Unreachable is said by the connection loop's own retry lines; a bad token stops here.
    check_bot_token(settings, warn_unreachable=False)
    serve_socket_mode(settings, services)
