"""What the Hub says about a model's size, and which of its quantizations fit which machines.

``fit_report`` reads, with the fewest requests it can:

1. ``model_info(expand=safetensors, gguf, cardData, siblings, sha)``: the parameter count the
   Hub computed from the weight headers (``safetensors.total``, else ``gguf.total``);
2. ``config.json`` (the repo's, else its base's for a GGUF repo): layers, attention and KV
   heads, hidden size, head dim, context window (``governance.hardware.service``);
3. the repo's own GGUF files with their sizes, when it has any;
4. the base's quantized derivatives on the Hub (``governance.upstream.variants``): which repos
   supply each quantization, at what real file size.

Then the arithmetic of ``governance.hardware.service`` for each quantization level, against
``--ram``/``--vram`` or the team's profiles. What could not be read (a gated config.json, a
listing that failed) is said in ``problems``; only a missing parameter count is an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from huggingface_hub.hf_api import ExpandModelProperty_T, ModelInfo

from governance.core.errors import GovernanceError, NotFound, UpstreamError
from governance.hardware.gguf import GgufFile, gguf_files
from governance.hardware.models import (
    DEFAULT_CONTEXT,
    OVERHEAD_BYTES,
    AttentionShape,
    Estimate,
    Fit,
    Machine,
    ParameterCount,
)
from governance.hardware.service import (
    attention_shape,
    check_context,
    estimates,
    fit,
    parameters_from_gguf,
    parameters_from_safetensors,
)
from governance.registry.validation import validate_repo_id
from governance.upstream.hub import HubClient, RepoUnavailable
from governance.upstream.variants import Agreement, find_variants

FIT_EXPAND: tuple[ExpandModelProperty_T, ...] = (
    "safetensors",
    "gguf",
    "cardData",
    "siblings",
    "sha",
)
MachinesFrom = Literal["options", "profiles", "none"]


@dataclass(frozen=True)
class SizeFacts:
    """A model's size facts: parameters, KV shape (or why none), context window, GGUF files.

    ``base`` is the base model whose config (or parameter count) stood in for the repo's own,
    when the repo has none (a GGUF repo has no config.json).
    """

    repo_id: str
    parameters: ParameterCount
    shape: AttentionShape | None
    shape_note: str
    context_window: int | None
    architecture: str | None
    bases: tuple[str, ...]
    own_gguf: tuple[GgufFile, ...]
    problems: tuple[str, ...] = ()  # what could not be read (the repo's own file sizes)
    has_gguf: bool = False  # the repo holds GGUF files (a quantization: suppliers are its base's)


@dataclass(frozen=True)
class Supplier:
    """A GGUF file on the Hub that supplies one quantization level, and its card license."""

    repo_id: str
    file: GgufFile
    license: str | None
    agreement: Agreement


@dataclass(frozen=True)
class FitReport:
    """The estimates for one model at one context length, the machines they are checked
    against, and the Hub files that supply each level (by level name)."""

    facts: SizeFacts
    context: int
    context_defaulted: bool
    rows: tuple[Estimate, ...]
    machines: tuple[Machine, ...]
    machines_from: MachinesFrom
    suppliers: Mapping[str, tuple[Supplier, ...]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def kv_bytes(self) -> int | None:
        """The KV cache at ``context`` (None when the shape is unknown)."""
        return self.rows[0].kv_bytes if self.rows else None

    def fit_of(self, row: Estimate, machine: Machine) -> Fit:
        """Whether ``row`` fits ``machine``."""
        return fit(row.total_bytes, machine)

    def fit_of_bytes(self, needed: int, machine: Machine) -> Fit:
        """Whether ``needed`` bytes fit ``machine``."""
        return fit(needed, machine)

    def file_needs(self, file: GgufFile) -> int | None:
        """What running ``file`` needs: its size + the KV cache + overhead (None: size unknown)."""
        if file.size is None:
            return None
        return file.size + (self.kv_bytes or 0) + OVERHEAD_BYTES


def _card(info: ModelInfo) -> dict[str, Any]:
    if info.card_data is None:
        return {}
    return dict(info.card_data.to_dict())  # type: ignore[no-untyped-call]  # huggingface_hub leaves CardData.to_dict unannotated (it returns a dict)


def _bases(card: Mapping[str, Any]) -> tuple[str, ...]:
    raw = card.get("base_model")
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    out = []
    for value in values:
        try:
            out.append(validate_repo_id(str(value)))
        except GovernanceError:
            continue  # a card naming a base that is not a repo id: no base to read
    return tuple(out)


def _parameters(hub: HubClient, info: ModelInfo, bases: Sequence[str]) -> ParameterCount:
    repo_id = str(info.id)
    own = parameters_from_safetensors(info.safetensors, repo_id) or parameters_from_gguf(
        info.gguf, repo_id
    )
    if own is not None and not own.packed:
        return own
    for base in bases[:1]:
        try:
            base_info = hub.fetch_info(base, ("safetensors", "gguf"))
        except UpstreamError:
            break
        found = parameters_from_safetensors(base_info.safetensors, base) or parameters_from_gguf(
            base_info.gguf, base
        )
        if found is not None and not found.packed:
            return found
    if own is not None:
        return own  # packed and no base to read: said in the answer
    raise NotFound(
        f"The Hub has no parameter count for {repo_id}: it computes one from .safetensors or "
        ".gguf weights, and this repo has neither (nor a base that has)."
    )


def _shape(
    hub: HubClient, info: ModelInfo, bases: Sequence[str]
) -> tuple[AttentionShape | None, str]:
    """The KV shape from the repo's config.json, else its first base's; and a note saying where
    it came from or why there is none."""
    names = {s.rfilename for s in info.siblings or []}
    candidates: list[tuple[str, str]] = []
    if "config.json" in names:
        candidates.append((str(info.id), str(info.sha or "main")))
    candidates += [(base, "main") for base in bases[:1]]
    if not candidates:
        return None, f"{info.id} has no config.json and names no base model"
    notes = []
    for repo_id, revision in candidates:
        try:
            raw = hub.fetch_file(repo_id, revision, "config.json")
        except RepoUnavailable as exc:
            why = "is gated for us" if exc.reason == "gated_no_access" else exc.reason
            notes.append(f"{repo_id}'s config.json {why.replace('_', ' ')}")
            continue
        except UpstreamError as exc:
            notes.append(f"{repo_id}'s config.json could not be read now ({exc.message})")
            continue
        if raw is None:
            notes.append(f"{repo_id} has no config.json")
            continue
        try:
            config = json.loads(raw)
        except ValueError:
            notes.append(f"{repo_id}'s config.json is not valid JSON")
            continue
        shape = attention_shape(config, repo_id) if isinstance(config, dict) else None
        if shape is None:
            notes.append(f"{repo_id}'s config.json lacks layers, heads or hidden size")
            continue
        return shape, f"from {repo_id}'s config.json"
    return None, "; ".join(notes)


def size_facts(hub: HubClient, repo: str) -> SizeFacts:
    """The size facts of ``repo`` (see the module's steps 1-3).

    Raises ``InvalidInput``, ``RepoUnavailable``, ``TransientHubError`` (the model info
    request), or ``NotFound`` when the Hub has no parameter count for it.
    """
    info = hub.fetch_info(validate_repo_id(repo), FIT_EXPAND)
    repo_id = str(info.id)
    bases = _bases(_card(info))
    parameters = _parameters(hub, info, bases)
    shape, note = _shape(hub, info, bases)
    gguf = info.gguf if isinstance(info.gguf, Mapping) else {}
    window = shape.max_context if shape and shape.max_context else gguf.get("context_length")
    own: tuple[GgufFile, ...] = ()
    problems: list[str] = []
    has_gguf = any(s.rfilename.lower().endswith(".gguf") for s in info.siblings or [])
    if has_gguf:
        try:
            files = hub.fetch_file_list(repo_id, str(info.sha or "main"))
            own = gguf_files((f.path, f.size) for f in files)
        except UpstreamError as exc:
            problems.append(f"The sizes of {repo_id}'s own files could not be read: {exc.message}")
    architecture = gguf.get("architecture")
    return SizeFacts(
        repo_id=repo_id,
        parameters=parameters,
        shape=shape,
        shape_note=note,
        context_window=window if isinstance(window, int) and window > 0 else None,
        architecture=architecture if isinstance(architecture, str) else None,
        bases=bases,
        own_gguf=own,
        problems=tuple(problems),
        has_gguf=has_gguf,
    )


def _suppliers(
    hub: HubClient, facts: SizeFacts, problems: list[str]
) -> dict[str, tuple[Supplier, ...]]:
    """Each level's GGUF files: the repo's own, then the base's quantized derivatives'."""
    found: dict[str, list[Supplier]] = {}

    def add(repo_id: str, files: Sequence[GgufFile], lic: str | None, agree: Agreement) -> None:
        for f in files:
            if f.level is not None:
                found.setdefault(f.level.name, []).append(Supplier(repo_id, f, lic, agree))

    base = facts.bases[0] if facts.has_gguf and facts.bases else facts.repo_id
    if facts.own_gguf:
        add(facts.repo_id, facts.own_gguf, None, "unclear")
    try:
        page = find_variants(hub, base=base, relation="quantized")
    except GovernanceError as exc:
        problems.append(f"The quantized versions of {base} could not be listed: {exc.message}")
        return {k: tuple(v) for k, v in found.items()}
    problems.extend(page.problems)
    for v in page.variants:
        if v.repo_id.lower() == facts.repo_id.lower() and facts.own_gguf:
            # Its own files are listed already; keep what the listing adds: the license.
            for level, items in found.items():
                found[level] = [
                    Supplier(s.repo_id, s.file, v.license.declared, v.agreement)
                    if s.repo_id.lower() == v.repo_id.lower()
                    else s
                    for s in items
                ]
            continue
        add(v.repo_id, v.gguf, v.license.declared, v.agreement)
    return {k: tuple(v) for k, v in found.items()}


def fit_report(
    hub: HubClient,
    repo: str,
    *,
    context: int | None,
    machines: Sequence[Machine],
    machines_from: MachinesFrom,
    with_suppliers: bool = True,
) -> FitReport:
    """The memory ``repo`` needs at each quantization level for ``context`` tokens (default
    ``DEFAULT_CONTEXT``, capped at the model's window), checked against ``machines``.

    Raises what ``size_facts`` raises, and ``InvalidInput`` for a context the model cannot
    take.
    """
    facts = size_facts(hub, repo)
    window = facts.context_window
    if context is None:
        used = min(DEFAULT_CONTEXT, window or DEFAULT_CONTEXT)
    else:
        used = check_context(context, window, facts.repo_id)
    rows = estimates(facts.parameters.total, facts.shape, used)
    problems = list(facts.problems)
    suppliers = _suppliers(hub, facts, problems) if with_suppliers else {}
    return FitReport(
        facts=facts,
        context=used,
        context_defaulted=context is None,
        rows=rows,
        machines=tuple(machines),
        machines_from=machines_from,
        suppliers=suppliers,
        problems=tuple(problems),
    )
