"""The HTTP face of the app: every Slack request at ``POST /slack/events``, ``GET /healthz``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from governance.app import Services

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def wsgi_app(app: App, services: Services) -> WSGIApplication:
    """Commands, interactivity and events share one URL (Bolt tells them apart)."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in {"GET", "HEAD"}:
            return _health(services, start_response)
        if path == EVENTS_PATH and method != "POST":
            return _plain(start_response, "405 Method Not Allowed", "POST only\n")
        return slack(environ, start_response)

    return application


def _health(services: Services, start_response: StartResponse) -> Iterable[bytes]:
    # Healthy means able to answer a command: the database must answer too.
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return _plain(
            start_response, "503 Service Unavailable", f"database: {type(exc).__name__}\n"
        )
    return _plain(start_response, "200 OK", "ok\n")


def _plain(start_response: StartResponse, status: str, body: str) -> Iterable[bytes]:
    data = body.encode()
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))]
    )
    return [data]
