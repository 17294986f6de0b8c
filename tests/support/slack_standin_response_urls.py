"""The Slack stand-in's ``response_url`` endpoints: issued per command or action, posted to by
the app (JSON as WebhookClient sends), answered with plain text as Slack answers.

A response_url takes 5 posts within 30 minutes; after that Slack answers a plain-text 404.
``replace_original`` and ``delete_original`` act on the message an action came from,
``response_type=in_channel`` posts to the channel, anything else is an ephemeral message.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from tests.support.slack_standin_blocks import validate_message_blocks
from tests.support.slack_standin_chat import MESSAGE_TEXT_MAX, bot_message
from tests.support.slack_standin_wire import JSONDict, truthy
from tests.support.slack_standin_workspace import SlackWorkspace

RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60

# What Slack answers on a response_url that is used up or past its 30 minutes: a plain-text
# 404. (Slack documents the limits, not the exact body; `expired_url` is what it is seen to send.)
RESPONSE_URL_GONE_STATUS = 404
RESPONSE_URL_GONE_BODY = "expired_url"


@dataclass
class _ResponseUrl:
    url: str
    created_at: float
    max_uses: int
    ttl: float
    channel: str | None
    message_ts: str | None
    user_id: str | None
    uses: int = 0


class ResponseUrls:
    """The response_urls issued, how often each was used, and what a post to one does."""

    def __init__(self, workspace: SlackWorkspace) -> None:
        self._workspace = workspace
        # Kept apart from the content clear() forgets: a running app may still hold these.
        self._issued: dict[str, _ResponseUrl] = {}

    def issue(
        self,
        root_url: str,
        *,
        channel: str | None,
        message_ts: str | None,
        user_id: str | None,
        kind: str,
        max_uses: int,
        ttl: float,
    ) -> str:
        """A fresh response_url under `root_url`, for posts about `channel` (and the message
        `message_ts` an action came from) on behalf of `user_id`."""
        workspace = self._workspace
        url = f"{root_url}/hooks/{kind}/{workspace.team_id}/{workspace.new_serial()}/" + (
            uuid.uuid4().hex
        )
        entry = _ResponseUrl(url, workspace.now(), max_uses, ttl, channel, message_ts, user_id)
        with workspace.lock:
            self._issued[urlsplit(url).path] = entry
        return url

    def uses(self, url: str) -> int:
        """How many posts `url` accepted (0 for a URL never issued)."""
        with self._workspace.lock:
            entry = self._issued.get(urlsplit(url).path)
            return entry.uses if entry else 0

    def post(self, path: str, payload: JSONDict) -> tuple[int, str]:
        """Carry out a post to the response_url at `path`. Returns Slack's (status, text)."""
        if not truthy(payload.get("delete_original")):
            text = payload.get("text")
            blocks = payload.get("blocks")
            if not text and not blocks and not payload.get("attachments"):
                return 400, "no_text"
            if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
                return 400, "msg_too_long"
            if blocks is not None and validate_message_blocks(blocks):
                return 400, "invalid_blocks"
        workspace = self._workspace
        # Check and count under one lock so concurrent posts cannot exceed max_uses.
        with workspace.lock:
            entry = self._issued.get(path)
            if entry is None:
                return 404, "no_service"
            if entry.uses >= entry.max_uses or workspace.now() - entry.created_at > entry.ttl:
                return RESPONSE_URL_GONE_STATUS, RESPONSE_URL_GONE_BODY
            entry.uses += 1
            if truthy(payload.get("delete_original")):
                self._delete_original(entry)
            else:
                self._respond(entry, payload)
        return 200, "ok"

    def _delete_original(self, entry: _ResponseUrl) -> None:
        workspace = self._workspace
        if entry.channel and entry.message_ts:
            with workspace.lock:
                msgs = workspace.content.messages.get(entry.channel, [])
                msgs[:] = [m for m in msgs if m["ts"] != entry.message_ts]

    def _respond(self, entry: _ResponseUrl, payload: JSONDict) -> None:
        workspace = self._workspace
        if entry.channel is None:
            return
        if truthy(payload.get("replace_original")) and entry.message_ts:
            with workspace.lock:
                for msg in workspace.content.messages.get(entry.channel, []):
                    if msg["ts"] == entry.message_ts:
                        msg["text"] = payload.get("text") or ""
                        msg["blocks"] = payload.get("blocks") or []
                        return
        ts = workspace.new_ts()
        msg = bot_message(workspace, payload, ts, entry.channel)
        if payload.get("thread_ts"):
            msg["thread_ts"] = str(payload["thread_ts"])
        with workspace.lock:
            if payload.get("response_type") == "in_channel":
                workspace.content.messages.setdefault(entry.channel, []).append(msg)
            else:
                msg["user"] = entry.user_id
                workspace.content.ephemerals.append(msg)
