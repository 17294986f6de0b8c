"""What every listener needs, built once per app by ``bot.slack.app.build_app``."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from bot.grammar.spec import CommandTable
from bot.slack.workers import WorkerPool
from governance.core.config import Settings
from governance.wiring.services import Services


@dataclass(frozen=True)
class SlackContext:
    """The app's collaborators. ``services.approvers`` resolves Slack user groups.

    ``readers`` are the same services with a read-only session factory: what runs before an
    ack uses them, so it never waits for a writer (SQLite: no lock taken).
    """

    settings: Settings
    services: Services
    client: WebClient
    pool: WorkerPool
    table: CommandTable
    readers: Services
