"""The Services of a modelgov process, with what the bot adds when Slack is configured.

Every process kind (console, one-shot commands, Socket Mode, each gunicorn worker, the worker)
builds its Services here, once: with a bot token, alerts and request cards are delivered to
Slack and members of ``MODELGOV_APPROVER_GROUP`` are asked of Slack; without one, deliveries
go to the log and only ``MODELGOV_APPROVERS`` may decide.
"""

from __future__ import annotations

from bot.slack.delivery.client import make_client
from bot.slack.delivery.slack_notifier import SlackNotifier
from bot.slack.usergroups import UsergroupMembers
from governance.core.config import Settings
from governance.wiring.services import Services, build_services


def process_services(settings: Settings) -> Services:
    """This process's Services for ``settings`` (nothing is connected or loaded yet)."""
    if not settings.slack_bot_token:
        return build_services(settings)
    client = make_client(settings)
    return build_services(
        settings,
        make_notifier=lambda sessions, clock: SlackNotifier(
            client, session_factory=sessions, clock=clock
        ),
        group_members=UsergroupMembers(client),
    )
