"""The Slack workspace the stand-in plays: who is in it, its channels, what was posted, its clock.

Every Web API method family reads and changes this one workspace, under its one lock, so that a
message posted by chat.postMessage is the one conversations.history returns and a response_url
replaces.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from tests.support.slack_standin_errors import SlackApiRefusal
from tests.support.slack_standin_wire import JSONDict


@dataclass
class SlackUser:
    """A member of the workspace, answered by users.info as Slack shapes a user object."""

    id: str
    name: str
    real_name: str = ""
    tz: str = "Etc/UTC"
    tz_offset: int = 0
    is_bot: bool = False
    deleted: bool = False

    def to_api(self, team_id: str) -> JSONDict:
        real_name = self.real_name or self.name
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": self.tz_offset,
            "is_bot": self.is_bot,
            "is_admin": False,
            "is_owner": False,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "profile": {
                "real_name": real_name,
                "display_name": self.name,
                "real_name_normalized": real_name,
                "display_name_normalized": self.name,
                "team": team_id,
            },
        }


@dataclass
class WorkspaceContent:
    """What was posted and opened: cleared by ``clear()``, unlike users and channels."""

    messages: dict[str, list[JSONDict]] = field(default_factory=dict)
    ephemerals: list[JSONDict] = field(default_factory=list)
    views: dict[str, JSONDict] = field(default_factory=dict)
    home_views: dict[str, JSONDict] = field(default_factory=dict)
    triggers: dict[str, float] = field(default_factory=dict)


class SlackWorkspace:
    """The team, its bot, members, user groups and channels, and the content posted in it.

    ``channels`` empty means "any channel exists"; ``bot_member_of`` None means the bot is in
    every channel, else only in those (history needs membership)."""

    def __init__(
        self,
        *,
        token: str,
        extra_tokens: Iterable[str],
        team_id: str,
        team_domain: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        users: Iterable[SlackUser],
        usergroups: dict[str, list[str]] | None,
        channels: Iterable[str],
        strict_trigger_ids: bool,
        scopes: Iterable[str],
        bot_member_of: Iterable[str] | None,
    ) -> None:
        self.token = token
        self.tokens = {token, *extra_tokens}
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.users: dict[str, SlackUser] = {u.id: u for u in users}
        self.usergroups: dict[str, list[str]] = dict(usergroups or {})
        self.channels: set[str] = set(channels)
        # When true, views.open only accepts trigger ids from new_trigger_id() younger than 3 s.
        self.strict_trigger_ids = strict_trigger_ids
        self.scopes = frozenset(scopes)
        self.bot_member_of = None if bot_member_of is None else set(bot_member_of)
        self.channel_names: dict[str, str] = {}
        self.content = WorkspaceContent()
        # Reentrant: a method holding it may call helpers that take it again.
        self.lock = threading.RLock()
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)
        self._clock_offset = 0.0

    # ---------------------------------------------------------------- members and channels

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str = "",
        tz: str = "Etc/UTC",
        tz_offset: int = 0,
        is_bot: bool = False,
    ) -> SlackUser:
        user = SlackUser(user_id, name, real_name, tz, tz_offset, is_bot)
        with self.lock:
            self.users[user_id] = user
        return user

    def set_usergroup(self, usergroup_id: str, user_ids: Iterable[str]) -> None:
        with self.lock:
            self.usergroups[usergroup_id] = list(user_ids)

    def add_channel(self, channel_id: str) -> None:
        with self.lock:
            self.channels.add(channel_id)

    def channel_id(self, name_or_id: str) -> str:
        """The stable id the stand-in gives ``#name`` (ids are returned as they are)."""
        if not name_or_id.startswith("#"):
            return name_or_id
        name = name_or_id[1:].lower()
        channel = "C" + uuid.uuid5(uuid.NAMESPACE_DNS, name).hex[:10].upper()
        with self.lock:
            self.channel_names.setdefault(name, channel)
        return channel

    def check_channel(self, channel: object, *, by_name: bool = True) -> str:
        """The channel id a method acts on. Like Slack, chat.postMessage and postEphemeral also
        take a ``#name`` (answering with the id), but chat.update takes ids only. Raises
        SlackApiRefusal(`channel_not_found`)."""
        if not isinstance(channel, str) or not channel:
            raise SlackApiRefusal("channel_not_found")
        if channel.startswith("#"):
            if not by_name:
                raise SlackApiRefusal("channel_not_found")
            channel = self.channel_id(channel)
        if self.channels and channel not in self.channels and not channel.startswith("D"):
            raise SlackApiRefusal("channel_not_found")
        return channel

    # ---------------------------------------------------------------- clock and ids

    def now(self) -> float:
        """The stand-in's clock: real time plus whatever advance_clock() added."""
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the stand-in's clock forward (expires response_urls and trigger ids)."""
        with self.lock:
            self._clock_offset += seconds

    def new_ts(self) -> str:
        """A message id: unique and increasing, shaped like Slack's "seconds.micro"."""
        return f"{int(self.now())}.{next(self._ts_counter):06d}"

    def new_serial(self) -> int:
        """The next number of the counter that makes view, trigger and response_url ids."""
        return next(self._id_counter)

    def new_id(self, prefix: str) -> str:
        """An object id shaped like Slack's ("V0000002A")."""
        return f"{prefix}{self.new_serial():08X}"

    # ---------------------------------------------------------------- content

    def messages_in(self, channel: str) -> list[JSONDict]:
        """Messages currently in `channel` (as edited by chat.update), thread replies
        included, oldest first. Ephemeral messages are in ephemerals()."""
        channel = self.channel_id(channel)
        with self.lock:
            return [dict(m) for m in self.content.messages.get(channel, [])]

    def message(self, channel: str, ts: str) -> JSONDict:
        """The message `ts` in `channel`. Raises LookupError when there is none."""
        for msg in self.messages_in(channel):
            if msg["ts"] == ts:
                return msg
        raise LookupError(f"no message {ts} in {channel}")

    def thread_replies(self, channel: str, thread_ts: str) -> list[JSONDict]:
        return [
            m
            for m in self.messages_in(channel)
            if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts
        ]

    def ephemerals(self, *, channel: str | None = None, user: str | None = None) -> list[JSONDict]:
        with self.lock:
            items = [dict(e) for e in self.content.ephemerals]
        return [
            e
            for e in items
            if (channel is None or e["channel"] == channel) and (user is None or e["user"] == user)
        ]

    def home_view(self, user_id: str) -> JSONDict | None:
        with self.lock:
            return self.content.home_views.get(user_id)

    def view(self, view_id: str) -> JSONDict:
        with self.lock:
            return self.content.views[view_id]

    def opened_views(self) -> list[JSONDict]:
        with self.lock:
            return [v for v in self.content.views.values() if v.get("type") == "modal"]

    def posts_by_key(self, event_type: str | None = None) -> dict[str, int]:
        """How many posts Slack accepted per metadata ``dedupe_key`` (every channel)."""
        counts: dict[str, int] = {}
        with self.lock:
            for messages in self.content.messages.values():
                for msg in messages:
                    meta = msg.get("metadata") or {}
                    if event_type is not None and meta.get("event_type") != event_type:
                        continue
                    key = (meta.get("event_payload") or {}).get("dedupe_key")
                    if key is not None:
                        counts[key] = counts.get(key, 0) + 1
        return counts

    def clear_content(self) -> None:
        """Forget messages, views and trigger ids (users and channels stay)."""
        with self.lock:
            self.content = WorkspaceContent()
