"""The App Home dashboard: what needs a decision first, then what stands, then what changed.

Like Renovate's dependency dashboard, one place to see the state of everything. Slack allows
100 blocks in a Home tab; whatever does not fit is counted at the end, never silently dropped.
"""

from __future__ import annotations

from datetime import datetime

from bot.render.blocks import VIEW_BLOCKS_MAX, Block, context, divider, escape, header, section
from bot.render.lineage import derivative_line
from bot.render.registry import approval_line
from governance.core.clock import format_time
from governance.dashboard.service import HomeData
from governance.registry.models import Approval


def _group(title: str, lines: list[str], empty: str) -> tuple[str, list[Block], int]:
    blocks = [section(line) for line in lines] if lines else [context(empty)]
    return title, blocks, len(lines)


def _line(data: HomeData, approval: Approval, now: datetime) -> str:
    """An approval's line, with its model's lineage when the model is a derivative."""
    line = approval_line(approval, today=now.date())
    view = data.lineage_of(approval.model_id)
    if view is not None and view.lineage is not None:
        line += f"\n_{escape(view.lineage.describe())}_"
    return line


def home_view(data: HomeData, *, now: datetime) -> Block:
    """The Home tab: in review, pending, approved, derivatives, recent changes (within Slack's
    100 blocks)."""
    groups = [
        _group(
            f":warning: *Needs review* ({len(data.needs_review)})",
            [_line(data, a, now) for a in data.needs_review],
            "Nothing in review: every approval still matches its upstream terms.",
        ),
        _group(
            f":hourglass_flowing_sand: *Pending requests* ({len(data.pending)})",
            [_line(data, a, now) for a in data.pending],
            "No requests waiting for a decision.",
        ),
        _group(
            f":white_check_mark: *Approved* ({len(data.approved)}), soonest expiry first",
            [_line(data, a, now) for a in data.approved],
            "No approved models yet. `/models request <repo>` asks for one.",
        ),
        _group(
            f":dna: *Derivatives* ({len(data.derivatives)}): whose terms bind, what covers them",
            [derivative_line(m.repo_id, v) for m, v in data.derivatives],
            "No tracked quantized copies, fine-tunes, adapters or merges.",
        ),
        _group(
            f":newspaper: *Recent upstream changes* ({len(data.changes)})",
            [
                f"{format_time(c.detected_at)} · *{escape(c.repo_id)}* · {escape(c.kind)}\n"
                f"{escape(c.summary)}"
                for c in data.changes
            ],
            "No upstream changes seen yet.",
        ),
    ]
    blocks: list[Block] = [
        header("modelgov: model governance"),
        context(f"Updated {format_time(now)} · `/models help` for the commands"),
    ]
    budget = VIEW_BLOCKS_MAX - 1  # one block is kept for the "not shown" count
    hidden: list[str] = []
    for title, items, count in groups:
        if len(blocks) + 3 > budget:  # divider, title, at least one item
            if count:
                hidden.append(f"{count} under {_plain(title)}")
            continue
        blocks += [divider(), section(title)]
        room = budget - len(blocks)
        blocks += items[:room]
        if len(items) > room:
            hidden.append(f"{len(items) - room} more under {_plain(title)}")
    if hidden:
        blocks.append(context(f"_Not shown: {'; '.join(hidden)}. `/models list` shows all._"))
    return {"type": "home", "blocks": blocks}


def _plain(title: str) -> str:
    # "*Needs review* (12)" -> "Needs review"
    return title.split("*")[1] if title.count("*") >= 2 else title
