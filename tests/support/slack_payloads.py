"""The bodies Slack sends an app: slash command forms, interactivity payloads, Events API
envelopes, shaped as Slack shapes them (team, user, trigger id, response_url, ...).

``SlackDriver`` sends them signed; tests that check signing or parsing directly build them
here without sending.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

JSONDict = dict[str, Any]


class SlackPayloads:
    """Builds Slack's request bodies for one workspace and app."""

    def __init__(
        self,
        *,
        team_id: str,
        team_domain: str,
        enterprise_id: str | None,
        api_app_id: str,
        verification_token: str,
        clock: Callable[[], float],
        user_names: Mapping[str, str] | None,
    ) -> None:
        self.team_id = team_id
        self.team_domain = team_domain
        self.enterprise_id = enterprise_id
        self.api_app_id = api_app_id
        self.verification_token = verification_token
        self.clock = clock
        self.user_names: dict[str, str] = dict(user_names or {})

    def _team(self) -> JSONDict:
        team: JSONDict = {"id": self.team_id, "domain": self.team_domain}
        if self.enterprise_id:
            team.update({"enterprise_id": self.enterprise_id, "enterprise_name": "Org"})
        return team

    def _user(self, user_id: str) -> JSONDict:
        name = self.user_names.get(user_id, user_id.lower())
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    @staticmethod
    def new_trigger_id() -> str:
        """A trigger id shaped like Slack's (not one the stand-in issued)."""
        return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"

    def default_response_url(self, kind: str = "commands") -> str:
        """A response_url shaped like Slack's that goes nowhere."""
        # Unroutable on purpose: tests that need one pass the stand-in's.
        return f"https://hooks.slack.invalid/{kind}/{self.team_id}/{uuid.uuid4().int % 10**13}/x"

    def slash_command_body(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str,
        command: str = "/models",
        response_url: str | None = None,
        trigger_id: str | None = None,
        channel_name: str = "general",
        user_name: str | None = None,
    ) -> str:
        """The form body of a slash command, fields in Slack's order."""
        fields: list[tuple[str, str]] = [
            ("token", self.verification_token),
            ("team_id", self.team_id),
            ("team_domain", self.team_domain),
        ]
        if self.enterprise_id:
            fields += [("enterprise_id", self.enterprise_id), ("enterprise_name", "Org")]
        fields += [
            ("channel_id", channel_id),
            ("channel_name", channel_name),
            ("user_id", user_id),
            ("user_name", user_name or self.user_names.get(user_id, user_id.lower())),
            ("command", command),
            ("text", text),
            ("api_app_id", self.api_app_id),
            ("is_enterprise_install", "false"),
            ("response_url", response_url or self.default_response_url()),
            ("trigger_id", trigger_id or self.new_trigger_id()),
        ]
        return urlencode(fields)

    def block_actions_payload(
        self,
        action_id: str,
        value: str | None,
        *,
        user_id: str,
        channel_id: str,
        message_ts: str,
        message: JSONDict | None = None,
        response_url: str | None = None,
        block_id: str | None = None,
        trigger_id: str | None = None,
        action_type: str = "button",
        button_text: str = "Button",
        is_ephemeral: bool = False,
        state_values: JSONDict | None = None,
    ) -> JSONDict:
        """A `block_actions` payload for a click on `action_id` in a message."""
        action: JSONDict = {
            "action_id": action_id,
            "block_id": block_id or _find_block_id(message, action_id) or "actions",
            "type": action_type,
            "action_ts": f"{time.time():.6f}",
        }
        if action_type == "button":
            action["text"] = {"type": "plain_text", "text": button_text, "emoji": True}
            if value is not None:
                action["value"] = value
        elif value is not None:
            action["selected_option"] = {
                "text": {"type": "plain_text", "text": value},
                "value": value,
            }
        msg = dict(message) if message else {"type": "message", "text": "", "ts": message_ts}
        msg.setdefault("ts", message_ts)
        return {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": is_ephemeral,
            },
            "trigger_id": trigger_id or self.new_trigger_id(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": "general"},
            "message": msg,
            "state": {"values": state_values or {}},
            "response_url": response_url or self.default_response_url("actions"),
            "actions": [action],
        }

    def view_submission_payload(
        self,
        callback_id: str,
        state_values: JSONDict,
        *,
        user_id: str,
        private_metadata: str = "",
        view_id: str = "V0MODAL01",
        blocks: list[JSONDict] | None = None,
        title: str = "modelgov",
        trigger_id: str | None = None,
        response_urls: list[JSONDict] | None = None,
        view_hash: str | None = None,
    ) -> JSONDict:
        """A `view_submission` payload for a modal with `state_values`."""
        return {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": trigger_id or self.new_trigger_id(),
            "view": {
                "id": view_id,
                "team_id": self.team_id,
                "type": "modal",
                "blocks": blocks or [],
                "private_metadata": private_metadata,
                "callback_id": callback_id,
                "state": {"values": state_values},
                "hash": view_hash or f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
                "title": {"type": "plain_text", "text": title, "emoji": True},
                "clear_on_close": False,
                "notify_on_close": False,
                "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
                "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
                "previous_view_id": None,
                "root_view_id": view_id,
                "app_id": self.api_app_id,
                "external_id": "",
                "app_installed_team_id": self.team_id,
                "bot_id": "B0MODELBOT",
            },
            "response_urls": response_urls or [],
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def event_envelope(self, event: JSONDict, *, event_id: str | None = None) -> JSONDict:
        """`event` in the Events API `event_callback` envelope Slack posts."""
        now = int(self.clock())
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "enterprise_id": self.enterprise_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": now,
            "authorizations": [
                {
                    "enterprise_id": self.enterprise_id,
                    "team_id": self.team_id,
                    "user_id": "U0MODELBOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }


def _find_block_id(message: JSONDict | None, action_id: str) -> str | None:
    """The block_id Slack would report: the block that holds the clicked element."""
    if not message:
        return None
    for block in message.get("blocks") or []:
        elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        if any(isinstance(e, dict) and e.get("action_id") == action_id for e in elements):
            return block.get("block_id")
    return None
