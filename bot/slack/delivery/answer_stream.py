"""Streaming an answer into one Slack message, edited at most about once a second.

Ephemeral messages cannot be edited, and a response_url allows only about five posts, so the
answer goes to the asker's DM with modelgov: private like an ephemeral reply, but editable.
The model's worker thread only offers text to a ``ThrottledPublisher``; its own thread makes the
``chat.update`` calls, so a slow Slack never slows the model queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.grammar.failures import failure_reply
from bot.render.blocks import Reply, message_reply
from bot.slack.delivery.respond import message_payload, respond_later
from governance.assistant.streaming import ThrottledPublisher
from governance.wiring.services import Services

log = logging.getLogger(__name__)

UPDATE_INTERVAL_SECONDS = 1.0


def stream_answer(
    services: Services,
    client: WebClient,
    *,
    produce: Callable[..., Reply],
    text: str,
    user: str,
    channel: str | None,
    response_url: str | None,
    interval: float = UPDATE_INTERVAL_SECONDS,
) -> Reply:
    """Run ``produce`` (a subcommand's ``stream``) into a DM message that grows as it writes.

    Returns the final Reply.
    """
    placeholder = message_reply(f"Thinking about: {text[:200]}")
    where = _open_dm(client, user, placeholder)
    if where is None:  # no DM possible: answer once, the ordinary way
        reply = _answer(produce, services, text, on_partial=None, on_queued=None)
        respond_later(client, response_url=response_url, channel=channel, user=user, reply=reply)
        return reply
    dm, ts = where
    if response_url:
        pointer = message_reply("The answer is being written in your DM with modelgov.")
        respond_later(client, response_url=response_url, channel=channel, user=user, reply=pointer)

    def update(reply: Reply) -> None:
        client.chat_update(channel=dm, ts=ts, **message_payload(reply))

    publisher: ThrottledPublisher[Reply] = ThrottledPublisher(update, min_interval=interval)
    try:
        reply = _answer(
            produce, services, text, on_partial=publisher.offer, on_queued=publisher.offer
        )
    finally:
        publisher.close(flush=False)
    try:
        update(reply)  # the final answer, with its sources and label, replaces the partial text
    except (SlackApiError, SlackClientError) as exc:
        log.warning("cannot write the final answer into the DM (%s); posting it instead", exc)
        respond_later(client, response_url=None, channel=None, user=user, reply=reply)
    return reply


def _answer(
    produce: Callable[..., Reply], services: Services, question: str, **callbacks: object
) -> Reply:
    try:
        return produce(services, question, **callbacks)
    except Exception as exc:  # a refusal or a bug: the asker gets its one sentence either way
        return failure_reply(exc, "streamed answer")


def _open_dm(client: WebClient, user: str, reply: Reply) -> tuple[str, str] | None:
    try:
        channel = client.conversations_open(users=user)["channel"]["id"]
        posted = client.chat_postMessage(channel=channel, **message_payload(reply))
        return str(posted["channel"]), str(posted["ts"])
    except (SlackApiError, SlackClientError, KeyError, TypeError) as exc:
        log.info("cannot open a DM with %s for a streamed answer: %s", user, exc)
        return None
