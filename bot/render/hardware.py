"""``/models fit``: the memory each quantization of a model needs, which machines hold it, and
the Hub files that supply it, with the formula and its assumptions shown."""

from __future__ import annotations

from typing import Any

from bot.render.blocks import Block, Reply, code, context, escape, fit, header, section
from governance.hardware.gguf import ollama_reference
from governance.hardware.models import Estimate, Fit, Machine, format_gib
from governance.hardware.service import ASSUMPTIONS, FORMULA, best_fit
from governance.upstream.sizing import FitReport, Supplier

SUPPLIERS_SHOWN = 3  # per level
_WHERE = {"vram": "VRAM", "ram": "RAM", "split": "VRAM+RAM"}


def fit_word(result: Fit) -> str:
    """``fits (VRAM)``, ``tight (RAM)``, ``no (1.25 GiB short)``."""
    if result.verdict == "no":
        return f"no ({format_gib(-result.spare_bytes)} short)"
    return f"{result.verdict} ({_WHERE[result.where]})"


def machine_label(machine: Machine) -> str:
    """``laptop (16 GiB RAM)`` for a profile, ``16 GiB RAM`` for --ram/--vram."""
    described = machine.describe()
    return described if machine.name == described else f"{machine.name} ({described})"


def parameters_text(report: FitReport) -> str:
    """Where the parameter count comes from, in one sentence."""
    p = report.facts.parameters
    billions = p.total / 1e9
    by_dtype = ", ".join(f"{k} {v:,}" for k, v in sorted(p.by_dtype.items()))
    source = f"the Hub's {p.source} metadata of {p.repo_id}" + (f": {by_dtype}" if by_dtype else "")
    text = f"{billions:.2f} B parameters ({p.total:,}; {source})."
    if p.packed:
        text += (
            " Some weights are stored packed into integers (GPTQ/AWQ/bitsandbytes), so this "
            "count is lower than the model's real one."
        )
    return text


def kv_text(report: FitReport) -> str:
    """The KV cache's arithmetic, or why it is left out."""
    shape, ctx = report.facts.shape, report.context
    default = " (the default)" if report.context_defaulted else ""
    window = report.facts.context_window
    takes = f"; the model takes up to {window:,}" if window else ""
    if shape is None or report.kv_bytes is None:
        return (
            f"Context {ctx:,} tokens{default}{takes}. KV cache not included: "
            f"{report.facts.shape_note}."
        )
    return (
        f"Context {ctx:,} tokens{default}{takes}. KV cache (F16) = 2 x {shape.layers} layers x "
        f"{shape.kv_heads} KV heads x {shape.head_dim} head dim x {ctx:,} tokens x 2 bytes = "
        f"{report.kv_bytes:,} bytes = {format_gib(report.kv_bytes)} "
        f"({report.facts.shape_note})."
    )


def _table(report: FitReport) -> str:
    heads = ["quant", "bits/w", "weights", "needed", *(machine_label(m) for m in report.machines)]
    rows = [heads]
    for r in report.rows:
        row = [
            r.level.name,
            f"{r.level.bits_per_weight}",
            format_gib(r.weights_bytes),
            format_gib(r.total_bytes),
        ]
        row += [fit_word(report.fit_of(r, m)) for m in report.machines]
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(heads))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def machine_summary(report: FitReport, machine: Machine) -> str:
    """One sentence: the best level that fits ``machine``, or that none does."""
    label = machine_label(machine)
    best = best_fit(report.rows, machine)
    if best is None:
        smallest = min(report.rows, key=lambda e: e.total_bytes)
        return (
            f"{label}: no quantization fits; the smallest, {smallest.level.name}, needs "
            f"{format_gib(smallest.total_bytes)}."
        )
    result = report.fit_of(best, machine)
    tight = " (tight: it needs nearly all of it)" if result.verdict == "tight" else ""
    return (
        f"{label}: up to {best.level.name} fits{tight}, {format_gib(best.total_bytes)} needed "
        f"in {_WHERE[result.where]}."
    )


def _supplier_text(report: FitReport, s: Supplier) -> str:
    size = format_gib(s.file.size) if s.file.size is not None else "size unknown"
    needs = report.file_needs(s.file)
    needed = f" (needs {format_gib(needs)})" if needs is not None else ""
    lic = ""
    if s.license is not None:
        lic = f", card license {s.license}" + (
            " (disagrees with the base's)" if s.agreement == "disagrees" else ""
        )
    quant = s.file.quant or (s.file.level.name if s.file.level else "")
    return (
        f"{s.repo_id}: {s.file.path.rsplit('/', 1)[-1]}, {size}{needed}{lic} "
        f"`{ollama_reference(s.repo_id, quant)}`"
    )


def _supplier_lines(report: FitReport, row: Estimate) -> list[str]:
    found = report.suppliers.get(row.level.name, ())
    return [_supplier_text(report, s) for s in found[:SUPPLIERS_SHOWN]] + (
        [f"(+{len(found) - SUPPLIERS_SHOWN} more)"] if len(found) > SUPPLIERS_SHOWN else []
    )


def fit_data(report: FitReport) -> dict[str, Any]:
    """The report as JSON-able data (bytes as integers)."""
    shape = report.facts.shape
    return {
        "repo_id": report.facts.repo_id,
        "parameters": report.facts.parameters.total,
        "parameters_source": report.facts.parameters.source,
        "parameters_repo": report.facts.parameters.repo_id,
        "packed": report.facts.parameters.packed,
        "context": report.context,
        "context_window": report.facts.context_window,
        "kv_cache_bytes": report.kv_bytes,
        "shape": None if shape is None else vars(shape),
        "shape_note": report.facts.shape_note,
        "formula": FORMULA,
        "assumptions": list(ASSUMPTIONS),
        "machines_from": report.machines_from,
        "machines": [
            {"name": m.name, "ram_bytes": m.ram_bytes, "vram_bytes": m.vram_bytes}
            for m in report.machines
        ],
        "levels": [
            {
                "quant": r.level.name,
                "bits_per_weight": str(r.level.bits_per_weight),
                "bits_source": r.level.source,
                "weights_bytes": r.weights_bytes,
                "kv_bytes": r.kv_bytes,
                "overhead_bytes": r.overhead_bytes,
                "total_bytes": r.total_bytes,
                "fits": {
                    m.name: {
                        "verdict": report.fit_of(r, m).verdict,
                        "where": report.fit_of(r, m).where,
                        "spare_bytes": report.fit_of(r, m).spare_bytes,
                    }
                    for m in report.machines
                },
                "suppliers": [
                    {
                        "repo_id": s.repo_id,
                        "path": s.file.path,
                        "size": s.file.size,
                        "license": s.license,
                        "agreement": s.agreement,
                        "reference": ollama_reference(s.repo_id, s.file.quant or r.level.name),
                    }
                    for s in report.suppliers.get(r.level.name, ())
                ],
            }
            for r in report.rows
        ],
        "problems": list(report.problems),
    }


def fit_reply(report: FitReport) -> Reply:
    """Parameters, KV cache and overhead; the table; a sentence per machine; the files that
    supply each level; the formula and assumptions."""
    repo = report.facts.repo_id
    facts = [parameters_text(report), kv_text(report), "Overhead: 0.5 GiB (an allowance)."]
    blocks: list[Block] = [header(f"Hardware fit of {repo}"), section(escape("\n".join(facts)))]
    lines = [f"Hardware fit of {repo}", *facts]
    table = _table(report)
    blocks.append(section(code(table)))
    lines.append(table)
    if report.machines:
        summary = [machine_summary(report, m) for m in report.machines]
    else:
        summary = [
            "Give --ram and/or --vram (GB), or set MODELGOV_HARDWARE_PROFILES "
            "(e.g. laptop=16GB RAM, gpu-box=24GB VRAM), to see what fits."
        ]
    blocks.append(section(escape("\n".join(summary))))
    lines += summary
    supply = []
    for row in report.rows:
        found = _supplier_lines(report, row)
        if found:
            supply.append(section(f"*{row.level.name}*\n" + "\n".join(escape(x) for x in found)))
            lines.append(f"{row.level.name}: " + " | ".join(found))
    if supply:
        blocks.append(
            context("GGUF files on the Hub for these sizes (needed: file + KV + overhead):")
        )
        blocks += supply
    elif not report.problems:
        note = f"No GGUF quantization of {repo} on the Hub was found for these sizes."
        blocks.append(section(escape(note)))
        lines.append(note)
    for problem in report.problems:
        blocks.append(context(f":warning: {escape(problem)}"))
        lines.append(problem)
    how = f"Formula: {FORMULA}. Assumptions: " + "; ".join(ASSUMPTIONS) + "."
    blocks.append(context(escape(how)))
    lines.append(how)
    return Reply(text="\n".join(lines), blocks=fit(blocks), data=fit_data(report))
