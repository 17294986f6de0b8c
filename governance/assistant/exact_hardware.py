"""Exact answers to "can we run X on a 16 GB laptop?" and "will Llama 3.1 8B fit on our
gpu-box?": computed from the Hub's figures by ``governance.upstream.sizing`` (the parameter
count, config.json, the GGUF files on the Hub), never by the language model.

Recognised when the question asks whether a model runs or fits (run, fit, load, host, enough
memory) and names a machine: a team profile by name (``MODELGOV_HARDWARE_PROFILES``), or a size
("16 GB", "24GB of VRAM": VRAM when it says VRAM or GPU, else RAM). A question that asks but
names no machine is answered for every profile, or told how to say one. The model is a tracked
one the question names, or a full repo id in it.
"""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy.orm import Session

from governance.assistant.exact import ExactAnswer
from governance.assistant.exact_reading import Asked, HubSizing, Routed, clarify
from governance.core.errors import GovernanceError
from governance.hardware.gguf import ollama_reference
from governance.hardware.models import GIB, Machine, format_gib
from governance.hardware.profiles import parse_profiles
from governance.hardware.service import best_fit, fit
from governance.upstream.sizing import FitReport, Supplier, fit_report

INTENT = "hardware_fit"
_ASKS = re.compile(
    r"\b(run|runs|running|fit|fits|fitting|load|loads|host|deploy|serve|"
    r"enough|(how much|what) (memory|ram|vram))\b",
    re.IGNORECASE,
)
_SIZE = re.compile(r"\b(\d+(?:\.\d+)?)\s*(gb|gib|g|gigs?|gigabytes?|tb)\b", re.IGNORECASE)
_VRAM = re.compile(r"\b(vram|gpus?|graphics card|video memory|cuda|nvidia|rtx)\b", re.IGNORECASE)
# Words that make "run X on our ..." a hardware question even without a size. Not "server" or
# "machine": "may we run X on our servers?" asks for permission, and gets the approval answer.
_MACHINE = re.compile(
    r"\b(laptops?|desktops?|macs?|macbooks?|workstations?|hardware|ram|vram|gpus?|memory)\b",
    re.IGNORECASE,
)


def _named_profiles(text: str, profiles: tuple[Machine, ...]) -> tuple[Machine, ...]:
    return tuple(
        m
        for m in profiles
        if re.search(rf"(?<![\w-]){re.escape(m.name)}(?![\w-])", text, re.IGNORECASE)
    )


def _size_machine(text: str) -> Machine | None:
    match = _SIZE.search(text)
    if match is None:
        return None
    unit = 1024 if match.group(2).lower() == "tb" else 1
    size = int(Decimal(match.group(1)) * unit * GIB)
    if size <= 0:
        return None
    vram = _VRAM.search(text) is not None
    machine = Machine("", vram_bytes=size) if vram else Machine("", ram_bytes=size)
    return Machine(machine.describe(), ram_bytes=machine.ram_bytes, vram_bytes=machine.vram_bytes)


def recognise_fit(session: Session, asked: Asked) -> Routed | None:
    """Whether a model fits a machine, from the Hub's figures; None when not asked (or no Hub
    client was given to the assistant)."""
    sizing = asked.sizing
    if sizing is None or not _ASKS.search(asked.text):
        return None
    size = _size_machine(asked.text)
    try:
        profiles = parse_profiles(sizing.profiles)
    except GovernanceError as exc:
        if size is None and not _MACHINE.search(asked.text):
            return None
        return Routed(INTENT, _one_line(exc.message))
    named = _named_profiles(asked.text, profiles)
    if size is None and not named and not _MACHINE.search(asked.text):
        return None
    repo = asked.model.repo_id if asked.model is not None else None
    if repo is None and asked.match.ambiguous:
        return clarify(asked, INTENT)
    if repo is None and asked.untracked:
        repo = asked.untracked[0]
    if repo is None:
        return Routed(
            INTENT,
            _one_line(
                "Which model? I size a model the registry tracks (by its name) or any Hub "
                "model by its full id, e.g. 'can we run meta-llama/Llama-3.1-8B-Instruct on a "
                "16 GB laptop?'."
            ),
        )
    machines = (size,) if size is not None else named or profiles
    return Routed(INTENT, fit_answer(sizing, repo, machines, hub_url=asked.hub))


def _one_line(text: str) -> ExactAnswer:
    out = ExactAnswer()
    out.add(text)
    return out


def fit_answer(
    sizing: HubSizing, repo: str, machines: tuple[Machine, ...], *, hub_url: str
) -> ExactAnswer:
    """One sentence per machine (the best quantization that fits, or that none does), the Hub
    file that supplies it, and the figures it rests on, each cited."""
    try:
        report = fit_report(
            sizing.hub,
            repo,
            context=None,
            machines=machines,
            machines_from="profiles",
        )
    except GovernanceError as exc:
        return _one_line(f"I cannot size {repo} now: {exc.message}")
    out = ExactAnswer()
    base = hub_url.rstrip("/")
    p = report.facts.parameters
    n_params = out.cite(
        f"Hub metadata of {p.repo_id} ({p.source} parameter count)",
        f"{base}/{p.repo_id}",
        f"hub:{p.repo_id}:{p.source}",
    )
    numbers = [n_params]
    shape = report.facts.shape
    if shape is not None:
        numbers.append(
            out.cite(
                f"config.json of {shape.repo_id}",
                f"{base}/{shape.repo_id}/blob/main/config.json",
                f"hub:{shape.repo_id}:config.json",
            )
        )
    name = report.facts.repo_id
    for machine in report.machines:
        _machine_lines(out, report, machine, name, numbers, base)
    if not report.machines:
        needs = ", ".join(f"{r.level.name} {format_gib(r.total_bytes)}" for r in report.rows)
        out.add(f"{name} needs, by quantization: {needs}.", *numbers)
        out.add(
            "Say how much memory the machine has (e.g. 'on a 16 GB laptop'), or set "
            "MODELGOV_HARDWARE_PROFILES (e.g. laptop=16GB RAM, gpu-box=24GB VRAM) to ask about "
            "the team's machines by name."
        )
    kv = (
        f"KV cache {format_gib(report.kv_bytes)} for {report.context:,} tokens"
        if report.kv_bytes is not None
        else f"no KV cache ({report.facts.shape_note})"
    )
    out.add(
        f"The figures: {p.total:,} parameters x llama.cpp's measured bits per weight / 8, plus "
        f"{kv}, plus a 0.5 GiB overhead allowance; `/models fit {name}` shows every level.",
        *numbers,
    )
    return out


def _label(machine: Machine) -> str:
    described = machine.describe()
    return described if machine.name == described else f"{machine.name} ({described})"


def _machine_lines(
    out: ExactAnswer,
    report: FitReport,
    machine: Machine,
    name: str,
    numbers: list[int],
    base: str,
) -> None:
    label = _label(machine)
    best = best_fit(report.rows, machine)
    if best is None:
        smallest = min(report.rows, key=lambda e: e.total_bytes)
        short = fit(smallest.total_bytes, machine).spare_bytes
        out.add(
            f"No. {name} does not fit {label} at any quantization down to "
            f"{smallest.level.name}, which needs {format_gib(smallest.total_bytes)} "
            f"({format_gib(-short)} more than it has).",
            *numbers,
        )
        return
    result = fit(best.total_bytes, machine)
    where = {"vram": "in VRAM", "ram": "in RAM, on the CPU", "split": "split across VRAM and RAM"}
    if result.verdict == "tight":
        lead = f"Only just. {name} fits {label} at {best.level.name} but needs nearly all of it"
    else:
        lead = f"Yes. {name} fits {label} at up to {best.level.name}"
    out.add(
        f"{lead}: {format_gib(best.total_bytes)} {where[result.where]} "
        f"(weights {format_gib(best.weights_bytes)}).",
        *numbers,
    )
    suppliers = report.suppliers.get(best.level.name, ())
    if suppliers:
        _supplier_line(out, suppliers[0], best.level.name, base)


def _supplier_line(out: ExactAnswer, s: Supplier, level: str, base: str) -> None:
    n = out.cite(
        f"{s.file.path} in {s.repo_id}",
        f"{base}/{s.repo_id}/blob/main/{s.file.path}",
        f"hub:{s.repo_id}:{s.file.path}",
    )
    size = format_gib(s.file.size) if s.file.size is not None else "size unknown"
    quant = s.file.quant or level
    disagrees = (
        f"; its card says {s.license}, which disagrees with its base's license"
        if s.agreement == "disagrees" and s.license
        else ""
    )
    out.add(
        f"{s.repo_id} supplies {level} as {s.file.path.rsplit('/', 1)[-1]} ({size}, "
        f"{ollama_reference(s.repo_id, quant)}){disagrees}.",
        n,
    )
