"""A CycloneDX 1.6 ML-BOM of the tracked models, built and validated with cyclonedx-python-lib.

Each model is a ``machine-learning-model`` component identified by
``pkg:huggingface/<namespace>/<name>@<commit sha>``. Licenses go by SPDX id when the knowledge
base has a real one the schema knows, else by name with the reviewed source as URL. Approval
state, uses, conditions and expiry are properties (``modelgov:*``). The library has no model
card type yet, so ``modelCard`` (task, datasets, approved uses) is added to the serialized JSON,
and the result is validated against the 1.6 schema before it is returned.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cyclonedx.model import ExternalReference, ExternalReferenceType, Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import DisjunctiveLicense, LicenseAcknowledgement
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.spdx import is_supported_id
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from governance.export.collect import ExportRow
from governance.licenses.knowledge import LicenseTerms

TOOL_NAME = "modelgov"


class InvalidBom(RuntimeError):
    """The BOM we built does not validate against the CycloneDX 1.6 schema (a bug of ours)."""


def _one_license(terms: LicenseTerms, ack: LicenseAcknowledgement | None) -> DisjunctiveLicense:
    if terms.is_spdx and is_supported_id(terms.spdx):
        return DisjunctiveLicense(id=terms.spdx, acknowledgement=ack)
    return DisjunctiveLicense(name=terms.name, url=XsUri(terms.source), acknowledgement=ack)


def _license(row: ExportRow) -> list[DisjunctiveLicense]:
    terms = row.terms
    if row.binding_terms and [t.id for t in row.binding_terms] != [terms.id if terms else None]:
        # A derivative bound by its base's terms: what the card declares, and what binds it
        # (CycloneDX 1.6 ``acknowledgement``: declared by the author / concluded by analysis).
        out = [_one_license(t, LicenseAcknowledgement.CONCLUDED) for t in row.binding_terms]
        if terms is not None and terms.id not in ("other", "unknown"):
            out.insert(0, _one_license(terms, LicenseAcknowledgement.DECLARED))
        return out
    if terms is None:
        if row.declared_license and row.declared_license not in ("other", "unknown"):
            return [DisjunctiveLicense(name=f"declared on the card: {row.declared_license}")]
        return []
    return [_one_license(terms, None)]


def _properties(row: ExportRow) -> list[Property]:
    props = [Property(name="modelgov:status", value=row.status)]
    props.append(Property(name="modelgov:status_detail", value=row.status_detail))
    if row.license_id:
        props.append(Property(name="modelgov:license_id", value=row.license_id))
    if row.terms is not None:
        props.append(Property(name="modelgov:license_ref", value=row.terms.spdx))
        props.append(Property(name="modelgov:commercial_use", value=row.terms.commercial_use))
    for approval in row.approvals:
        prefix = f"modelgov:approval:{approval['id']}"
        props.append(Property(name=f"{prefix}:use", value=approval["use"]))
        props.append(Property(name=f"{prefix}:state", value=approval["state"]))
        for key in ("conditions", "expires_on", "decided_by", "revision_sha"):
            if approval.get(key):
                props.append(Property(name=f"{prefix}:{key}", value=str(approval[key])))
    for framework, result in row.openness.items():
        props.append(Property(name=f"modelgov:openness:{framework}", value=result))
    if row.gated:
        props.append(Property(name="modelgov:gated", value=row.gated))
    for finding in row.findings:
        props.append(Property(name="modelgov:license_finding", value=finding))
    if row.relation:
        props.append(Property(name="modelgov:base_model_relation", value=row.relation))
        props.append(
            Property(name="modelgov:base_model_relation_source", value=row.relation_source or "")
        )
    for base in row.bases:
        props.append(Property(name="modelgov:base_model", value=base))
    for terms in row.binding_terms:
        props.append(Property(name="modelgov:binding_license", value=terms.id))
    return props


def _component(row: ExportRow) -> Component:
    purl = PackageURL(type="huggingface", namespace=row.namespace, name=row.name, version=row.sha)
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=row.name,
        group=row.namespace,
        version=row.sha,
        purl=purl,
        bom_ref=row.repo_id,
        licenses=_license(row),
        properties=_properties(row),
        external_references=[
            ExternalReference(
                type=ExternalReferenceType.DISTRIBUTION,
                url=XsUri(f"https://huggingface.co/{row.repo_id}"),
            )
        ],
    )


def _bare(repo_id: str, components: dict[str, Component]) -> Component:
    """A component for a base that is not tracked: its id and package URL, nothing more."""
    namespace, name = repo_id.split("/", 1)
    component = Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=name,
        group=namespace,
        purl=PackageURL(type="huggingface", namespace=namespace, name=name),
        bom_ref=repo_id,
        properties=[Property(name="modelgov:status", value="not tracked")],
    )
    components[repo_id.lower()] = component
    return component


def _model_card(row: ExportRow) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    if row.task:
        parameters["task"] = row.task
    if row.datasets:
        parameters["datasets"] = [{"type": "dataset", "name": d} for d in row.datasets]
    uses = [
        f"{a['use']} use, {a['state'].replace('_', ' ')} (request #{a['id']})"
        + (f"; conditions: {a['conditions']}" if a.get("conditions") else "")
        for a in row.approvals
        if a["state"] in ("approved", "needs_review")
    ]
    card: dict[str, Any] = {}
    if parameters:
        card["modelParameters"] = parameters
    if uses:
        card["considerations"] = {"useCases": uses}
    return card


def build_bom(rows: list[ExportRow], *, now: datetime, tool_version: str = "0.1.0") -> str:
    """The ML-BOM of ``rows`` as CycloneDX 1.6 JSON text, validated.

    Raises InvalidBom when the result does not validate (never for well-formed rows).
    """
    bom = Bom()
    bom.metadata.timestamp = now
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name=TOOL_NAME, version=tool_version)
    )
    components: dict[str, Component] = {}
    for row in rows:
        component = _component(row)
        components[row.repo_id.lower()] = component
        bom.components.add(component)
    for row in rows:
        # A derivative depends on its base: the base's component (an untracked base gets a
        # bare one, identified by its package URL without a revision).
        bases = [components.get(b.lower()) or _bare(b, components) for b in row.bases]
        for base in bases:
            if base not in bom.components:
                bom.components.add(base)
        if bases:
            bom.register_dependency(components[row.repo_id.lower()], bases)
    document = json.loads(JsonV1Dot6(bom).output_as_string())
    cards = {row.repo_id: _model_card(row) for row in rows}
    for component in document.get("components", []):
        card = cards.get(component.get("bom-ref", ""))
        if card:
            component["modelCard"] = card
    text = json.dumps(document, indent=2) + "\n"
    problem = validate_bom(text)
    if problem is not None:
        raise InvalidBom(f"the exported BOM does not validate: {problem}")
    return text


def validate_bom(text: str) -> str | None:
    """None when ``text`` is a valid CycloneDX 1.6 JSON BOM, else the first problem found."""
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    return None if error is None else str(error)[:500]
