"""Registering modelgov's webhook with the Hub, through huggingface_hub's own webhook API.

``HfApi.create_webhook`` / ``update_webhook`` / ``list_webhooks`` / ``delete_webhook`` (the
Hub's ``/api/settings/webhooks``), with the configured endpoint and token. The webhook watches
the watched models themselves (``{"type": "model", "name": repo_id}``), not their authors:
the Hub then sends only events modelgov acts on (an organisation with 2,000 repositories and 3
watched models would otherwise POST on every push to any of them), and ``watched`` needs no
guess whether an author is a user or an org. The price: after ``watch``/``unwatch``, run
``modelgov hub-webhook create`` again; it updates the webhook already registered for that URL
instead of adding a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from httpx2 import HTTPError
from huggingface_hub import HfApi, WebhookInfo, WebhookWatchedItem
from huggingface_hub.errors import HfHubHTTPError
from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.core.errors import GovernanceError, InvalidInput
from governance.registry.models import TrackedModel

DOMAINS: list[Literal["repo", "discussion"]] = ["repo"]
TOKEN_HINT = (
    "a Hugging Face token allowed to manage webhooks (a write token, or a fine-grained one "
    "with the webhooks permission)"
)


class HubWebhookError(GovernanceError):
    """The Hub refused or could not be asked; the message is one sentence for the operator."""

    code = "hub_webhook_error"


@dataclass(frozen=True)
class Registered:
    """What ``register`` did: ``created`` or ``updated``, and the webhook as the Hub has it."""

    action: str
    webhook: WebhookInfo


def watched_repo_ids(session: Session) -> list[str]:
    """The ids of every watched model, sorted."""
    return sorted(
        session.scalars(select(TrackedModel.repo_id).where(TrackedModel.watched.is_(True)))
    )


class HubWebhooks:
    """The Hub's webhooks for one endpoint and token."""

    def __init__(self, endpoint: str, token: str | None, *, secret: str | None = None) -> None:
        if not token:
            raise HubWebhookError(f"Set HF_TOKEN to {TOKEN_HINT}; managing webhooks needs one.")
        self._api = HfApi(endpoint=endpoint.rstrip("/"), token=token)
        self._endpoint = endpoint
        self._secret = secret

    def register(self, url: str, repo_ids: list[str]) -> Registered:
        """Create the webhook for ``url`` watching ``repo_ids`` (or update the one that posts
        to ``url`` already); returns what was done.

        Raises:
            InvalidInput: ``url`` is not http(s), or there is nothing to watch.
            HubWebhookError: no secret configured, or the Hub refused (one sentence).
        """
        if not url.startswith(("https://", "http://")):
            raise InvalidInput(f"{url[:100]!r} is not a URL; give https://<host>/hub/webhook.")
        if not self._secret:
            raise HubWebhookError(
                "Set MODELGOV_HUB_WEBHOOK_SECRET first: the Hub sends it with every event and "
                "the web process refuses events without it."
            )
        if not repo_ids:
            raise InvalidInput("No model is watched yet; `watch <repo>` one first.")
        watched: list[dict[Any, Any] | WebhookWatchedItem] = [
            WebhookWatchedItem(type="model", name=repo_id) for repo_id in repo_ids
        ]
        existing = [w for w in self.list() if w.url == url]
        try:
            if existing:
                webhook = self._api.update_webhook(
                    existing[0].id, url=url, watched=watched, domains=DOMAINS, secret=self._secret
                )
                return Registered("updated", webhook)
            webhook = self._api.create_webhook(
                url=url, watched=watched, domains=DOMAINS, secret=self._secret
            )
            return Registered("created", webhook)
        except (HfHubHTTPError, HTTPError) as exc:
            raise self._refusal("register the webhook", exc) from None

    def list(self) -> list[WebhookInfo]:
        """Every webhook the token's account has.

        Raises:
            HubWebhookError: the Hub refused or is unreachable (one sentence).
        """
        try:
            return self._api.list_webhooks()
        except (HfHubHTTPError, HTTPError) as exc:
            raise self._refusal("list webhooks", exc) from None

    def delete(self, webhook_id: str) -> None:
        """Delete the webhook ``webhook_id``.

        Raises:
            InvalidInput: the id is empty or has characters no webhook id has.
            HubWebhookError: no such webhook, the Hub refused, or it is unreachable.
        """
        if not webhook_id.isascii() or not webhook_id.isalnum() or len(webhook_id) > 64:
            raise InvalidInput(f"{webhook_id[:64]!r} is not a webhook id (`hub-webhook list`).")
        try:
            self._api.delete_webhook(webhook_id)
        except (HfHubHTTPError, HTTPError) as exc:
            raise self._refusal(f"delete webhook {webhook_id}", exc) from None

    def _refusal(self, doing: str, exc: HfHubHTTPError | HTTPError) -> HubWebhookError:
        status = exc.response.status_code if isinstance(exc, HfHubHTTPError) else None
        if status == 401:
            reason = f"HF_TOKEN was refused (401: invalid or expired); set HF_TOKEN to {TOKEN_HINT}"
        elif status == 403:
            reason = f"HF_TOKEN may not manage webhooks (403); set HF_TOKEN to {TOKEN_HINT}"
        elif status == 404:
            reason = "the Hub has no such webhook for this token (404; `hub-webhook list`)"
        elif status is not None:
            server = getattr(exc, "server_message", None) or ""
            detail = f": {server.strip().splitlines()[0][:200]}" if server.strip() else ""
            reason = f"the Hub answered {status}{detail}"
        else:
            reason = f"the Hub at {self._endpoint} is unreachable ({type(exc).__name__})"
        return HubWebhookError(f"Could not {doing}: {reason}.")
