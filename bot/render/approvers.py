"""Block Kit, text and JSON views of the approver directory. Pure functions; text escaped."""

from __future__ import annotations

from typing import Any

from bot.render.blocks import Block, Reply, context, escape, fit, header, section
from bot.render.mentions import mention, mentions
from governance.core.clock import format_time
from governance.registry.approvers import (
    ENV_APPROVERS,
    ENV_GROUP,
    ApproverEntry,
    ApproverSource,
)
from governance.registry.audit import acted_by
from governance.registry.models import ApproverKind, AuditEvent


def group_ref(group: str) -> str:
    """``<!subteam^S123>`` for a Slack user group id (Slack shows its handle), else text."""
    return f"<!subteam^{group}>" if group[:1] == "S" and group.isalnum() else escape(group)


def _who(entry: ApproverEntry) -> str:
    if entry.kind is ApproverKind.USERGROUP:
        return f"user group {group_ref(entry.principal)}"
    return mention(entry.principal)


def _members(entry: ApproverEntry) -> str:
    if entry.kind is not ApproverKind.USERGROUP:
        return ""
    if entry.members is None:
        return " · members: not known here (asked of Slack when connected)"
    return f" · members: {mentions(sorted(entry.members)) or 'nobody'}"


def source_text(entry: ApproverEntry) -> str:
    """Where ``entry`` comes from, as plain text: ``added by U1 2026-12-02 10:00 UTC via
    slack``, ``environment (MODELGOV_APPROVERS)``, ``user group (MODELGOV_APPROVER_GROUP)``."""
    if entry.source is ApproverSource.ENVIRONMENT:
        return f"environment ({ENV_APPROVERS})"
    if entry.source is ApproverSource.USER_GROUP:
        return f"user group ({ENV_GROUP})"
    when = f" {format_time(entry.added_at)}" if entry.added_at else ""
    via = f" via {entry.added_via}" if entry.added_via else ""
    return f"added by {entry.added_by}{when}{via}"


def _source_mrkdwn(entry: ApproverEntry) -> str:
    if entry.source is not ApproverSource.ADDED:
        return escape(source_text(entry))
    when = f" {format_time(entry.added_at)}" if entry.added_at else ""
    via = f" via {escape(entry.added_via)}" if entry.added_via else ""
    return f"added by {mention(entry.added_by)}{when}{via}"


def entry_data(entry: ApproverEntry) -> dict[str, Any]:
    """One approver as JSON-able data."""
    return {
        "principal": entry.principal,
        "kind": entry.kind.value,
        "source": entry.source.value,
        "added_by": entry.added_by,
        "added_at": entry.added_at.isoformat() if entry.added_at else None,
        "added_via": entry.added_via,
        "members": sorted(entry.members) if entry.members is not None else None,
    }


def change_line(event: AuditEvent) -> str:
    """One approver change as plain text: when, what, about whom, by whom and how."""
    verb = "added" if event.action == "approver_added" else "removed"
    return f"{format_time(event.at)} {event.detail} {verb} by {acted_by(event)}"


def approvers_reply(entries: list[ApproverEntry], changes: list[AuditEvent]) -> Reply:
    """The answer to ``approvers list``: every approver and its source, then recent changes."""
    data = {
        "approvers": [entry_data(e) for e in entries],
        "changes": [
            {
                "at": e.at.isoformat(),
                "action": e.action,
                "principal": (e.after or e.before or {}).get("principal"),
                "actor": e.actor,
                "channel": e.channel.value if e.channel else None,
                "os_user": e.os_user,
            }
            for e in changes
        ],
    }
    if not entries:
        text = (
            f"Nobody is an approver yet: set {ENV_APPROVERS} (user ids, comma-separated) and "
            "restart; approvers can then add others with `/models approvers add @user`."
        )
        return Reply(text=text, blocks=[section(escape(text))], data=data)
    blocks: list[Block] = [header(f"Approvers ({len(entries)})")]
    blocks += [section(f"{_who(e)} · {_source_mrkdwn(e)}{_members(e)}") for e in entries]
    if changes:
        blocks.append(context(*[escape(change_line(e)) for e in changes[-5:]]))
    lines = [f"{e.principal} ({e.kind.value}): {source_text(e)}" for e in entries]
    text = "Approvers:\n" + "\n".join(lines)
    if changes:
        text += "\nRecent changes:\n" + "\n".join(change_line(e) for e in changes[-5:])
    return Reply(text=text, blocks=fit(blocks), data=data)


def approver_changed_reply(entry: ApproverEntry, *, added: bool) -> Reply:
    """The answer to ``approvers add`` / ``remove``."""
    label = (
        f"user group {entry.principal}" if entry.kind is ApproverKind.USERGROUP else entry.principal
    )
    if added:
        text = f"{label} is now an approver."
        mrkdwn = f"{_who(entry)} is now an approver (added by {mention(entry.added_by)})."
    else:
        text = f"{label} is no longer an approver."
        mrkdwn = f"{_who(entry)} is no longer an approver."
    return Reply(
        text=text,
        blocks=[section(mrkdwn)],
        data={"approver": entry_data(entry), "added": added},
    )
