"""Getting a Reply to a person: in the ack, via ``response_url``, or with the bot token.

The fallback text of a message is escaped like the blocks: Slack also reads mentions from it,
so a raw ``<!channel>`` there would ping as surely as in a section.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.render.blocks import Reply, escape, fit, truncate
from bot.slack.delivery.client import retry_handlers

log = logging.getLogger(__name__)

TEXT_MAX = 3000  # fallback text: enough for notifications, far under Slack's 40,000
RESPONSE_URL_TIMEOUT_SECONDS = 10


def message_payload(reply: Reply) -> dict[str, Any]:
    """``text`` + ``blocks`` of a message carrying ``reply`` (text escaped and bounded)."""
    payload: dict[str, Any] = {"text": truncate(escape(reply.text or " "), TEXT_MAX)}
    if reply.blocks:
        payload["blocks"] = fit(reply.blocks)
    return payload


def ack_payload(reply: Reply) -> dict[str, Any]:
    """Keyword arguments for Bolt's ``ack()`` on a slash command."""
    kind = "in_channel" if reply.in_channel else "ephemeral"
    return {**message_payload(reply), "response_type": kind}


def respond_later(
    client: WebClient, *, response_url: str | None, channel: str | None, user: str, reply: Reply
) -> None:
    """Post ``reply`` after the ack: ``response_url`` first, the bot token when it is spent.

    A response_url allows about five posts in thirty minutes; a slow answer can outlive it.
    """
    if response_url and _via_response_url(response_url, reply):
        return
    if reply.in_channel and channel:
        try:
            client.chat_postMessage(channel=channel, **message_payload(reply))
            return
        except (SlackApiError, SlackClientError) as exc:
            log.warning("cannot post to %s (%s); telling %s directly", channel, exc, user)
    tell(client, user=user, channel=channel, reply=reply)


def _via_response_url(url: str, reply: Reply) -> bool:
    webhook = WebhookClient(
        url, timeout=RESPONSE_URL_TIMEOUT_SECONDS, retry_handlers=retry_handlers()
    )
    try:
        response = webhook.send(
            **message_payload(reply),
            response_type="in_channel" if reply.in_channel else "ephemeral",
        )
    except Exception as exc:  # unreachable, DNS, TLS: all mean "use the token instead"
        log.info("response_url unusable (%s: %s)", type(exc).__name__, exc)
        return False
    if response.status_code != 200:
        log.info("response_url refused: %s %s", response.status_code, response.body)
        return False
    return True


def tell(client: WebClient, *, user: str, channel: str | None, reply: Reply) -> None:
    """Show ``reply`` to ``user`` only: ephemeral in ``channel``, else (or if that fails) a DM."""
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user, **message_payload(reply))
            return
        except (SlackApiError, SlackClientError) as exc:
            log.info("ephemeral to %s in %s failed (%s); sending a DM", user, channel, exc)
    direct_message(client, user=user, reply=reply)


def direct_message(client: WebClient, *, user: str, reply: Reply) -> str | None:
    """DM ``user`` (conversations.open + chat.postMessage); the message ts, or None."""
    try:
        opened = client.conversations_open(users=user)
        channel = opened["channel"]["id"]
        posted = client.chat_postMessage(channel=channel, **message_payload(reply))
        return str(posted["ts"])
    except (SlackApiError, SlackClientError, KeyError, TypeError) as exc:
        log.warning("cannot DM %s: %s", user, exc)
        return None
