"""The Slack stand-in's conversations family: open a DM, join, list, read history and replies.

``conversations.history`` / ``conversations.replies`` answer like Slack: newest first (replies
oldest first), ``oldest``/``latest`` exclusive unless ``inclusive``, ``limit`` (default 100,
at most 999), an opaque ``cursor`` with ``has_more`` and ``response_metadata.next_cursor``,
thread replies left out of a channel's history, and a message's ``metadata`` only with
``include_all_metadata=true``. A bot token reads only conversations the bot is a member of
(``not_in_channel`` otherwise; ``conversations.join`` joins a public one).
"""

from __future__ import annotations

import base64
import uuid

from tests.support.slack_standin_errors import SlackApiRefusal
from tests.support.slack_standin_wire import JSONDict, WebApiMethod, truthy
from tests.support.slack_standin_workspace import SlackWorkspace

HISTORY_DEFAULT_LIMIT = 100
HISTORY_MAX_LIMIT = 999


def _cursor(offset: int) -> str:
    return base64.b64encode(f"next_ts:{offset}".encode()).decode()


def _offset(cursor: object) -> int:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.b64decode(str(cursor)).decode().partition(":")
        if kind != "next_ts":
            raise ValueError(kind)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("invalid_cursor") from exc


class ConversationMethods:
    """DMs, membership, the channel list, and reading a channel's history and threads."""

    def __init__(self, workspace: SlackWorkspace) -> None:
        self._workspace = workspace

    def methods(self) -> dict[str, WebApiMethod]:
        return {
            "conversations.open": self.open_dm,
            "conversations.history": self.history,
            "conversations.replies": self.replies,
            "conversations.join": self.join,
            "conversations.list": self.list_channels,
        }

    # ------------------------------------------------------------------ DMs and membership

    def open_dm(self, payload: JSONDict) -> JSONDict:
        users_arg = payload.get("users")
        if not users_arg:
            if payload.get("channel"):
                return {"channel": {"id": payload["channel"]}}
            raise SlackApiRefusal("users_list_not_supplied")
        users = [u.strip() for u in str(users_arg).split(",") if u.strip()]
        known = self._workspace.users
        if known and any(u not in known for u in users):
            raise SlackApiRefusal("user_not_found")
        # A stable DM id per user set, as Slack reuses the existing conversation.
        key = ",".join(sorted(users))
        dm_id = ("D" if len(users) == 1 else "G") + uuid.uuid5(uuid.NAMESPACE_OID, key).hex[
            :10
        ].upper()
        channel: JSONDict = {"id": dm_id}
        if truthy(payload.get("return_im")):
            channel.update({"is_im": len(users) == 1, "user": users[0], "created": 1_700_000_000})
        return {"no_op": True, "already_open": True, "channel": channel}

    def is_member(self, channel: str) -> bool:
        """Whether the bot is in `channel` (always in its DMs)."""
        workspace = self._workspace
        if channel.startswith("D") or workspace.bot_member_of is None:
            return True
        with workspace.lock:
            return channel in workspace.bot_member_of

    def join(self, payload: JSONDict) -> JSONDict:
        workspace = self._workspace
        channel = str(payload.get("channel") or "")
        if not channel or channel.startswith("#"):
            raise SlackApiRefusal("channel_not_found")
        if channel.startswith(("D", "G")):
            raise SlackApiRefusal("method_not_supported_for_channel_type")
        if workspace.bot_member_of is not None:
            with workspace.lock:
                workspace.bot_member_of.add(channel)
        return {"channel": {"id": channel, "is_channel": True, "is_member": True}}

    def list_channels(self, payload: JSONDict) -> JSONDict:
        with self._workspace.lock:
            named = sorted(self._workspace.channel_names.items())
        channels = [
            {"id": cid, "name": name, "is_channel": True, "is_member": self.is_member(cid)}
            for name, cid in named
        ]
        return self._page(channels, payload, default_limit=100, max_limit=1000, key="channels")

    # ------------------------------------------------------------------ reading

    def history(self, payload: JSONDict) -> JSONDict:
        channel = self._readable(payload)
        top_level = [
            m
            for m in self._workspace.messages_in(channel)
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]
        newest_first = sorted(self._in_window(top_level, payload), key=lambda m: -float(m["ts"]))
        answer = self._page([self._shown(m, payload) for m in newest_first], payload)
        answer["pin_count"] = 0
        answer["channel_actions_count"] = 0
        return answer

    def replies(self, payload: JSONDict) -> JSONDict:
        channel = self._readable(payload)
        ts = str(payload.get("ts") or "")
        messages = self._workspace.messages_in(channel)
        parent = next((m for m in messages if m["ts"] == ts), None)
        if parent is None:
            raise SlackApiRefusal("thread_not_found")
        thread = [parent] + [m for m in messages if m.get("thread_ts") == ts and m["ts"] != ts]
        oldest_first = sorted(self._in_window(thread, payload), key=lambda m: float(m["ts"]))
        return self._page([self._shown(m, payload) for m in oldest_first], payload)

    def _readable(self, payload: JSONDict) -> str:
        channel = payload.get("channel")
        if not isinstance(channel, str) or not channel or channel.startswith("#"):
            raise SlackApiRefusal("channel_not_found")  # ids only, as in Slack
        if not self.is_member(channel):
            raise SlackApiRefusal("not_in_channel")
        return channel

    def _shown(self, message: JSONDict, payload: JSONDict) -> JSONDict:
        shown = dict(message)
        shown.pop("channel", None)
        if not truthy(payload.get("include_all_metadata")):
            shown.pop("metadata", None)
        return shown

    def _in_window(self, messages: list[JSONDict], payload: JSONDict) -> list[JSONDict]:
        inclusive = truthy(payload.get("inclusive"))
        try:
            oldest = float(payload.get("oldest") or 0)
            latest = float(payload["latest"]) if payload.get("latest") else None
        except ValueError as exc:
            raise SlackApiRefusal("invalid_ts_oldest") from exc

        def inside(ts: float) -> bool:
            after = ts >= oldest if inclusive else ts > oldest
            before = latest is None or (ts <= latest if inclusive else ts < latest)
            return after and before

        return [m for m in messages if inside(float(m["ts"]))]

    def _page(
        self,
        items: list[JSONDict],
        payload: JSONDict,
        *,
        default_limit: int = HISTORY_DEFAULT_LIMIT,
        max_limit: int = HISTORY_MAX_LIMIT,
        key: str = "messages",
    ) -> JSONDict:
        try:
            limit = int(payload.get("limit") or default_limit)
            start = _offset(payload.get("cursor"))
        except ValueError as exc:
            error = "invalid_cursor" if "cursor" in str(exc) else "invalid_limit"
            raise SlackApiRefusal(error) from exc
        limit = max(1, min(limit, max_limit))
        page = items[start : start + limit]
        more = start + limit < len(items)
        return {
            key: page,
            "has_more": more,
            "response_metadata": {"next_cursor": _cursor(start + limit) if more else ""},
        }
