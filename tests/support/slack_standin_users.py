"""The Slack stand-in's users and user groups: ``users.info`` and ``usergroups.users.list``."""

from __future__ import annotations

from tests.support.slack_standin_errors import SlackApiRefusal, invalid_arguments
from tests.support.slack_standin_wire import JSONDict, WebApiMethod
from tests.support.slack_standin_workspace import SlackWorkspace


class UserMethods:
    """Who a member is, and who is in a user group (``no_such_subteam`` when no group)."""

    def __init__(self, workspace: SlackWorkspace) -> None:
        self._workspace = workspace

    def methods(self) -> dict[str, WebApiMethod]:
        return {"users.info": self.info, "usergroups.users.list": self.usergroup_members}

    def info(self, payload: JSONDict) -> JSONDict:
        user = self._workspace.users.get(str(payload.get("user") or ""))
        if user is None:
            raise SlackApiRefusal("user_not_found")
        return {"user": user.to_api(self._workspace.team_id)}

    def usergroup_members(self, payload: JSONDict) -> JSONDict:
        group = str(payload.get("usergroup") or "")
        if not group:
            raise invalid_arguments(["missing required field: usergroup"])
        with self._workspace.lock:
            members = self._workspace.usergroups.get(group)
        if members is None:
            raise SlackApiRefusal("no_such_subteam")
        return {"users": list(members)}
