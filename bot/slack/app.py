"""The Bolt app factory: one app per process, built from Settings and Services.

No global app object: tests build as many as they like, each pointed at its own stand-in.
Listeners are registered explicitly, one module per kind (commands, actions, views, events).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.logger.messages import (
    warning_client_prioritized_and_token_skipped,
    warning_token_skipped,
)
from slack_sdk import WebClient

from bot.grammar.dispatch import build_table
from bot.grammar.read_cache import ReadCache
from bot.grammar.spec.subcommand import CommandTable
from bot.slack.delivery.client import make_client
from bot.slack.delivery.context import SlackContext
from bot.slack.delivery.workers import WorkerPool
from bot.slack.listeners import actions, commands, events, view_submissions
from governance.core.config import ConfigError, Settings
from governance.wiring.services import Services

log = logging.getLogger(__name__)

# Bolt's listener threads (used for Socket Mode's lazy work; HTTP runs listeners in the request
# thread) only ack and make database round trips; 5 (Bolt's default) would queue acks.
LISTENER_THREADS = 24


def build_app(
    settings: Settings,
    services: Services,
    *,
    client: WebClient | None = None,
    pool: WorkerPool | None = None,
    table: CommandTable | None = None,
    token_verification_enabled: bool = False,
    socket_mode: bool = False,
    listener_threads: int = LISTENER_THREADS,
    listener_executor: Executor | None = None,
) -> App:
    """A Bolt app with every modelgov listener.

    ``pool`` runs the work after acks (the caller shuts it down; one is made if not given);
    ``listener_executor`` runs Bolt's listeners (tests pass one they can wait on).
    Building it never calls Slack (no ``auth.test``; ``token_verification_enabled`` stays off
    unless asked): a web process boots while Slack is unreachable and says so on /healthz.
    Requests over HTTP are verified with ``SLACK_SIGNING_SECRET``: without one only Socket Mode
    (where Slack authenticates the connection instead) is allowed.
    """
    if not settings.slack_signing_secret and not socket_mode:
        raise ConfigError("SLACK_SIGNING_SECRET is required to serve Slack over HTTP.")
    client = client or make_client(settings)
    ctx = SlackContext(
        settings=settings,
        services=services,
        client=client,
        pool=pool or WorkerPool(),
        table=table or build_table(),
        read_cache=ReadCache(services.engine),
    )
    # Bolt's single-workspace mode calls auth.test on the first request when it did not at
    # boot, and answers 500 if Slack is unreachable then. The bot token is known, so requests
    # are authorized with it directly: no Web API call before a listener runs. (Listeners use
    # ``ctx.client``, never Bolt's per-request client.)
    authorization: dict[str, Any] = (
        {"client": client, "token_verification_enabled": True}
        if token_verification_enabled
        else {"authorize": _with_token(client.token)}
    )
    app = App(
        name="modelgov",
        signing_secret=settings.slack_signing_secret or "",
        **authorization,
        listener_executor=listener_executor
        or ThreadPoolExecutor(max_workers=listener_threads, thread_name_prefix="bolt-listener"),
        logger=_bolt_logger(),
        # Listeners only ack, make one database round trip and hand the rest to the pool, so
        # they run in the request's own thread: no hop to Bolt's executor and no 10 ms ack
        # polling per request (measurable in the tail under load), and a response to Slack
        # means the listener has finished.
        process_before_response=True,
        # Checked once, not twice: over HTTP every request reaches Bolt only through
        # bot.slack.wsgi, which verifies the signature and timestamp on the raw bytes first
        # (and refuses replays); Socket Mode requests carry no signature.
        request_verification_enabled=False,
    )
    commands.register(app, ctx)
    actions.register(app, ctx)
    view_submissions.register(app, ctx)
    events.register(app, ctx)
    app.error(_log_error)
    return app


def _bolt_logger() -> logging.Logger:
    """Bolt's logger, without its notice that SLACK_BOT_TOKEN (which Bolt reads from the
    environment by itself) is unused: modelgov passes the token its own way, on every start."""
    logger = logging.getLogger("modelgov.slack.bolt")
    if not any(isinstance(f, _UnusedTokenNotice) for f in logger.filters):
        logger.addFilter(_UnusedTokenNotice())
    return logger


class _UnusedTokenNotice(logging.Filter):
    _NOTICES = frozenset({warning_token_skipped(), warning_client_prioritized_and_token_skipped()})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self._NOTICES


def _with_token(token: str | None) -> Callable[..., AuthorizeResult]:
    """Bolt's ``authorize``: every request is for this workspace, with this bot token."""

    def authorize(
        enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token=token
        )

    return authorize


def _log_error(error: Exception, body: dict[str, Any]) -> None:
    # Listeners turn domain errors into messages themselves; what reaches here is a bug.
    kind = body.get("type") or body.get("command") or "request"
    log.error("unhandled error in a Slack listener (%s): %r", kind, error, exc_info=error)
