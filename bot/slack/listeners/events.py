"""Events API: ``app_home_opened`` publishes the dashboard (built and sent on the pool)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.slack.delivery.context import SlackContext
from bot.slack.delivery.posting import publish_home


def register(app: App, ctx: SlackContext) -> None:
    """Register the Events API listeners (the Home tab) on ``app``."""

    def home_opened(ack: Ack, event: dict[str, Any]) -> None:
        ack()
        # The event also fires for the Messages tab; only the Home tab shows the dashboard.
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        ctx.pool.submit(publish_home, ctx, str(event["user"]))

    app.event("app_home_opened")(home_opened)
