"""The Slack stand-in's reading side, scopes and channel membership.

``conversations.history`` / ``conversations.replies`` answer like Slack: newest first (replies
oldest first), ``oldest``/``latest`` exclusive unless ``inclusive``, ``limit`` (default 100,
at most 999), an opaque ``cursor`` with ``has_more`` and ``response_metadata.next_cursor``,
thread replies left out of a channel's history, and a message's ``metadata`` only with
``include_all_metadata=true``. A bot token reads only conversations the bot is a member of
(``not_in_channel`` otherwise; ``conversations.join`` joins a public one). Every method needs
its scope: by default the stand-in grants exactly the scopes ``bot/manifest.yml`` asks for,
so a scope missing from the manifest fails here as it would in Slack (``missing_scope`` with
``needed`` and ``provided``).
"""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import Any

import yaml

JSONDict = dict[str, Any]

MANIFEST = Path(__file__).resolve().parents[2] / "bot" / "manifest.yml"
HISTORY_DEFAULT_LIMIT = 100
HISTORY_MAX_LIMIT = 999

# The scope each method needs; history scopes depend on the kind of conversation.
_METHOD_SCOPES: dict[str, str] = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.open": "im:write",
    "conversations.join": "channels:join",
    "users.info": "users:read",
    "usergroups.users.list": "usergroups:read",
}
_HISTORY_SCOPES = {"C": "channels:history", "G": "groups:history", "D": "im:history"}
_LIST_SCOPES = {"public_channel": "channels:read", "private_channel": "groups:read"}


def manifest_scopes(path: Path = MANIFEST) -> frozenset[str]:
    """The bot scopes ``bot/manifest.yml`` requests."""
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


class Refusal(Exception):
    """Same contract as ``slack_standin.SlackApiRefusal`` (kept separate to avoid a cycle)."""


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


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


class HistoryMethods:
    """Mixed into ``SlackStandIn``: reading methods, scopes, membership."""

    scopes: frozenset[str]
    bot_member_of: set[str] | None
    channel_names: dict[str, str]
    _lock: threading.Condition

    # Provided by SlackStandIn.
    def _messages_of(self, channel: str) -> list[JSONDict]:
        raise NotImplementedError

    def channel_id(self, name_or_id: str) -> str:
        raise NotImplementedError

    def _refuse(self, error: str, **extra: Any) -> Exception:
        raise NotImplementedError

    # ------------------------------------------------------------------ scopes

    def required_scope(self, method: str, payload: JSONDict) -> str | None:
        """The scope ``method`` needs for ``payload`` (None: none needed or unknown method)."""
        if method in ("conversations.history", "conversations.replies"):
            channel = str(payload.get("channel") or "C")
            return _HISTORY_SCOPES.get(channel[:1], "channels:history")
        if method == "conversations.list":
            types = str(payload.get("types") or "public_channel").split(",")
            missing = [_LIST_SCOPES[t] for t in types if t in _LIST_SCOPES]
            needed = [s for s in missing if s not in self.scopes]
            return needed[0] if needed else (missing[0] if missing else None)
        return _METHOD_SCOPES.get(method)

    def check_scope(self, method: str, payload: JSONDict) -> None:
        needed = self.required_scope(method, payload)
        if needed is not None and needed not in self.scopes:
            raise self._refuse(
                "missing_scope", needed=needed, provided=",".join(sorted(self.scopes))
            )

    # ------------------------------------------------------------------ membership

    def is_member(self, channel: str) -> bool:
        if channel.startswith("D") or self.bot_member_of is None:
            return True
        with self._lock:
            return channel in self.bot_member_of

    def api_conversations_join(self, payload: JSONDict) -> JSONDict:
        channel = str(payload.get("channel") or "")
        if not channel or channel.startswith("#"):
            raise self._refuse("channel_not_found")
        if channel.startswith(("D", "G")):
            raise self._refuse("method_not_supported_for_channel_type")
        if self.bot_member_of is not None:
            with self._lock:
                self.bot_member_of.add(channel)
        return {"channel": {"id": channel, "is_channel": True, "is_member": True}}

    def api_conversations_list(self, payload: JSONDict) -> JSONDict:
        with self._lock:
            named = sorted(self.channel_names.items())
        channels = [
            {"id": cid, "name": name, "is_channel": True, "is_member": self.is_member(cid)}
            for name, cid in named
        ]
        return self._page(channels, payload, default_limit=100, max_limit=1000, key="channels")

    # ------------------------------------------------------------------ reading

    def _readable(self, payload: JSONDict) -> str:
        channel = payload.get("channel")
        if not isinstance(channel, str) or not channel or channel.startswith("#"):
            raise self._refuse("channel_not_found")  # ids only, as in Slack
        if not self.is_member(channel):
            raise self._refuse("not_in_channel")
        return channel

    def _shown(self, message: JSONDict, payload: JSONDict) -> JSONDict:
        shown = dict(message)
        shown.pop("channel", None)
        if not _truthy(payload.get("include_all_metadata")):
            shown.pop("metadata", None)
        return shown

    def _in_window(self, messages: list[JSONDict], payload: JSONDict) -> list[JSONDict]:
        inclusive = _truthy(payload.get("inclusive"))
        try:
            oldest = float(payload.get("oldest") or 0)
            latest = float(payload["latest"]) if payload.get("latest") else None
        except ValueError as exc:
            raise self._refuse("invalid_ts_oldest") from exc

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
            raise self._refuse("invalid_cursor" if "cursor" in str(exc) else "invalid_limit") from (
                exc
            )
        limit = max(1, min(limit, max_limit))
        page = items[start : start + limit]
        more = start + limit < len(items)
        return {
            key: page,
            "has_more": more,
            "response_metadata": {"next_cursor": _cursor(start + limit) if more else ""},
        }

    def api_conversations_history(self, payload: JSONDict) -> JSONDict:
        channel = self._readable(payload)
        top_level = [
            m
            for m in self._messages_of(channel)
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]
        newest_first = sorted(self._in_window(top_level, payload), key=lambda m: -float(m["ts"]))
        answer = self._page([self._shown(m, payload) for m in newest_first], payload)
        answer["pin_count"] = 0
        answer["channel_actions_count"] = 0
        return answer

    def api_conversations_replies(self, payload: JSONDict) -> JSONDict:
        channel = self._readable(payload)
        ts = str(payload.get("ts") or "")
        messages = self._messages_of(channel)
        parent = next((m for m in messages if m["ts"] == ts), None)
        if parent is None:
            raise self._refuse("thread_not_found")
        thread = [parent] + [m for m in messages if m.get("thread_ts") == ts and m["ts"] != ts]
        oldest_first = sorted(self._in_window(thread, payload), key=lambda m: float(m["ts"]))
        return self._page([self._shown(m, payload) for m in oldest_first], payload)

    HISTORY_METHODS: dict[str, str] = {  # noqa: RUF012 - read-only registry
        "conversations.history": "api_conversations_history",
        "conversations.replies": "api_conversations_replies",
        "conversations.join": "api_conversations_join",
        "conversations.list": "api_conversations_list",
    }
