"""Derivative coverage in the exact answers: "is bartowski/…-GGUF approved?" says whether an
approved base covers it under the team policy, or that it needs its own approval and where its
base stands, and whose terms bind it. Facts from the registry, the snapshots and the knowledge
base only; every one cited."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from governance.assistant.exact import ExactAnswer
from governance.flows.lineage_view import COVERED_RELATIONS, lineage_view
from governance.registry.models import IntendedUse, TrackedModel


def add_derivative_coverage(
    session: Session,
    model: TrackedModel,
    use: IntendedUse | None,
    today: date,
    result: ExactAnswer,
) -> ExactAnswer:
    """``result`` (an approval-status answer about ``model``) with its lineage: the base
    approval that covers it under ``derivatives: inherit`` (then the first line says yes), or
    its bases' standing; then the licenses that bind it. Unchanged for an original model."""
    view = lineage_view(session, model, today=today)
    lineage = view.lineage
    if lineage is None:
        return result
    own = any(a.in_force_on(today) and (use is None or a.use is use) for a in model.approvals)
    covering = [c for c in view.covered_by if use is None or c.approval.use is use]
    if covering and not own:
        cover = covering[0]
        line = f"Yes. {model.repo_id} is {cover.describe()}."
        result.lines[:1] = []  # the registry's own "no" is about its own approvals only
        result.lines.insert(0, line + f" [{result.cite_approval(cover.approval)}]")
    elif not own:
        for base in view.bases:
            marks = []
            if base.model is not None:
                marks = [
                    result.cite_approval(a)
                    for a in base.model.approvals
                    if a.in_force_on(today) and (use is None or a.use is use)
                ]
            why = _why_not_covered(view.policy, lineage.relation, use)
            result.add(
                f"{model.repo_id} is {lineage.describe().split(' (')[0]}; its base {base.repo_id} "
                f"is {base.standing} ({base.detail}). {why}",
                *marks,
            )
    binding = view.binding
    if binding is not None and binding.binding_terms:
        for terms in binding.binding_terms:
            result.add(
                f"Its base's license binds it: {terms.name}.",
                result.cite_kb(terms),
            )
    return result


def _why_not_covered(policy: str, relation: str, use: IntendedUse | None) -> str:
    if policy != "inherit":
        return "Under the team policy derivatives: review, it needs its own approval."
    if relation not in COVERED_RELATIONS:
        return (
            "Under the team policy derivatives: inherit, only quantized copies and adapters are "
            "covered by their base's approval; this one needs its own."
        )
    scope = f" for {use.value} use" if use else ""
    return (
        f"Under the team policy derivatives: inherit, an approval of its base{scope} would cover "
        "it, and none is in force."
    )
