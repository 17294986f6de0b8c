"""Block Kit views of the team policy: the rules as set, and a verdict for one request.

``policy_blocks`` is what the request reply and the Slack request card show.
"""

from __future__ import annotations

from bot.render.blocks import Block, Reply, context, escape, header, section
from governance.core.clock import format_time
from governance.licenses.policy_eval import PolicyReport
from governance.licenses.policy_store import RuleSetting

OUTCOME_ICONS = {"pass": ":white_check_mark:", "warn": ":warning:", "fail": ":no_entry:"}


def policy_blocks(report: PolicyReport) -> list[Block]:
    """Pass / warn / fail per rule, then the license terms that matter for the intended use."""
    blocks: list[Block] = []
    if report.results:
        verdict = {
            "pass": "passes the team policy",
            "warn": "passes the team policy with warnings",
            "fail": "fails the team policy",
        }[report.outcome]
        if report.outcome == "fail":
            verdict += (
                " (dry run: approval is not blocked)"
                if report.dry_run
                else "; approval is blocked until it passes"
            )
        lines = [f"*Policy:* {report.use.value} use {verdict}."]
        lines += [
            f"{OUTCOME_ICONS[r.outcome]} `{r.rule}` {escape(r.message)}" for r in report.results
        ]
        blocks.append(section("\n".join(lines)))
    if report.terms:
        terms = "\n".join(f"• {escape(t)}" for t in report.terms)
        blocks.append(section(f"*Terms that matter for {report.use.value} use:*\n{terms}"))
    elif not report.checked:
        blocks.append(context("License terms: not checked upstream yet."))
    return blocks


def policy_show_reply(settings: list[RuleSetting]) -> Reply:
    """``/models policy show``: every rule, its value and who set it."""
    lines = []
    for s in settings:
        who = (
            f" _(set by {escape(s.updated_by)} {format_time(s.updated_at)})_"
            if s.updated_by
            else ""
        )
        lines.append(f"`{s.name}` *{escape(s.shown)}*{who}\n{escape(s.summary)}")
    blocks: list[Block] = [header("Team policy"), section("\n".join(lines))]
    blocks.append(
        context("Approvers: `/models policy set <rule> <value>` · `/models policy unset <rule>`")
    )
    text = "Team policy:\n" + "\n".join(f"{s.name}: {s.shown}" for s in settings)
    data = {"rules": {s.name: {"value": s.value, "updated_by": s.updated_by} for s in settings}}
    return Reply(text=text, blocks=blocks, data=data)
