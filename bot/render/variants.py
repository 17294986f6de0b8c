"""``/models variants``: a base model's derivatives on the Hub, one section each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.render.blocks import Block, Reply, context, escape, fit, header, section
from governance.hardware.gguf import GgufFile
from governance.hardware.models import format_gib
from governance.registry.standing import Standing
from governance.upstream.variants import PAGE_SIZE, Variant, VariantPage

TeamStanding = Mapping[str, tuple[Standing, str] | None]
_AGREEMENT_ICONS = {
    "agrees": ":white_check_mark:",
    "disagrees": ":warning:",
    "unclear": ":grey_question:",
}
GGUF_SHOWN = 8  # quantizations listed per derivative; the rest are counted


def gguf_text(files: tuple[GgufFile, ...], *, sizes_read: bool) -> str:
    """``Q3_K_M 3.74 GiB · Q4_K_M 4.58 GiB`` (smallest first), or what is missing."""
    if not files:
        return ""
    parts = []
    for f in files[:GGUF_SHOWN]:
        label = f.quant or f.path.rsplit("/", 1)[-1]
        size = format_gib(f.size) if f.size is not None else "size unknown"
        shards = f" in {f.shards} parts" if f.shards > 1 else ""
        parts.append(f"{label} {size}{shards}")
    more = f" (+{len(files) - GGUF_SHOWN} more)" if len(files) > GGUF_SHOWN else ""
    note = "" if sizes_read else " (sizes not read)"
    return " · ".join(parts) + more + note


def _standing_text(standing: tuple[Standing, str] | None) -> str:
    if standing is None:
        return "not tracked"
    state, detail = standing
    return f"{state} ({detail})"


def _variant_block(v: Variant, standing: tuple[Standing, str] | None) -> Block:
    icon = _AGREEMENT_ICONS[v.agreement]
    head = [f"*{escape(v.repo_id)}*", v.relation, *v.formats]
    if v.downloads is not None:
        head.append(f"{v.downloads:,} downloads")
    if v.gated:
        head.append("gated")
    lines = [
        " · ".join(head),
        f"{icon} License {escape(v.license.declared or 'not stated')}: {escape(v.agreement_note)}",
    ]
    files = gguf_text(v.gguf, sizes_read=v.sizes_read)
    if files:
        lines.append(f"GGUF: {escape(files)}")
    lines.append(f"Team: {escape(_standing_text(standing))}")
    return section("\n".join(lines))


def variant_data(v: Variant, standing: tuple[Standing, str] | None) -> dict[str, Any]:
    """One derivative as JSON-able data."""
    return {
        "repo_id": v.repo_id,
        "relation": v.relation,
        "license": v.license.declared,
        "license_id": v.license.license_id,
        "agreement": v.agreement,
        "agreement_note": v.agreement_note,
        "formats": list(v.formats),
        "gguf": [
            {"quant": f.quant, "path": f.path, "size": f.size, "shards": f.shards} for f in v.gguf
        ],
        "sizes_read": v.sizes_read,
        "downloads": v.downloads,
        "gated": v.gated,
        "tracked": standing is not None,
        "standing": standing[0] if standing else None,
        "standing_detail": standing[1] if standing else None,
    }


def variants_reply(page: VariantPage, standings: TeamStanding) -> Reply:
    """The page: the base and its license, one section per derivative, then what failed."""
    base = page.base.repo_id
    what = f"{page.relation} derivatives" if page.relation else "derivatives"
    title = f"{what.capitalize()} of {base} on the Hub"
    base_line = (
        f"{base} is under {page.base_license.name}."
        if page.base_license.name
        else f"{base}'s license is not identified: {page.base_license.message}"
    )
    first = (page.page - 1) * PAGE_SIZE + 1
    span = f"{first}-{first + len(page.variants) - 1}" if page.variants else "none"
    order = f"Most downloaded first; page {page.page} ({span})."
    if page.more:
        order += f" More: `/models variants {base} --page {page.page + 1}`."
    blocks: list[Block] = [header(title), section(escape(base_line)), context(escape(order))]
    lines = [title, base_line]
    if not page.variants:
        none = f"The Hub lists no {what} of {base}" + (" on this page." if page.page > 1 else ".")
        if page.page == 1 and page.base.base_model:
            up = page.base.base_model[0]
            none += f" It derives from {up} itself: `/models variants {up}`."
        blocks.append(section(escape(none)))
        lines.append(none)
    for v in page.variants:
        standing = standings.get(v.repo_id.lower())
        blocks.append(_variant_block(v, standing))
        lines.append(
            f"{v.repo_id} ({v.relation}): license {v.license.declared or 'not stated'}, "
            f"{v.agreement} ({v.agreement_note}); team: {_standing_text(standing)}"
        )
    for problem in page.problems:
        blocks.append(context(f":warning: {escape(problem)}"))
        lines.append(problem)
    data = {
        "base": base,
        "base_license": page.base_license.license_id,
        "relation": page.relation,
        "page": page.page,
        "more": page.more,
        "variants": [variant_data(v, standings.get(v.repo_id.lower())) for v in page.variants],
        "problems": list(page.problems),
    }
    return Reply(text="\n".join(lines), blocks=fit(blocks), data=data)
