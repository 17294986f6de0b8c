"""Where a model sits on the openness spectrum, from plain facts about its Hub repository.

Components follow the seed document (architecture, weights, training code, training data,
inference code) plus documentation (model card, data card, paper). Each is open / partial /
closed / unknown with the evidence that decided it; "unknown" means we saw no evidence either
way and is never counted as open. Reviewers can override a component with an evidence link.
Verdicts: OSI Open Source AI Definition 1.0, the Model Openness Framework class, and the
seed's spectrum label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from governance.licenses.knowledge import LicenseTerms

Status = Literal["open", "partial", "closed", "unknown"]
COMPONENTS = (
    "architecture",
    "weights",
    "training_code",
    "training_data",
    "inference_code",
    "model_card",
    "data_card",
    "paper",
)
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".ckpt", ".onnx", ".h5")
_TRAIN_FILE = re.compile(r"(^|/)(train|pretrain|finetune|fine_tune|sft)[\w-]*\.(py|sh|ya?ml)$")
_CODE_URL = re.compile(
    r"https?://(?:www\.)?(?:github\.com|gitlab\.com|codeberg\.org)/[\w.-]+/[\w.-]+"
)
_TRAIN_WORDS = re.compile(r"train|pretrain|fine-?tun|recipe", re.IGNORECASE)
# The Hub's default model card template cites this paper (carbon emissions); it says nothing
# about the model itself, so it is not evidence of a technical report.
_TEMPLATE_ARXIV = {"1910.09700"}


@dataclass(frozen=True)
class Override:
    """A reviewer's judgement of one component, with the link that justifies it."""

    status: Status
    evidence_url: str
    reviewer: str | None = None
    note: str = ""


@dataclass(frozen=True)
class OpennessFacts:
    license_id: str | None
    terms: LicenseTerms | None
    tags: tuple[str, ...] = ()
    card_data: Mapping[str, Any] = field(default_factory=dict)
    card_text: str = ""
    files: tuple[str, ...] = ()
    gated: bool | str = False
    overrides: Mapping[str, Override] = field(default_factory=dict)


@dataclass(frozen=True)
class ComponentAssessment:
    component: str
    status: Status
    evidence: tuple[str, ...]
    overridden: bool = False


@dataclass(frozen=True)
class Verdict:
    framework: str
    result: str
    passed: bool
    missing: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class OpennessAssessment:
    components: tuple[ComponentAssessment, ...]
    osi: Verdict
    mof: Verdict
    spectrum: Verdict

    def component(self, name: str) -> ComponentAssessment:
        """The assessment of component ``name``; raises StopIteration for an unknown name."""
        return next(c for c in self.components if c.component == name)


def license_openness(terms: LicenseTerms | None) -> Literal["open", "restricted", "unknown"]:
    """Whether a license lets anyone use, study, modify and share for any purpose."""
    if terms is None or terms.kind == "placeholder" or terms.commercial_use == "unknown":
        return "unknown"
    if terms.osi_approved:
        return "open"
    if (
        terms.commercial_use != "yes"
        or terms.research_only
        or terms.flow_down
        or terms.output_restriction
        or terms.geographic_restrictions
        or "-nd-" in f"{terms.id}-"
    ):
        return "restricted"
    if None in (terms.flow_down, terms.output_restriction, terms.research_only):
        return "unknown"
    return "open"


def _tag_values(tags: tuple[str, ...], prefix: str) -> list[str]:
    return [t.split(":", 1)[1] for t in tags if t.startswith(prefix + ":")]


def _code_links(facts: OpennessFacts) -> tuple[list[str], list[str]]:
    """Return (training-code links, other code links) from card data and card text."""
    training: list[str] = []
    other: list[str] = []
    for key, value in facts.card_data.items():
        for url in _CODE_URL.findall(str(value)):
            (training if _TRAIN_WORDS.search(str(key)) else other).append(url)
    for line in facts.card_text.splitlines():
        for url in _CODE_URL.findall(line):
            (training if _TRAIN_WORDS.search(line) else other).append(url)
    return list(dict.fromkeys(training)), [u for u in dict.fromkeys(other) if u not in training]


_STATUS_BY_LICENSE: dict[str, Status] = {"open": "open", "restricted": "partial"}


def _by_license(openness: str, evidence: list[str]) -> tuple[Status, tuple[str, ...]]:
    return _STATUS_BY_LICENSE.get(openness, "unknown"), tuple(evidence)


def _assess(facts: OpennessFacts) -> dict[str, ComponentAssessment]:
    lic = license_openness(facts.terms)
    lic_note = f"license {facts.license_id or 'unknown'} ({lic})"
    files = facts.files
    weights = [f for f in files if f.lower().endswith(_WEIGHT_SUFFIXES)]
    datasets = _tag_values(facts.tags, "dataset")
    papers = [a for a in _tag_values(facts.tags, "arxiv") if a not in _TEMPLATE_ARXIV]
    base_models = _tag_values(facts.tags, "base_model")
    training_links, code_links = _code_links(facts)
    train_files = [f for f in files if _TRAIN_FILE.search(f.lower())]
    result: dict[str, tuple[Status, tuple[str, ...]]] = {}

    if weights:
        result["weights"] = _by_license(lic, [f"weight files: {', '.join(weights[:3])}", lic_note])
    else:
        result["weights"] = ("closed" if files else "unknown", ("no weight files in the repo",))
    arch = [f for f in files if f == "config.json" or re.search(r"modeling_\w+\.py$", f)]
    result["architecture"] = (
        _by_license(lic, [f"architecture files: {', '.join(arch)}", lic_note])
        if arch
        else ("unknown", ("no config.json or modeling code found",))
    )
    if training_links or train_files:
        evidence = [*(f"training code: {u}" for u in training_links), *train_files]
        status: Status = "open" if training_links else _by_license(lic, [])[0]
        result["training_code"] = (status, (*evidence, "license of linked code not verified"))
    elif code_links:
        result["training_code"] = ("partial", (f"code repository: {code_links[0]}",))
    else:
        result["training_code"] = ("unknown", ("no training code found",))
    library = facts.card_data.get("library_name") or next(
        (t for t in facts.tags if t in ("transformers", "diffusers", "gguf")), None
    )
    if library or any(f.endswith(".gguf") for f in files):
        runtime = library or "llama.cpp (GGUF)"
        result["inference_code"] = ("open", (f"runs with {runtime}, an open-source library",))
    elif code_links or arch:
        result["inference_code"] = ("partial", ("model code present; runtime not named",))
    else:
        result["inference_code"] = ("unknown", ("no inference code or library named",))
    if datasets:
        derived = " (fine-tuning data of a derivative; base model data not covered)"
        status = "partial" if base_models else "open"
        result["training_data"] = (
            status,
            (f"datasets: {', '.join(datasets)}" + (derived if base_models else ""),),
        )
        result["data_card"] = (
            "open",
            tuple(f"https://huggingface.co/datasets/{d}" for d in datasets),
        )
    else:
        result["training_data"] = ("unknown", ("no dataset: tags",))
        result["data_card"] = ("unknown", ("no dataset card linked",))
    has_card = bool(facts.card_text.strip()) or "README.md" in files
    result["model_card"] = ("open", ("README.md",)) if has_card else ("closed", ("no model card",))
    result["paper"] = (
        ("open", tuple(f"arXiv:{a}" for a in papers)) if papers else ("unknown", ("no arxiv: tag",))
    )

    assessed = {name: ComponentAssessment(name, *result[name]) for name in COMPONENTS}
    for name, override in facts.overrides.items():
        if name not in assessed:
            raise ValueError(f"unknown openness component {name!r}; expected one of {COMPONENTS}")
        who = f" by {override.reviewer}" if override.reviewer else ""
        assessed[name] = ComponentAssessment(
            name, override.status, (f"reviewer override{who}: {override.evidence_url}",), True
        )
    return assessed


def _missing(
    components: dict[str, ComponentAssessment], needed: tuple[str, ...]
) -> tuple[str, ...]:
    return tuple(
        f"{n.replace('_', ' ')} ({components[n].status})"
        for n in needed
        if components[n].status != "open"
    )


def _osi(c: dict[str, ComponentAssessment]) -> Verdict:
    # OSAID 1.0: parameters, complete training and inference code, and data information
    # (a data card with the data sets named is enough; the raw data itself is not required).
    needed = ("weights", "training_code", "inference_code")
    missing = list(_missing(c, needed))
    data_info = c["training_data"].status in ("open", "partial") and c["data_card"].status == "open"
    if not data_info:
        missing.append("data information (training data described in a data card)")
    passed = not missing
    explanation = (
        "Weights, training and inference code are open and the training data is documented."
        if passed
        else f"Not open source AI under OSAID 1.0: missing {', '.join(missing)}."
    )
    return Verdict(
        "OSI OSAID 1.0",
        "open source AI" if passed else "not open source AI",
        passed,
        tuple(missing),
        explanation,
    )


_MOF_III = ("architecture", "weights", "model_card", "data_card", "paper")
_MOF_II = ("training_code", "inference_code")
_MOF_I = ("training_data",)


def _mof(c: dict[str, ComponentAssessment]) -> Verdict:
    miss3, miss2, miss1 = _missing(c, _MOF_III), _missing(c, _MOF_II), _missing(c, _MOF_I)
    note = " (evaluation code, evaluation data and intermediate checkpoints are not assessed)"
    if not miss3 and not miss2 and not miss1:
        return Verdict("MOF", "Class I", True, (), "All assessed components are open" + note + ".")
    if not miss3 and not miss2:
        return Verdict(
            "MOF",
            "Class II",
            True,
            miss1,
            f"Open tooling; Class I needs {', '.join(miss1)}" + note + ".",
        )
    if not miss3:
        return Verdict(
            "MOF", "Class III", True, miss2, f"Open model; Class II needs {', '.join(miss2)}."
        )
    if c["weights"].status == "open":
        return Verdict(
            "MOF",
            "Class III (conditional pass)",
            False,
            miss3,
            f"Weights are openly licensed but Class III also needs {', '.join(miss3)}.",
        )
    return Verdict(
        "MOF", "none", False, miss3, f"No MOF class: {', '.join(miss3)} not openly available."
    )


def _spectrum(c: dict[str, ComponentAssessment], facts: OpennessFacts) -> Verdict:
    weights = c["weights"].status
    gate = f" Access is gated ({facts.gated})." if facts.gated else ""
    full = ("weights", "architecture", "training_code", "training_data", "inference_code")
    if weights in ("closed", "unknown"):
        return Verdict(
            "seed spectrum",
            "gated or closed",
            False,
            ("weights",),
            "The weights are not published in the repository." + gate,
        )
    if weights == "partial":
        return Verdict(
            "seed spectrum",
            "restricted weights",
            False,
            ("weights",),
            f"Weights are published under {facts.terms.name if facts.terms else facts.license_id}, "
            "which restricts use." + gate,
        )
    missing = _missing(c, full)
    if not missing:
        return Verdict(
            "seed spectrum",
            "fully open",
            True,
            (),
            "Architecture, weights, training code, training data and inference code "
            "are all openly available." + gate,
        )
    return Verdict(
        "seed spectrum",
        "open weights",
        True,
        missing,
        f"Openly licensed weights, but {', '.join(missing)}." + gate,
    )


def assess_openness(facts: OpennessFacts) -> OpennessAssessment:
    """Assess each component and the three verdicts from the facts given."""
    components = _assess(facts)
    return OpennessAssessment(
        components=tuple(components.values()),
        osi=_osi(components),
        mof=_mof(components),
        spectrum=_spectrum(components, facts),
    )
