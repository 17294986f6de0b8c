"""What every listener needs, built once per app by ``bot.slack.app.build_app``."""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk import WebClient

from bot.grammar.read_cache import ReadCache
from bot.grammar.spec.subcommand import CommandTable
from bot.slack.delivery.kept_acks import KeptAcks
from bot.slack.delivery.workers import WorkerPool
from governance.core.config import Settings
from governance.wiring.services import Services


@dataclass(frozen=True)
class SlackContext:
    """The app's collaborators (``services`` as built for this process, not copied)."""

    settings: Settings
    services: Services
    client: WebClient
    pool: WorkerPool
    table: CommandTable
    # Answers of ``cached`` subcommands, kept while the data is unchanged (one per app).
    read_cache: ReadCache
    # The ack bodies of those kept answers, serialized once each.
    kept_acks: KeptAcks = field(default_factory=KeptAcks)
