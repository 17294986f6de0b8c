"""Running the Slack app: Socket Mode (no public URL) or HTTP under gunicorn.

Socket Mode is the default for development and small teams: one outbound connection, nothing
to expose. HTTP mode is the Procfile's ``web``: gunicorn's threaded workers, each building its
own app, database engine and worker pool after the fork (connections must not cross a fork).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from sqlalchemy.engine import make_url

from bot.slack.app import build_app
from bot.slack.workers import WorkerPool
from bot.slack.wsgi import wsgi_app
from governance.app import Services, build_services
from governance.config import ConfigError, Settings

log = logging.getLogger(__name__)

# Threads per gunicorn worker. SQLite serializes transactions (its busy handler backs off by
# sleeping, which is unfair under contention), so more threads only lengthen the tail there;
# PostgreSQL overlaps round trips. Measured with bench/ack_latency.py on 2 CPUs.
HTTP_THREADS = {"sqlite": 4, "postgresql": 8}


def serve_socket_mode(
    settings: Settings, services: Services, *, background: Callable[[], Any] | None = None
) -> None:
    """Connect to Slack over a WebSocket and serve until interrupted.

    ``background`` starts what else runs in this one process (the scheduler and alert
    delivery); it is called once the app is built.
    """
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if not settings.slack_app_token or not settings.slack_bot_token:
        raise ConfigError("Socket Mode needs SLACK_APP_TOKEN (xapp-...) and SLACK_BOT_TOKEN.")
    pool = WorkerPool()
    app = build_app(settings, services, pool=pool, socket_mode=True)
    if background is not None:
        background()
    handler = SocketModeHandler(app, settings.slack_app_token)
    try:
        handler.start()
    finally:
        handler.close()
        pool.shutdown(wait=False)


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn run from Python: the WSGI app is built in each worker by ``load``."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        self._pool: WorkerPool | None = None
        self._services: Services | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)
        self.cfg.set("worker_exit", lambda _server, _worker: self._close())

    def load(self) -> Any:
        self._services = build_services(self._settings)
        self._pool = WorkerPool()
        app = build_app(self._settings, self._services, pool=self._pool)
        return wsgi_app(app, self._services)

    def _close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._services is not None:
            self._services.close()


def serve_http(
    settings: Settings, *, port: int, host: str = "0.0.0.0", threads: int | None = None
) -> None:
    """Serve ``POST /slack/events`` and ``GET /healthz`` on ``host:port`` until stopped.

    ``WEB_CONCURRENCY`` sets the number of worker processes (gunicorn's convention; default 1).
    """
    if not settings.slack_bot_token or not settings.slack_signing_secret:
        raise ConfigError("HTTP mode needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.")
    options = {
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
    _Gunicorn(settings, options).run()


def serve_slack(
    services: Services,
    *,
    http: bool,
    port: int,
    background: Callable[[], Any] | None = None,
) -> None:
    """``modelgov serve``: HTTP with ``--http``, else Socket Mode (needs SLACK_APP_TOKEN).

    ``background`` starts other work in the Socket Mode process once the app is built (the CLI
    starts the scheduler itself before calling this; in HTTP mode it is the separate ``worker``).
    """
    settings = services.settings
    if http:
        services.close()  # each gunicorn worker opens its own engine after the fork
        serve_http(settings, port=port)
        return
    if not settings.slack_app_token:
        raise ConfigError(
            "SLACK_APP_TOKEN is not set: set it for Socket Mode, or run `modelgov serve --http`."
        )
    serve_socket_mode(settings, services, background=background)
