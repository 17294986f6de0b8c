"""A bare Bolt app under the web process's gunicorn settings: the ack-latency baseline.

One ``/models`` slash-command listener that acks a constant text, nothing else: no database,
no grammar, no replay store. Requests are verified with ``SLACK_SIGNING_SECRET`` (Bolt's own
signature check) and authorized with ``SLACK_BOT_TOKEN`` without calling Slack, the way
modelgov's app is built (``bot.slack.app.build_app``: ``authorize=`` and
``process_before_response=True``), so the only difference measured is modelgov's own work.
The gunicorn settings are ``bot.slack.runner.gunicorn_options`` for ``DATABASE_URL``.

``GET /healthz`` answers 200 (the benchmark waits for it). Run:
``python -m bench.bare_bolt --port 3001`` with the two Slack variables and ``DATABASE_URL`` set.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult

from bot.slack.runner import gunicorn_options
from governance.core.config import Settings

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

ACK_TEXT = "bench-org/model-00 (a constant ack from bare Bolt)"


def bare_app(signing_secret: str, bot_token: str) -> App:
    """A Bolt app whose only listener acks ``/models`` with ``ACK_TEXT``."""

    def authorize(
        enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token=bot_token
        )

    app = App(
        name="bare-bolt",
        signing_secret=signing_secret,
        authorize=authorize,
        process_before_response=True,
    )

    @app.command("/models")
    def models(ack: Ack) -> None:
        ack(text=ACK_TEXT, response_type="ephemeral")

    return app


def wsgi(app: App) -> WSGIApplication:
    """``POST /slack/events`` to Bolt, ``GET /healthz`` answered 200."""
    slack = SlackRequestHandler(app, path="/slack/events")

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
            return [b"ok\n"]
        return slack(environ, start_response)

    return application


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any], signing_secret: str, bot_token: str) -> None:
        self._options = options
        self._secret = signing_secret
        self._token = bot_token
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)
        self.cfg.set("proc_name", "bare-bolt")

    def load(self) -> Any:  # gunicorn types it as WSGI or ASGI
        return wsgi(bare_app(self._secret, self._token))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = Settings()  # DATABASE_URL and the Slack variables, from the environment
    secret, token = settings.slack_signing_secret, settings.slack_bot_token
    if not secret or not token:
        raise SystemExit("set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN")
    options = gunicorn_options(settings, port=args.port)
    _Gunicorn(options, secret, token).run()


if __name__ == "__main__":
    os.environ.setdefault("WEB_CONCURRENCY", "1")
    main()
