"""The approval request card and the decision notice. Pure; user and upstream text escaped."""

from __future__ import annotations

from bot.render.blocks import Block, Reply, context, escape, section
from bot.render.lineage import lineage_card_text
from bot.render.mentions import mention
from bot.render.registry import STATE_ICONS, state_label
from governance.core.clock import format_time
from governance.dashboard.service import UpstreamFacts
from governance.registry.models import Approval, ApprovalState

ACTION_APPROVE = "approval_approve"
ACTION_CONDITIONS = "approval_conditions"
ACTION_REJECT = "approval_reject"


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


def _facts(facts: UpstreamFacts | None) -> list[str]:
    if facts is None or facts.checked_at is None:
        return ["*Upstream*\nnot checked yet"]
    fields = [
        f"*License*\n{escape_or(facts.license, 'none declared')}",
        f"*Gating*\n{escape_or(facts.gated, 'open')}",
    ]
    if facts.last_change:
        fields.append(
            f"*Last upstream change*\n{escape_or(facts.last_change, '-')} "
            f"({format_time(facts.last_change_at)})"
        )
    else:
        fields.append(f"*Last checked*\n{format_time(facts.checked_at)}, no change seen")
    return fields


def escape_or(value: str | None, default: str) -> str:
    """``value`` escaped, or ``default`` when it is empty."""
    return escape(value) if value else default


def decision_line(approval: Approval) -> str:
    """``✅ approved by @bob at 2026-11-27 10:31 UTC`` and what came with the decision.

    In review it says so, since when, and who approved it: the move to review was not the
    approver's (usually the watcher's), and ``decided_by`` still names the approver."""
    line = (
        f"{STATE_ICONS[approval.state]} *{state_label(approval.state)}* by "
        f"{mention(approval.decided_by)} at {format_time(approval.decided_at)}"
    )
    if approval.state is ApprovalState.NEEDS_REVIEW:
        line = (
            f"{STATE_ICONS[approval.state]} *{state_label(approval.state)}* since "
            f"{format_time(approval.updated_at)} (approved by {mention(approval.decided_by)} "
            f"at {format_time(approval.decided_at)})"
        )
    if approval.conditions:
        line += f"\n_conditions:_ {escape_or(approval.conditions, '')}"
    if approval.expires_on:
        line += f"\n_expires:_ {approval.expires_on.isoformat()}"
    if approval.decision_reason and approval.state is not ApprovalState.APPROVED:
        line += f"\n_reason:_ {escape_or(approval.decision_reason, '')}"
    return line


def request_card(approval: Approval, facts: UpstreamFacts | None) -> Reply:
    """The card in the approvals channel: buttons while pending, the decision afterwards."""
    repo = approval.model.repo_id
    fields = [
        f"*Requested by*\n{mention(approval.requested_by)}",
        f"*Intended use*\n{approval.use.value}",
        f"*Requested at*\n{format_time(approval.requested_at)}",
        *_facts(facts),
    ]
    blocks: list[Block] = [
        section(
            f"{STATE_ICONS[approval.state]} *Request #{approval.id}: {escape_or(repo, '')}*",
            fields=fields,
        )
    ]
    if facts is not None and facts.lineage is not None:
        blocks.append(section(lineage_card_text(facts.lineage)))
    if approval.reason:
        blocks.append(section(f"*Reason*\n{escape_or(approval.reason, '')}"))
    if approval.state is ApprovalState.REQUESTED:
        value = str(approval.id)
        blocks.append(
            {
                "type": "actions",
                "block_id": f"decide-{approval.id}",
                "elements": [
                    _button("Approve", ACTION_APPROVE, value, "primary"),
                    _button("Approve with conditions", ACTION_CONDITIONS, value),
                    _button("Reject", ACTION_REJECT, value, "danger"),
                ],
            }
        )
    else:
        blocks.append(section(decision_line(approval)))
    blocks.append(context(f"`/models info {repo}` for the whole history"))
    text = (
        f"Request #{approval.id}: {repo} for {approval.use.value} use by "
        f"{approval.requested_by} ({state_label(approval.state)})"
    )
    return Reply(text=text, blocks=blocks)


def decision_notice(approval: Approval) -> Reply:
    """The DM a requester gets when their request is decided."""
    repo = approval.model.repo_id
    label = state_label(approval.state)
    text = (
        f"Your request #{approval.id} for {repo} ({approval.use.value} use) was {label} by "
        f"{approval.decided_by} at {format_time(approval.decided_at)}."
    )
    head = (
        f"Your request #{approval.id} for *{escape_or(repo, '')}* "
        f"({approval.use.value} use) was decided:"
    )
    return Reply(text=text, blocks=[section(head), section(decision_line(approval))])
