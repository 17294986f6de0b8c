"""The Hub stand-in's webhooks: the settings API huggingface_hub calls, and the deliveries.

API (``/api/settings/webhooks``, the shapes ``HfApi`` reads):

- ``GET`` → 200 and a JSON list of webhooks; ``POST`` (create) and ``GET|POST /{id}`` (read,
  update) → 200 ``{"webhook": {...}}``; ``DELETE /{id}`` → 200 ``{}``; an unknown id → 404.
- Each webhook: ``id`` (24 hex digits), ``url``, ``job`` (null), ``watched`` (``type``/
  ``name``), ``domains``, ``secret``, ``disabled``.
- Authorization as the Hub does it: no token → 401; a token it does not know → 401 with
  ``X-Error-Message: Invalid credentials in Authorization header``; a token without the
  webhooks permission (``read`` tokens) → 403; a body that is not what the API takes
  (``watched`` empty or of unknown types, ``domains`` outside repo/discussion, no ``url``)
  → 400 with ``{"error": ...}``. A token sees only its account's webhooks.

Deliveries: ``deliver(repo_id, ...)`` POSTs, to every enabled webhook that watches the repo
(by its name, or its author as ``user``/``org``) and its domain, the payload the Hub sends
(webhook version 3, the secret verbatim in ``X-Webhook-Secret``), and returns the answers.
"""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from tests.support.hub_replies import HubReply, error_reply, json_reply

PREFIX = "/api/settings/webhooks"
WATCHABLE = frozenset({"bucket", "dataset", "model", "org", "space", "user"})
DOMAINS = frozenset({"repo", "discussion"})
INVALID_TOKEN = "Invalid credentials in Authorization header"


@dataclass
class Webhook:
    id: str
    owner: str
    url: str
    watched: list[dict[str, str]]
    domains: list[str]
    secret: str | None
    disabled: bool = False

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "job": None,
            "watched": self.watched,
            "domains": self.domains,
            "secret": self.secret,
            "disabled": self.disabled,
        }


@dataclass
class HubWebhooks:
    """Webhooks by id; ``tokens`` maps a token to (account, may manage webhooks)."""

    tokens: dict[str, tuple[str, bool]] = field(default_factory=dict)
    hooks: dict[str, Webhook] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: int = 0

    def add_token(self, token: str, account: str, *, webhooks: bool = True) -> None:
        """Let ``token`` act as ``account``; ``webhooks=False`` is a read-only token."""
        self.tokens[token] = (account, webhooks)

    # -- the API ---------------------------------------------------------------------------

    def route(self, method: str, path: str, body: bytes, token: str | None) -> HubReply:
        """The reply to one request under ``/api/settings/webhooks``."""
        if token is None:
            return error_reply(401, {"error": "Unauthorized"}, message="Unauthorized")
        if token not in self.tokens:
            return error_reply(401, {"error": INVALID_TOKEN}, message=INVALID_TOKEN)
        account, may_manage = self.tokens[token]
        if not may_manage:
            message = "You don't have the rights to manage webhooks with this token"
            return error_reply(403, {"error": message}, message=message)
        rest = path[len(PREFIX) :].strip("/")
        with self._lock:
            if not rest:
                if method == "GET":
                    mine = [h.json() for h in self.hooks.values() if h.owner == account]
                    return json_reply(200, mine)
                if method == "POST":
                    return self._create(account, body)
                return error_reply(405, {"error": "Method not allowed"})
            hook = self.hooks.get(rest)
            if hook is None or hook.owner != account or "/" in rest:
                return error_reply(404, {"error": "Webhook not found"}, message="Webhook not found")
            if method == "GET":
                return json_reply(200, {"webhook": hook.json()})
            if method == "DELETE":
                del self.hooks[rest]
                return json_reply(200, {})
            if method == "POST":
                return self._update(hook, body)
            return error_reply(405, {"error": "Method not allowed"})

    def _create(self, account: str, body: bytes) -> HubReply:
        data, problem = _valid_body(body, require_url=True)
        if problem is not None:
            return error_reply(400, {"error": problem})
        self._counter += 1
        hook_id = hashlib.sha1(f"webhook:{self._counter}".encode()).hexdigest()[:24]
        hook = Webhook(
            hook_id,
            account,
            data["url"],
            data["watched"],
            data.get("domains", sorted(DOMAINS)),
            data.get("secret"),
        )
        self.hooks[hook_id] = hook
        return json_reply(200, {"webhook": hook.json()})

    def _update(self, hook: Webhook, body: bytes) -> HubReply:
        data, problem = _valid_body(body, require_url=False)
        if problem is not None:
            return error_reply(400, {"error": problem})
        hook.watched = data["watched"]
        hook.url = data.get("url", hook.url)
        hook.domains = data.get("domains", hook.domains)
        hook.secret = data.get("secret", hook.secret)
        return json_reply(200, {"webhook": hook.json()})

    # -- deliveries ------------------------------------------------------------------------

    def deliver(
        self,
        repo_id: str,
        *,
        scope: str = "repo.content",
        action: str = "update",
        repo_type: str = "model",
        head_sha: str | None = None,
        secret: str | None = None,
    ) -> list[tuple[int, str]]:
        """POST the Hub's payload for an event on ``repo_id`` to every webhook that watches
        it; returns (status, body) per delivery. ``secret`` overrides the webhook's (forged)."""
        domain = scope.split(".", 1)[0]
        author = repo_id.split("/", 1)[0]
        with self._lock:
            targets = [
                h
                for h in self.hooks.values()
                if not h.disabled
                and domain in h.domains
                and any(
                    (w["type"] == repo_type and w["name"].lower() == repo_id.lower())
                    or (w["type"] in ("user", "org") and w["name"].lower() == author.lower())
                    for w in h.watched
                )
            ]
        answers = []
        for hook in targets:
            body = payload(
                repo_id,
                scope=scope,
                action=action,
                repo_type=repo_type,
                head_sha=head_sha,
                webhook_id=hook.id,
            )
            answers.append(post(hook.url, body, secret if secret is not None else hook.secret))
        return answers


def payload(
    repo_id: str,
    *,
    scope: str = "repo.content",
    action: str = "update",
    repo_type: str = "model",
    head_sha: str | None = None,
    webhook_id: str = "6569e3d1a1b5c9a4b2f0c001",
    endpoint: str = "https://huggingface.co",
) -> bytes:
    """The JSON the Hub POSTs for one event (webhook version 3)."""
    plural = {"model": "models", "dataset": "datasets", "space": "spaces"}[repo_type]
    web = f"{endpoint}/{'' if repo_type == 'model' else plural + '/'}{repo_id}"
    repo: dict[str, Any] = {
        "type": repo_type,
        "name": repo_id,
        "id": hashlib.sha1(f"_id:{repo_id}".encode()).hexdigest()[:24],
        "private": False,
        "url": {"web": web, "api": f"{endpoint}/api/{plural}/{repo_id}"},
        "owner": {"id": hashlib.sha1(repo_id.split("/")[0].encode()).hexdigest()[:24]},
    }
    if head_sha is not None:
        repo["headSha"] = head_sha
    body: dict[str, Any] = {
        "event": {"action": action, "scope": scope},
        "repo": repo,
        "webhook": {"id": webhook_id, "version": 3},
    }
    if scope == "repo.content" and head_sha is not None:
        body["updatedRefs"] = [{"ref": "refs/heads/main", "oldSha": None, "newSha": head_sha}]
    return json.dumps(body).encode()


def post(url: str, body: bytes, secret: str | None) -> tuple[int, str]:
    """POST ``body`` as the Hub does (JSON, ``X-Webhook-Secret`` when a secret is set)."""
    headers = {"Content-Type": "application/json", "User-Agent": "huggingface.co webhooks"}
    if secret is not None:
        headers["X-Webhook-Secret"] = secret
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _valid_body(body: bytes, *, require_url: bool) -> tuple[dict[str, Any], str | None]:
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return {}, "Invalid JSON body"
    if not isinstance(data, dict):
        return {}, "Invalid JSON body"
    watched = data.get("watched")
    if not isinstance(watched, list) or not watched:
        return data, '"watched" must contain at least one item'
    for item in watched:
        if not isinstance(item, dict) or item.get("type") not in WATCHABLE:
            return data, f'"watched.type" must be one of {sorted(WATCHABLE)}'
        if not isinstance(item.get("name"), str) or not item["name"]:
            return data, '"watched.name" is required'
    domains = data.get("domains", list(DOMAINS))
    if not isinstance(domains, list) or not domains or not set(domains) <= DOMAINS:
        return data, '"domains" must be a non-empty subset of ["repo", "discussion"]'
    url = data.get("url")
    if require_url and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        return data, '"url" must be a valid URL'
    return data, None
