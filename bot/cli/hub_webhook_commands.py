"""``modelgov hub-webhook create|list|delete``: the Hub's webhook for this deployment."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click
from huggingface_hub import WebhookInfo
from sqlalchemy.exc import SQLAlchemyError

from bot.cli import json_output
from governance.core.config import Settings
from governance.core.db import create_db_engine, make_session_factory, transaction
from governance.core.errors import GovernanceError
from governance.core.logs import report_failure
from governance.core.startup import start_process
from governance.upstream.hub_webhooks import HubWebhooks, watched_repo_ids

_JSON = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def _fail(exc: GovernanceError) -> NoReturn:
    """Stop with the error's sentence on stderr (and its envelope on stdout with --json)."""
    if json_output.json_requested():
        json_output.echo(json_output.failure(exc.code, exc.message))
    report_failure(exc.message, code=exc.code)
    sys.exit(json_output.exit_status(exc.code))


def webhook_data(webhook: WebhookInfo) -> dict[str, Any]:
    """One Hub webhook as JSON-able data (the secret is never included)."""
    return {
        "id": webhook.id,
        "url": webhook.url,
        "disabled": webhook.disabled,
        "domains": list(webhook.domains),
        "watched": [{"type": item.type, "name": item.name} for item in webhook.watched],
    }


def _hub(settings: Settings) -> HubWebhooks:
    return HubWebhooks(settings.hub_endpoint, settings.hf_token, secret=settings.hub_webhook_secret)


def _watched(settings: Settings) -> list[str]:
    """The watched models' ids, read from DATABASE_URL.

    Raises GovernanceError when the database cannot be read (one sentence).
    """
    engine = create_db_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine, read_only=True)) as session:
            return watched_repo_ids(session)
    except SQLAlchemyError as exc:
        raise GovernanceError(
            f"cannot read the watched models at DATABASE_URL ({type(exc).__name__}); "
            "is it migrated (`modelgov db upgrade`)?"
        ) from None
    finally:
        engine.dispose()


@click.group("hub-webhook")
def hub_webhook() -> None:
    """The Hub webhook that tells `serve --http` (POST /hub/webhook) of changes in seconds."""


@hub_webhook.command("create")
@click.option("--url", required=True, help="The web process's https://<host>/hub/webhook.")
@_JSON
def create(url: str, as_json: bool) -> None:
    """Register one webhook watching every watched model (updates the one for URL if any)."""
    try:
        settings = start_process("hub-webhook create")
        hub = _hub(settings)
        done = hub.register(url, _watched(settings))
    except GovernanceError as exc:
        _fail(exc)
    webhook = done.webhook
    if as_json:
        json_output.echo(json_output.success({"action": done.action, **webhook_data(webhook)}))
        return
    click.echo(
        f"{done.action} webhook {webhook.id} → {webhook.url}: {len(webhook.watched)} models, "
        f"domains {','.join(webhook.domains)}, secret from MODELGOV_HUB_WEBHOOK_SECRET"
    )


@hub_webhook.command("list")
@_JSON
def list_(as_json: bool) -> None:
    """The webhooks of HF_TOKEN's account: id, state, URL and how many items each watches."""
    try:
        webhooks = _hub(start_process("hub-webhook list")).list()
    except GovernanceError as exc:
        _fail(exc)
    if as_json:
        json_output.echo(json_output.success({"webhooks": [webhook_data(w) for w in webhooks]}))
        return
    if not webhooks:
        click.echo("no webhooks")
    for webhook in webhooks:
        state = "disabled" if webhook.disabled else "enabled"
        kinds = sorted({item.type for item in webhook.watched})
        click.echo(
            f"{webhook.id}  {state}  {webhook.url or '(job)'}  "
            f"{len(webhook.watched)} watched ({','.join(kinds) or '-'})  "
            f"domains {','.join(webhook.domains)}"
        )


@hub_webhook.command("delete")
@click.argument("webhook_id")
@_JSON
def delete(webhook_id: str, as_json: bool) -> None:
    """Delete the webhook WEBHOOK_ID (polling keeps checking every model)."""
    try:
        _hub(start_process("hub-webhook delete")).delete(webhook_id)
    except GovernanceError as exc:
        _fail(exc)
    if as_json:
        json_output.echo(json_output.success({"deleted": webhook_id}))
        return
    click.echo(f"deleted webhook {webhook_id}")
