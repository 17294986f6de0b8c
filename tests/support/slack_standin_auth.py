"""The Slack stand-in's auth family and scopes: ``auth.test``, ``api.test``, and which scope
each method needs.

By default the stand-in grants exactly the scopes ``bot/manifest.yml`` asks for, so a scope
missing from the manifest fails here as it would in Slack (``missing_scope`` with ``needed``
and ``provided``).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.support.slack_standin_errors import SlackApiRefusal
from tests.support.slack_standin_wire import JSONDict, WebApiMethod
from tests.support.slack_standin_workspace import SlackWorkspace

MANIFEST = Path(__file__).resolve().parents[2] / "bot" / "manifest.yml"

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


class AuthMethods:
    """``auth.test`` and ``api.test``, and the scope check every method goes through."""

    def __init__(self, workspace: SlackWorkspace) -> None:
        self._workspace = workspace

    def methods(self) -> dict[str, WebApiMethod]:
        return {"api.test": self.api_test, "auth.test": self.auth_test}

    def required_scope(self, method: str, payload: JSONDict) -> str | None:
        """The scope ``method`` needs for ``payload`` (None: none needed or unknown method)."""
        if method in ("conversations.history", "conversations.replies"):
            channel = str(payload.get("channel") or "C")
            return _HISTORY_SCOPES.get(channel[:1], "channels:history")
        if method == "conversations.list":
            types = str(payload.get("types") or "public_channel").split(",")
            missing = [_LIST_SCOPES[t] for t in types if t in _LIST_SCOPES]
            needed = [s for s in missing if s not in self._workspace.scopes]
            return needed[0] if needed else (missing[0] if missing else None)
        return _METHOD_SCOPES.get(method)

    def check_scope(self, method: str, payload: JSONDict) -> None:
        """Raises SlackApiRefusal(`missing_scope`) when the token lacks the scope needed."""
        scopes = self._workspace.scopes
        needed = self.required_scope(method, payload)
        if needed is not None and needed not in scopes:
            raise SlackApiRefusal("missing_scope", needed=needed, provided=",".join(sorted(scopes)))

    def auth_test(self, payload: JSONDict) -> JSONDict:
        workspace = self._workspace
        return {
            "url": f"https://{workspace.team_domain}.slack.com/",
            "team": workspace.team_domain,
            "user": "modelgov",
            "team_id": workspace.team_id,
            "user_id": workspace.bot_user_id,
            "bot_id": workspace.bot_id,
            "is_enterprise_install": False,
        }

    def api_test(self, payload: JSONDict) -> JSONDict:
        return {"args": {k: v for k, v in payload.items() if k != "token"}}
