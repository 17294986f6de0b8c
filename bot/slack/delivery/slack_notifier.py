"""Delivery to Slack: the outbox's ``Notifier`` for alerts, request cards and DMs.

One row is one ``chat.postMessage`` carrying message metadata (``event_type`` and the row's
``dedupe_key``), so a post whose answer was lost can be found in the channel's history and
recorded instead of posted again. The client here never retries by itself: a 429 goes back to
the outbox with its ``Retry-After`` (a rate-limited call was not processed), and a timeout, a
reset or a 5xx is an unknown outcome that the outbox reconciles through ``find``. Follow-ups
thread under the first alert about the same model.
"""

from __future__ import annotations

import http.client
import logging
import socket
import urllib.error
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bot.render.alerts import alert_message
from bot.render.blocks import Reply
from bot.render.request_card import request_card
from bot.slack.delivery.client import delivery_client, retry_after
from bot.slack.delivery.respond import message_payload
from governance.alerts.notifier import (
    CARD_UPDATE,
    DIRECT_MESSAGE,
    REQUEST_CARD,
    Delivered,
    DeliveryFailed,
    OutcomeUnknown,
    Outgoing,
    OutgoingAlert,
    OutgoingMessage,
)
from governance.core.clock import Clock, SystemClock
from governance.core.db import transaction
from governance.dashboard.service import upstream_facts
from governance.registry.models import Approval

log = logging.getLogger(__name__)

ALERT_EVENT = "modelgov_alert"
CARD_EVENT = "modelgov_request_card"
DM_EVENT = "modelgov_direct_message"
HISTORY_PAGES = 3  # pages of history read to find one message (each a bounded call)
HISTORY_PAGE_SIZE = 200
CLOCK_SKEW_SECONDS = 120  # our clock against Slack's when bounding history by time
CALLS_PER_STEP = HISTORY_PAGES + 3  # a find: resolve or join, plus pages; a post: open + post


def card_reply(
    factory: sessionmaker[Session], approval_id: int, *, clock: Clock | None = None
) -> Reply | None:
    """The card of request ``approval_id`` as it stands now (None: no such request); a
    derivative's card shows its bases' standing on ``clock``'s day (default: the system's)."""
    today = (clock or SystemClock()).now().date()
    with transaction(factory) as session:
        approval = session.get(Approval, approval_id, options=[selectinload(Approval.model)])
        if approval is None:
            return None
        return request_card(approval, upstream_facts(session, approval.model_id, today=today))


def _failure(exc: Exception, what: str) -> DeliveryFailed:
    """What a failed Web API call means for the outbox: not sent, or not known."""
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        data = exc.response.data
        error = data.get("error") if isinstance(data, dict) else None
        reason = f"{what}: Slack {status}: {error or 'error'}"
        if status == 429:
            return DeliveryFailed(reason, retry_after=retry_after(exc.response.headers))
        if status >= 500:
            return OutcomeUnknown(reason)  # an outage page says nothing of what was done
        return DeliveryFailed(reason)
    reason = f"{what}: Slack unreachable: {type(exc).__name__}: {exc}"
    cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(cause, ConnectionRefusedError | socket.gaierror):
        return DeliveryFailed(reason)  # nothing reached Slack
    return OutcomeUnknown(reason)


_CALL_ERRORS = (SlackApiError, SlackClientError, OSError, http.client.HTTPException)


class SlackNotifier:
    """Posts alerts, request cards and DMs, and finds them again after an unknown outcome."""

    def __init__(
        self,
        client: WebClient,
        *,
        session_factory: sessionmaker[Session] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._client = delivery_client(client)
        self._factory = session_factory
        self._clock = clock or SystemClock()

    @property
    def reaches_slack(self) -> bool:
        """Always True: this is the notifier Slack-bound outbox rows wait for."""
        return True

    @property
    def max_step_seconds(self) -> float:
        """The longest ``deliver``, ``send`` or ``find`` takes: every call it makes timing out."""
        return float(self._client.timeout or 30) * CALLS_PER_STEP

    def waiting(self, count: int) -> None:
        """Never called: this notifier reaches Slack, so nothing waits for another one."""

    # ------------------------------------------------------------------ posting

    def deliver(self, alert: OutgoingAlert) -> Delivered:
        reply = alert_message(alert)
        return self._post(
            channel=alert.channel_id or alert.destination,
            thread_ts=alert.thread_ref,
            event=ALERT_EVENT,
            key=alert.dedupe_key,
            ref={"alert_id": alert.id},
            message=message_payload(reply),
        )

    def send(self, message: OutgoingMessage) -> Delivered:
        if message.kind == DIRECT_MESSAGE:
            return self._post(
                channel=self._dm_channel(message.destination),
                event=DM_EVENT,
                key=message.dedupe_key,
                ref={"outbox_id": message.id},
                message=dict(message.payload),
            )
        if message.approval_id is None:
            raise DeliveryFailed(f"{message.kind} #{message.id} names no request")
        reply = card_reply(self._sessions(), message.approval_id, clock=self._clock)
        if reply is None:
            return Delivered()  # the request is gone: no card to show
        if message.kind == REQUEST_CARD:
            return self._post(
                channel=message.channel_id or message.destination,
                event=CARD_EVENT,
                key=message.dedupe_key,
                ref={"approval_id": message.approval_id},
                message=message_payload(reply),
            )
        if message.kind == CARD_UPDATE:
            ts = message.payload.get("ts")
            if not ts:
                return Delivered()  # the request has no card (raised before cards)
            channel = message.channel_id or message.destination
            call = self._call(
                "chat.update",
                lambda: self._client.chat_update(
                    channel=channel, ts=str(ts), **message_payload(reply)
                ),
            )
            return Delivered(message_ref=str(call["ts"]), channel_id=str(call["channel"]))
        raise DeliveryFailed(f"unknown outbox message kind {message.kind!r}")

    def _post(
        self,
        *,
        channel: str,
        event: str,
        key: str,
        ref: dict[str, Any],
        message: dict[str, Any],
        thread_ts: str | None = None,
    ) -> Delivered:
        metadata = {"event_type": event, "event_payload": {"dedupe_key": key, **ref}}
        posted = self._call(
            "chat.postMessage",
            lambda: self._client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                metadata=metadata,
                **message,
            ),
        )
        return Delivered(message_ref=str(posted["ts"]), channel_id=str(posted["channel"]))

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except _CALL_ERRORS as exc:
            raise _failure(exc, what) from exc

    def _sessions(self) -> sessionmaker[Session]:
        if self._factory is None:
            raise DeliveryFailed("request cards need the database (no session factory given)")
        return self._factory

    def _dm_channel(self, user: str) -> str:
        opened = self._call(
            "conversations.open", lambda: self._client.conversations_open(users=user)
        )
        return str(opened["channel"]["id"])

    # ------------------------------------------------------------------ finding

    def find(self, item: Outgoing, *, since: datetime) -> Delivered | None:
        """The message of ``item`` in its destination since ``since``, by its metadata."""
        if isinstance(item, OutgoingMessage) and item.kind == CARD_UPDATE:
            return None  # an edit is idempotent: sending it again is harmless
        if isinstance(item, OutgoingMessage) and item.kind == DIRECT_MESSAGE:
            channel = self._dm_channel(item.destination)
        else:
            channel = item.channel_id or self._channel_id(item.destination)
        thread = item.thread_ref if isinstance(item, OutgoingAlert) else None
        oldest = f"{(since - timedelta(seconds=CLOCK_SKEW_SECONDS)).timestamp():.6f}"
        for message in self._messages(channel, oldest=oldest, thread=thread):
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if payload.get("dedupe_key") == item.dedupe_key:
                return Delivered(message_ref=str(message["ts"]), channel_id=channel)
        return None

    def _messages(
        self, channel: str, *, oldest: str, thread: str | None
    ) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            page = self._history_page(channel, oldest=oldest, thread=thread, cursor=cursor)
            yield from page.get("messages") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                return
        raise DeliveryFailed(
            f"{channel} has more than {HISTORY_PAGES * HISTORY_PAGE_SIZE} messages since the "
            "attempt; not posting again without knowing"
        )

    def _history_page(
        self, channel: str, *, oldest: str, thread: str | None, cursor: str | None
    ) -> Any:
        def read() -> Any:
            args: dict[str, Any] = {
                "channel": channel,
                "oldest": oldest,
                "limit": HISTORY_PAGE_SIZE,
                "include_all_metadata": True,
                "cursor": cursor,
            }
            if thread:
                return self._client.conversations_replies(ts=thread, **args)
            return self._client.conversations_history(**args)

        try:
            return read()
        except SlackApiError as exc:
            data = exc.response.data
            if not (isinstance(data, dict) and data.get("error") == "not_in_channel"):
                raise _failure(exc, "conversations.history") from exc
        except _CALL_ERRORS as exc:
            raise _failure(exc, "conversations.history") from exc
        # Posting into a public channel needs no membership, reading its history does.
        self._call("conversations.join", lambda: self._client.conversations_join(channel=channel))
        return self._call("conversations.history", read)

    def _channel_page(self, cursor: str | None) -> Any:
        return self._client.conversations_list(
            types="public_channel,private_channel",
            exclude_archived=True,
            limit=1000,
            cursor=cursor,
        )

    def _channel_id(self, destination: str) -> str:
        """The id of a channel typed by name (history is read by id)."""
        if not destination.startswith("#"):
            return destination
        name = destination[1:].lower()
        cursor: str | None = None
        while True:
            page = self._call("conversations.list", partial(self._channel_page, cursor))
            for channel in page.get("channels") or []:
                if str(channel.get("name", "")).lower() == name:
                    return str(channel["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                raise DeliveryFailed(f"no channel named {destination} is visible to the bot")
