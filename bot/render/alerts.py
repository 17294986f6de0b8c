"""Alert messages and subscription replies. Pure; everything from upstream is escaped.

An alert is read at a glance in a busy channel, so it says each thing once, in this order: the
change in words (``governance.alerts.story``: "License changed: MIT → Llama 3.1 Community
License — commercial use: yes → conditional (700M MAU)"), the model, kind and time; what it
means for the team (approvals now in review, their owners and the approvers mentioned); the
clause summary; then the diff, collapsed to its first lines (the whole diff is one command
away). Times are Slack dates (``<!date^…>``), which each reader sees in their own time zone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.render.blocks import Block, Reply, code, context, escape, fit, section, truncate
from bot.render.mentions import channel_ref, mention, mentions
from governance.alerts.kind_names import kind_name
from governance.alerts.listing import AlertPage
from governance.alerts.models import Alert
from governance.alerts.notifier import OutgoingAlert
from governance.alerts.story import AlertStory, tell
from governance.core.clock import format_time
from governance.core.kinds import ALERT_KINDS, NoticeKind
from governance.upstream.changes import TERMS_KINDS

ACTION_ACK = "alert_ack"
ACTION_REAPPROVE = "alert_reapprove"
ACTION_REVOKE = "alert_revoke"
# One button per approval in review; action ids must be unique in a message.
REAPPROVE_PATTERN = re.compile(rf"^{ACTION_REAPPROVE}-\d+$")
REVOKE_PATTERN = re.compile(rf"^{ACTION_REVOKE}-\d+$")
MAX_APPROVAL_BUTTONS = 5
HEADLINE_MAX = 600
SUMMARY_LINES_MAX = 15
DIFF_LINES_SHOWN = 12  # the collapsed diff: enough to see the kind of change
DIFF_CHARS_SHOWN = 1200
TEXT_MAX = 3000  # the notification text (Slack truncates at 40,000; phones show far less)
REVIEW_SHOWN = 10


def slack_date(value: datetime | None) -> str:
    """``value`` as a Slack date token: each reader sees it in their own time zone and locale
    (``Dec 2, 2026 at 9:00 AM``); clients that cannot show it fall back to the UTC text."""
    if value is None:
        return "-"
    return (
        f"<!date^{int(value.timestamp())}^{{date_short_pretty}} at {{time}}|{format_time(value)}>"
    )


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


def _emoji(kind: str, review: list[dict[str, Any]]) -> str:
    if review or kind == NoticeKind.POLICY_VIOLATION:
        return ":rotating_light:"
    if kind == NoticeKind.DIGEST:
        return ":newspaper:"
    return ":bell:"


def _owners(item: dict[str, Any]) -> str:
    """Who an approval in review belongs to: who asked for it and who approved it."""
    parts = []
    if item.get("requested_by"):
        parts.append(f"requested by {mention(str(item['requested_by']))}")
    if item.get("decided_by"):
        parts.append(f"approved by {mention(str(item['decided_by']))}")
    return ", ".join(parts)


def _meaning(story: AlertStory, payload: dict[str, Any], terms_kind: bool) -> str:
    """What the change means for the team, in mrkdwn ("" when it means nothing to act on)."""
    review = _in_review(payload)
    approvers = [str(u) for u in payload.get("approvers") or []]
    if review:
        count = len(review)
        lines = [
            f"*{count} approval{'s' if count > 1 else ''} moved to review* (not in force until "
            "re-approved):"
        ]
        for item in review[:REVIEW_SHOWN]:
            owners = _owners(item)
            use = escape(str(item.get("use") or "?"))
            lines.append(f"• #{item['id']} {use} use" + (f" — {owners}" if owners else ""))
        if count > REVIEW_SHOWN:
            lines.append(f"• and {count - REVIEW_SHOWN} more (`/models list review`)")
        if approvers:
            lines.append(f"{mentions(approvers)}: re-approve or revoke below.")
        return ":warning: " + "\n".join(lines)
    if payload.get("dry_run"):
        return ":information_source: Dry run: the team policy moved nothing to review."
    pinned = [p for p in payload.get("pinned_approvals") or [] if isinstance(p, dict)]
    if pinned:
        covers = "; ".join(
            f"#{p.get('id')} ({escape(str(p.get('use') or '?'))} use) covers "
            f"{escape(str(p.get('revision_sha') or '?')[:12])}"
            for p in pinned
        )
        return f":pushpin: Approvals stay pinned to the revision they were granted for: {covers}."
    if terms_kind:
        return ":white_check_mark: No approved use of this model was affected."
    return ""


def _diff_blocks(story: AlertStory) -> list[Block]:
    """The diff collapsed to its first lines, with how much is hidden and where the rest is."""
    if not story.diff:
        return []
    lines = story.diff.splitlines()
    shown = "\n".join(lines[:DIFF_LINES_SHOWN])
    hidden = len(lines) > DIFF_LINES_SHOWN or len(shown) > DIFF_CHARS_SHOWN or story.diff_truncated
    where = f"`/models diff {escape(story.repo_id)}`" if story.repo_id else "`/models diff`"
    note = (
        f"First {min(len(lines), DIFF_LINES_SHOWN)} lines of the diff; the whole diff: {where}"
        if hidden
        else f"The diff; also `{where.strip('`')}`"
    )
    return [section(code(shown, DIFF_CHARS_SHOWN)), context(f":page_facing_up: {note}")]


def alert_message(
    alert: OutgoingAlert,
    *,
    acknowledged_by: str | None = None,
    acknowledged_at: datetime | None = None,
) -> Reply:
    """The message of one alert: the change in words, what it means for the team, the clause
    summary, the collapsed diff, and its buttons (or who acknowledged it)."""
    payload = alert.payload or {}
    story = tell(alert)
    review = _in_review(payload)
    headline = truncate(story.headline, HEADLINE_MAX)
    where = [f"*{escape(story.repo_id)}*"] if story.repo_id else []
    where.append(escape(story.kind_name))
    if alert.created_at is not None:
        where.append(slack_date(alert.created_at))
    blocks: list[Block] = [
        section(f"{_emoji(story.kind, review)} *{escape(headline)}*"),
        context(" · ".join(where)),
    ]
    terms_kind = story.kind in TERMS_KINDS
    meaning = _meaning(story, payload, terms_kind)
    if meaning:
        blocks.append(section(meaning))
    details = [*story.facts, *story.summary]
    if details:
        shown = details[:SUMMARY_LINES_MAX]
        more = len(details) - len(shown)
        text = "\n".join(f"• {escape(line)}" for line in shown)
        blocks.append(section(text + (f"\n_…and {more} more_" if more else "")))
    blocks += _diff_blocks(story)
    if acknowledged_by:
        blocks.append(
            context(
                f":eyes: Acknowledged by {mention(acknowledged_by)} {slack_date(acknowledged_at)}"
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
    text = f"{story.repo_id}: {story.headline}" if story.repo_id else story.headline
    return Reply(text=truncate(text, TEXT_MAX), blocks=fit(blocks))


def describe_filter(kinds: Sequence[str] | None, repos: Sequence[str] | None) -> str:
    """``License changed, Gating changed alerts about meta-llama/*`` (plain text): what a
    subscription takes."""
    order = {str(kind): i for i, kind in enumerate(ALERT_KINDS)}  # as people see them listed
    named = sorted(kinds or [], key=lambda k: order.get(str(k), len(order)))
    what = (", ".join(kind_name(k) for k in named) + " alerts") if named else "Alerts of every kind"
    return what + (f" about {', '.join(repos)}" if repos else "")


def subscriptions_reply(
    rows: list[tuple[str, list[str] | None, list[str] | None]], *, default: str
) -> Reply:
    """``/models subscriptions``: each channel and the alerts it takes (kinds, models); what
    no subscription takes goes to ``default``."""
    fallback = f"Alerts no subscription takes go to {channel_ref(default)}."
    if not rows:
        message = f"No subscriptions: every alert goes to {channel_ref(default)}."
        return Reply(
            text=f"No subscriptions: every alert goes to {default}.",
            blocks=[section(message)],
            data={"subscriptions": [], "default": default},
        )
    lines = [f"{channel_ref(d)}: {escape(describe_filter(k, r))}" for d, k, r in rows]
    text = "\n".join(f"{d}: {describe_filter(k, r)}" for d, k, r in rows)
    return Reply(
        text=f"Alert subscriptions:\n{text}\nAlerts no subscription takes go to {default}.",
        blocks=[section("*Alert subscriptions*\n" + "\n".join(lines)), context(fallback)],
        data={
            "subscriptions": [{"destination": d, "kinds": k, "repos": r} for d, k, r in rows],
            "default": default,
        },
    )


def _list_headline(alert: Alert) -> str:
    """``repo: headline`` of a stored alert (plain text)."""
    story = tell(
        OutgoingAlert(
            id=alert.id,
            kind=alert.kind,
            destination=alert.destination,
            title=alert.title,
            body=alert.body,
            payload=dict(alert.payload or {}),
        )
    )
    return f"{story.repo_id}: {story.headline}" if story.repo_id else story.headline


def _state_line(alert: Alert) -> str:
    """Where an alert stands in the outbox, in words."""
    if alert.state == "delivered":
        return f"delivered to {channel_ref(alert.destination)} {slack_date(alert.delivered_at)}"
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
        f"#{a.id} {escape(_list_headline(a))}\n"
        f"    {_state_line(a)}, raised {slack_date(a.created_at)}"
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
    text_lines = [f"#{a.id} {_list_headline(a)} ({a.state})" for a in page.alerts]
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
                    "kind_name": kind_name(a.kind),
                    "headline": _list_headline(a),
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
