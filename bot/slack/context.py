"""What every listener needs, built once per app by ``bot.slack.app.build_app``."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from bot.commands import CommandTable
from bot.slack.workers import WorkerPool
from governance.app import Services
from governance.config import Settings


@dataclass(frozen=True)
class SlackContext:
    """The app's collaborators. ``services.approvers`` resolves Slack user groups."""

    settings: Settings
    services: Services
    client: WebClient
    pool: WorkerPool
    table: CommandTable
