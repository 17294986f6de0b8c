"""Alert messages and subscription replies. Pure; everything from upstream is escaped.

An alert is read in a busy channel: what changed and for which model first, then before and
after, then who has to act (the approvals now in review, their approvers mentioned), then a
diff excerpt that fits one section (the whole diff is one command away).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from bot.render.blocks import Block, Reply, code, context, escape, fit, section, truncate
from bot.render.mentions import channel_ref, mention, mentions
from governance.alerts.listing import AlertPage
from governance.alerts.models import Alert
from governance.alerts.notifier import OutgoingAlert
from governance.core.clock import format_time

ACTION_ACK = "alert_ack"
ACTION_REAPPROVE = "alert_reapprove"
ACTION_REVOKE = "alert_revoke"
# One button per approval in review; action ids must be unique in a message.
REAPPROVE_PATTERN = re.compile(rf"^{ACTION_REAPPROVE}-\d+$")
REVOKE_PATTERN = re.compile(rf"^{ACTION_REVOKE}-\d+$")
MAX_APPROVAL_BUTTONS = 5
VALUE_MAX = 900
DIFF_MAX = 2500


def _value(value: Any) -> str:
    if value is None:
        return "_none_"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return truncate(escape(text), VALUE_MAX)


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _in_review(payload: dict[str, Any]) -> list[dict[str, Any]]:
    items = payload.get("approvals_in_review") or []
    return [a for a in items if isinstance(a, dict) and str(a.get("id", "")).isdigit()]


def alert_message(
    alert: OutgoingAlert,
    *,
    acknowledged_by: str | None = None,
    acknowledged_at: datetime | None = None,
) -> Reply:
    """The message of one alert: what changed, the approvals it affects, and its buttons (or
    who acknowledged it)."""
    payload = alert.payload or {}
    repo = str(payload.get("repo_id") or "")
    blocks: list[Block] = [
        section(
            f":bell: *{escape(alert.title)}*" + (f"\n{escape(alert.body)}" if alert.body else "")
        )
    ]
    if "before" in payload or "after" in payload:
        blocks.append(
            section(
                f"*{escape(str(payload.get('kind') or alert.kind))}*",
                fields=[
                    f"*Before*\n{_value(payload.get('before'))}",
                    f"*After*\n{_value(payload.get('after'))}",
                ],
            )
        )
    summary = [str(line) for line in payload.get("summary") or []]
    if summary:
        blocks.append(section("\n".join(f"• {escape(line)}" for line in summary[:20])))
    review = _in_review(payload)
    if review:
        lines = [
            f"#{a['id']} ({escape(str(a.get('use') or ''))} use, approved by "
            f"{mention(str(a.get('decided_by') or '')) if a.get('decided_by') else '-'})"
            for a in review
        ]
        approvers = [str(u) for u in payload.get("approvers") or []]
        who = (
            f"\nApprovers: {mentions(approvers)}, please re-approve or revoke." if approvers else ""
        )
        blocks.append(section(":warning: *Now in review:* " + "; ".join(lines) + who))
    diff = str(payload.get("diff_excerpt") or "")
    if diff:
        blocks.append(section(code(diff, DIFF_MAX)))
        if repo:
            blocks.append(context(f"An excerpt; the whole diff: `/models diff {escape(repo)}`"))
    if acknowledged_by:
        blocks.append(
            context(
                f":eyes: Acknowledged by {mention(acknowledged_by)} {format_time(acknowledged_at)}"
            )
        )
    buttons = [] if acknowledged_by else [_button("Acknowledge", ACTION_ACK, str(alert.id))]
    for item in review[:MAX_APPROVAL_BUTTONS]:
        number = str(item["id"])
        buttons.append(
            _button(f"Re-approve #{number}", f"{ACTION_REAPPROVE}-{number}", number, "primary")
        )
        buttons.append(_button(f"Revoke #{number}", f"{ACTION_REVOKE}-{number}", number, "danger"))
    if buttons:
        blocks.append({"type": "actions", "block_id": f"alert-{alert.id}", "elements": buttons})
    return Reply(text=alert.title, blocks=fit(blocks))


def subscriptions_reply(rows: list[tuple[str, list[str] | None]], *, default: str) -> Reply:
    """``/models subscriptions``: where each alert kind goes."""
    fallback = f"Kinds no subscription covers go to {channel_ref(default)}."
    if not rows:
        message = f"No subscriptions: every alert goes to {channel_ref(default)}."
        return Reply(
            text=f"No subscriptions: every alert goes to {default}.",
            blocks=[section(message)],
            data={"subscriptions": [], "default": default},
        )
    lines = [f"{channel_ref(d)}: {_kinds(k)}" for d, k in rows]
    text = "\n".join([f"{d}: {_kinds(k)}" for d, k in rows])
    return Reply(
        text=f"Alert subscriptions:\n{text}\nKinds no subscription covers go to {default}.",
        blocks=[section("*Alert subscriptions*\n" + "\n".join(lines)), context(fallback)],
        data={
            "subscriptions": [{"destination": d, "kinds": k} for d, k in rows],
            "default": default,
        },
    )


def _kinds(kinds: list[str] | None) -> str:
    return ", ".join(kinds) if kinds else "every kind"


def _state_line(alert: Alert) -> str:
    """Where an alert stands in the outbox, in words."""
    if alert.state == "delivered":
        return f"delivered to {channel_ref(alert.destination)} {format_time(alert.delivered_at)}"
    line = f"waiting for {channel_ref(alert.destination)}"
    if alert.attempts:
        line += f" ({alert.attempts} failed attempts; last: {escape(alert.last_error or '?')})"
    return line


def alerts_reply(page: AlertPage, *, slack_configured: bool) -> Reply:
    """``/models alerts``: the alerts of ``page``, newest first, each with where it stands."""
    what = {"pending": "waiting for Slack", "delivered": "delivered", "all": "in the outbox"}
    label = what.get(page.state, page.state)
    if not page.alerts:
        message = f"No alerts {label}."
        return Reply(
            text=message,
            blocks=[section(escape(message))],
            data={"state": page.state, "total": 0, "alerts": []},
        )
    head = f"*{page.total} alerts {label}*" + (
        f" (the newest {len(page.alerts)})" if page.total > len(page.alerts) else ""
    )
    lines = [
        f"#{a.id} {escape(a.title)}\n    {_state_line(a)}, raised {format_time(a.created_at)}"
        for a in page.alerts
    ]
    blocks: list[Block] = [section(head)]
    blocks += [section("\n".join(lines[i : i + 10])) for i in range(0, len(lines), 10)]
    if page.state == "pending" and not slack_configured:
        blocks.append(
            context(
                "Slack is not configured here (SLACK_BOT_TOKEN); a worker with a bot token posts "
                "these, each once. `/models alerts #N` shows one in full."
            )
        )
    else:
        blocks.append(context("`/models alerts #N` shows one in full."))
    text_lines = [f"#{a.id} {a.title} ({a.state})" for a in page.alerts]
    return Reply(
        text=f"{page.total} alerts {label}:\n" + "\n".join(text_lines),
        blocks=fit(blocks),
        data={
            "state": page.state,
            "total": page.total,
            "alerts": [
                {
                    "id": a.id,
                    "kind": a.kind,
                    "title": a.title,
                    "destination": a.destination,
                    "state": a.state,
                    "attempts": a.attempts,
                    "last_error": a.last_error,
                    "created_at": a.created_at.isoformat(),
                    "delivered_at": a.delivered_at.isoformat() if a.delivered_at else None,
                }
                for a in page.alerts
            ],
        },
    )


def alert_detail_reply(item: OutgoingAlert, alert: Alert) -> Reply:
    """``/models alerts #N``: the alert as Slack shows it, then where it stands in the outbox."""
    reply = alert_message(
        item, acknowledged_by=alert.acknowledged_by, acknowledged_at=alert.acknowledged_at
    )
    blocks = [b for b in reply.blocks if b.get("type") != "actions"]  # buttons act in Slack only
    blocks.append(context(f"Alert #{alert.id}: {_state_line(alert)}."))
    return Reply(
        text=reply.text,
        blocks=fit(blocks),
        data={
            "id": alert.id,
            "kind": alert.kind,
            "title": alert.title,
            "destination": alert.destination,
            "state": alert.state,
            "payload": item.payload,
        },
    )
