"""Hub webhook payloads: what one POST says, and the check it asks for (if any).

The Hub POSTs JSON (webhook version 3, huggingface_hub's ``WebhookPayload``)::

    {"event": {"action": "update", "scope": "repo.content"},
     "repo": {"type": "model", "name": "org/model", "headSha": "…", "id": "…",
              "private": false, "owner": {"id": "…"}, "url": {"web": "…", "api": "…"}},
     "updatedRefs": [{"ref": "refs/heads/main", "oldSha": "…", "newSha": "…"}],
     "movedTo": {"name": "org/new-name", "owner": {"id": "…"}},     # on "move" only
     "webhook": {"id": "…", "version": 3}}

Only what decides the answer is read (``event.action``, ``event.scope``, ``repo.type``,
``repo.name``, ``repo.headSha``); the rest may be absent or change shape without breaking
anything. Repository events (scopes ``repo``, ``repo.content``, ``repo.config``) of a model
the team watches, under its id or an earlier one (an alias), queue a check; discussions,
datasets, Spaces and repositories nobody watches are acknowledged and ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from sqlalchemy.orm import Session

from governance.core.errors import InvalidInput
from governance.registry.tracking import find_model
from governance.upstream.check_requests import request_check

REPO_SCOPES = frozenset({"repo", "repo.content", "repo.config"})
NAME_MAX = 200


@dataclass(frozen=True)
class HubEvent:
    """The fields of one webhook payload that modelgov acts on."""

    action: str
    scope: str
    repo_type: str
    repo_name: str
    head_sha: str | None

    @property
    def describes(self) -> str:
        """``repo.content update of model org/name`` (for logs and the queued reason)."""
        return f"{self.scope} {self.action} of {self.repo_type} {self.repo_name}"


@dataclass(frozen=True)
class EventOutcome:
    """What a payload led to: ``queued`` (a check of ``repo_id``) or ``ignored`` (and why)."""

    outcome: str
    sentence: str
    repo_id: str | None = None


def parse_event(raw: bytes) -> HubEvent:
    """The event in a webhook body.

    Raises:
        InvalidInput: the body is not UTF-8 JSON, not an object, or lacks ``event.action``,
            ``event.scope``, ``repo.type`` or ``repo.name`` as strings (one sentence).
    """
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("The webhook body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidInput("The webhook body is not a JSON object.")
    event, repo = body.get("event"), body.get("repo")
    if not isinstance(event, dict) or not isinstance(repo, dict):
        raise InvalidInput("The webhook body has no `event` or no `repo` object.")
    fields = {
        "event.action": event.get("action"),
        "event.scope": event.get("scope"),
        "repo.type": repo.get("type"),
        "repo.name": repo.get("name"),
    }
    texts = {name: value.strip() for name, value in fields.items() if _short_text(value)}
    missing = [name for name in fields if name not in texts]
    if missing:
        raise InvalidInput(f"The webhook body has no usable `{missing[0]}` string.")
    head = repo.get("headSha")
    return HubEvent(
        action=texts["event.action"],
        scope=texts["event.scope"],
        repo_type=texts["repo.type"],
        repo_name=texts["repo.name"],
        head_sha=head.strip() if _short_text(head) else None,
    )


def _short_text(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value.strip()) <= NAME_MAX


def queue_for_event(session: Session, event: HubEvent, *, now: datetime) -> EventOutcome:
    """Queue a check of the watched model ``event`` is about, or say why it is ignored.

    Writes at most one ``check_requests`` row (folded into one already queued for the model).
    """
    if event.repo_type != "model":
        return EventOutcome("ignored", f"Ignored: {event.describes} (only models are watched).")
    if event.scope not in REPO_SCOPES:
        return EventOutcome("ignored", f"Ignored: {event.describes} (not a repository change).")
    model = find_model(session, event.repo_name)
    if model is None or not model.watched:
        return EventOutcome("ignored", f"Ignored: {event.repo_name} is not watched.")
    request_check(session, model_id=model.id, reason=event.describes, now=now)
    return EventOutcome(
        "queued", f"Queued a check of {model.repo_id} ({event.describes}).", model.repo_id
    )
