"""People and channels in mrkdwn: Slack ids become mentions, anything else is escaped text."""

from __future__ import annotations

import re

from bot.render.blocks import escape

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")


def mention(user: str | None) -> str:
    """``<@U123>`` for a Slack user id (Slack shows the name); a console name as text."""
    if not user:
        return "-"
    return f"<@{user}>" if _SLACK_USER.match(user) else escape(user)


def mentions(users: list[str]) -> str:
    """``users`` as mentions, comma-separated."""
    return ", ".join(mention(u) for u in users)


def channel_ref(destination: str) -> str:
    """``<#C123>`` for a channel id (Slack shows its name); ``#name`` as text."""
    return f"<#{destination}>" if _SLACK_CHANNEL.match(destination) else escape(destination)
