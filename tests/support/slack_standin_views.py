"""The Slack stand-in's views family: ``views.open``, ``views.push``, ``views.update`` and
``views.publish`` (the Home tab).

A modal opens only with a trigger id (``expired_trigger_id`` after 3 seconds); a view must pass
Block Kit's rules (``invalid_arguments``); an update with a stale ``hash`` is a
``hash_conflict``.
"""

from __future__ import annotations

import uuid

from tests.support.slack_standin_blocks import validate_view
from tests.support.slack_standin_errors import SlackApiRefusal, invalid_arguments
from tests.support.slack_standin_wire import JSONDict, WebApiMethod
from tests.support.slack_standin_workspace import SlackWorkspace

TRIGGER_ID_TTL_SECONDS = 3.0


class ViewMethods:
    """Modals and Home tabs: trigger ids, validation, storage and updates of views."""

    def __init__(self, workspace: SlackWorkspace) -> None:
        self._workspace = workspace

    def methods(self) -> dict[str, WebApiMethod]:
        return {
            "views.open": self.open,
            "views.push": self.push,
            "views.update": self.update,
            "views.publish": self.publish,
        }

    def new_trigger_id(self) -> str:
        """A trigger id as an interaction carries, valid for 3 seconds from now."""
        workspace = self._workspace
        trigger_id = f"{workspace.new_serial()}.{int(workspace.now())}.{uuid.uuid4().hex[:16]}"
        with workspace.lock:
            workspace.content.triggers[trigger_id] = workspace.now()
        return trigger_id

    def open(self, payload: JSONDict) -> JSONDict:
        self._check_trigger(payload.get("trigger_id"))
        view = self._parse_view(payload, expected_type="modal")
        return {"view": self._store_view(view)}

    def push(self, payload: JSONDict) -> JSONDict:
        return self.open(payload)

    def update(self, payload: JSONDict) -> JSONDict:
        workspace = self._workspace
        view_id = payload.get("view_id")
        external_id = payload.get("external_id")
        with workspace.lock:
            views = workspace.content.views
            current = views.get(view_id) if view_id else None
            if current is None and external_id:
                current = next(
                    (v for v in views.values() if v["external_id"] == external_id),
                    None,
                )
        if not view_id and not external_id:
            raise invalid_arguments(["view_id or external_id is required"])
        if current is None:
            raise SlackApiRefusal("not_found")
        if payload.get("hash") and payload["hash"] != current["hash"]:
            raise SlackApiRefusal("hash_conflict")
        view = payload.get("view")
        expected = view.get("type") if isinstance(view, dict) else "modal"
        view = self._parse_view(payload, expected_type=str(expected or "modal"))
        return {"view": self._store_view(view, view_id=current["id"])}

    def publish(self, payload: JSONDict) -> JSONDict:
        workspace = self._workspace
        user_id = payload.get("user_id")
        if not user_id:
            raise invalid_arguments(["missing required field: user_id"])
        if workspace.users and user_id not in workspace.users:
            raise SlackApiRefusal("user_not_found")
        view = self._parse_view(payload, expected_type="home")
        with workspace.lock:
            current = workspace.content.home_views.get(user_id)
        if current and payload.get("hash") and payload["hash"] != current["hash"]:
            raise SlackApiRefusal("hash_conflict")
        stored = self._store_view(view, view_id=current["id"] if current else None)
        with workspace.lock:
            workspace.content.home_views[user_id] = stored
        return {"view": stored}

    def _check_trigger(self, trigger_id: object) -> None:
        workspace = self._workspace
        if not isinstance(trigger_id, str) or not trigger_id:
            raise SlackApiRefusal("invalid_arguments")
        with workspace.lock:
            issued = workspace.content.triggers.get(trigger_id)
        if issued is None:
            if workspace.strict_trigger_ids:
                raise SlackApiRefusal("invalid_trigger_id")
            return
        if workspace.now() - issued > TRIGGER_ID_TTL_SECONDS:
            raise SlackApiRefusal("expired_trigger_id")

    def _parse_view(self, payload: JSONDict, *, expected_type: str) -> JSONDict:
        view = payload.get("view")
        if not isinstance(view, dict):
            raise invalid_arguments(["missing required field: view [json-pointer:/view]"])
        if view.get("type") != expected_type:
            raise invalid_arguments(
                [f"must be one of [{expected_type}] [json-pointer:/view/type]"]
                if view.get("type")
                else ["missing required field: type [json-pointer:/view]"]
            )
        errors = validate_view(view)
        if errors:
            raise invalid_arguments(errors)
        return view

    def _store_view(self, view: JSONDict, *, view_id: str | None = None) -> JSONDict:
        workspace = self._workspace
        view_id = view_id or workspace.new_id("V")
        stored: JSONDict = {
            "id": view_id,
            "team_id": workspace.team_id,
            "type": view.get("type"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(workspace.now())}.{uuid.uuid4().hex[:8]}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": workspace.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": workspace.team_id,
            "bot_id": workspace.bot_id,
        }
        with workspace.lock:
            workspace.content.views[view_id] = stored
        return stored
