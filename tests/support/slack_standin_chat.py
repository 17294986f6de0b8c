"""The Slack stand-in's chat family: ``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``.

A message needs text, blocks or attachments (``no_text``), its text at most 40,000 characters
(``msg_too_long``), and its blocks must pass Block Kit's rules (``invalid_blocks``).
"""

from __future__ import annotations

from tests.support.slack_standin_blocks import validate_message_blocks
from tests.support.slack_standin_errors import SlackApiRefusal, invalid_blocks
from tests.support.slack_standin_wire import JSONDict, WebApiMethod
from tests.support.slack_standin_workspace import SlackWorkspace

MESSAGE_TEXT_MAX = 40_000


def check_message_content(payload: JSONDict, *, require: bool = True) -> None:
    """Raises SlackApiRefusal when a message's content breaks Slack's rules (`require`: it
    must have some)."""
    text = payload.get("text")
    blocks = payload.get("blocks")
    attachments = payload.get("attachments")
    if require and not text and not blocks and not attachments:
        raise SlackApiRefusal("no_text")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        raise SlackApiRefusal("msg_too_long")
    if blocks is not None:
        errors = validate_message_blocks(blocks)
        if errors:
            raise invalid_blocks(errors)


def bot_message(workspace: SlackWorkspace, payload: JSONDict, ts: str, channel: str) -> JSONDict:
    """The message the bot posts from `payload`, as Slack stores and returns it."""
    msg: JSONDict = {
        "type": "message",
        "user": workspace.bot_user_id,
        "bot_id": workspace.bot_id,
        "app_id": workspace.app_id,
        "team": workspace.team_id,
        "text": payload.get("text") or "",
        "ts": ts,
        "channel": channel,
    }
    for key in ("blocks", "attachments", "metadata"):
        if payload.get(key) is not None:
            msg[key] = payload[key]
    return msg


class ChatMethods:
    """Posting, editing and ephemeral messages in the workspace's channels."""

    def __init__(self, workspace: SlackWorkspace) -> None:
        self._workspace = workspace

    def methods(self) -> dict[str, WebApiMethod]:
        return {
            "chat.postMessage": self.post_message,
            "chat.update": self.update,
            "chat.postEphemeral": self.post_ephemeral,
        }

    def post_message(self, payload: JSONDict) -> JSONDict:
        workspace = self._workspace
        channel = workspace.check_channel(payload.get("channel"))
        check_message_content(payload)
        ts = workspace.new_ts()
        msg = bot_message(workspace, payload, ts, channel)
        thread_ts = payload.get("thread_ts")
        if thread_ts:
            msg["thread_ts"] = str(thread_ts)
            msg["parent_user_id"] = workspace.bot_user_id
        with workspace.lock:
            workspace.content.messages.setdefault(channel, []).append(msg)
        return {"channel": channel, "ts": ts, "message": {k: v for k, v in msg.items()}}

    def update(self, payload: JSONDict) -> JSONDict:
        workspace = self._workspace
        channel = workspace.check_channel(payload.get("channel"), by_name=False)
        ts = payload.get("ts")
        if not ts:
            raise SlackApiRefusal("message_not_found")
        check_message_content(payload, require=False)
        with workspace.lock:
            for msg in workspace.content.messages.get(channel, []):
                if msg["ts"] == ts:
                    for key in ("text", "blocks", "attachments", "metadata"):
                        if key in payload and payload[key] is not None:
                            msg[key] = payload[key]
                    msg["edited"] = {"user": workspace.bot_user_id, "ts": workspace.new_ts()}
                    updated = dict(msg)
                    break
            else:
                raise SlackApiRefusal("message_not_found")
        return {"channel": channel, "ts": ts, "text": updated["text"], "message": updated}

    def post_ephemeral(self, payload: JSONDict) -> JSONDict:
        workspace = self._workspace
        channel = workspace.check_channel(payload.get("channel"))
        user = payload.get("user")
        if not user:
            raise SlackApiRefusal("user_not_found")
        if workspace.users and user not in workspace.users:
            raise SlackApiRefusal("user_not_in_channel")
        check_message_content(payload)
        ts = workspace.new_ts()
        msg = bot_message(workspace, payload, ts, channel)
        msg["user"] = user  # the recipient; kept for ephemerals(user=...)
        if payload.get("thread_ts"):
            msg["thread_ts"] = str(payload["thread_ts"])
        with workspace.lock:
            workspace.content.ephemerals.append(msg)
        return {"message_ts": ts}
