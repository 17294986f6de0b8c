"""Evaluating the team policy for one model and one intended use: pass / warn / fail per rule.

``evaluate`` is pure over the policy and the evidence of a snapshot. Missing evidence (never
checked, license unidentified, text unreadable) is a ``warn`` for a human, never a silent pass
and never a ``fail``: a fail blocks approvals, and that needs a fact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from governance.licenses.evidence import ModelEvidence
from governance.licenses.knowledge import LicenseTerms, load_knowledge_base
from governance.licenses.policy_rules import OPENNESS_LEVELS, SPECTRUM_LEVEL, Policy
from governance.registry.models import IntendedUse

Outcome = Literal["pass", "warn", "fail"]
NOT_CHECKED = "the watcher has not checked this model upstream yet"


@dataclass(frozen=True)
class RuleResult:
    rule: str
    outcome: Outcome
    message: str


@dataclass(frozen=True)
class PolicyReport:
    """The policy's verdict for one model and use, and the license terms that matter for it."""

    repo_id: str
    use: IntendedUse
    results: tuple[RuleResult, ...]
    terms: tuple[str, ...]
    license_id: str | None
    dry_run: bool
    checked: bool  # there was a snapshot to check against
    latest_expiry: date | None  # the policy's cap on --expires, when set

    @property
    def failures(self) -> tuple[RuleResult, ...]:
        """The rules that fail."""
        return tuple(r for r in self.results if r.outcome == "fail")

    @property
    def warnings(self) -> tuple[RuleResult, ...]:
        """The rules that need a human (not verified, conditional, unknown)."""
        return tuple(r for r in self.results if r.outcome == "warn")

    @property
    def outcome(self) -> Outcome:
        """The worst outcome of any rule (``pass`` when no rule is set)."""
        return "fail" if self.failures else "warn" if self.warnings else "pass"

    @property
    def blocking(self) -> bool:
        """True when a failure blocks approval (never in dry-run mode)."""
        return bool(self.failures) and not self.dry_run

    def data(self) -> dict[str, Any]:
        """JSON-able form (CLI --json, the request card)."""
        return {
            "repo_id": self.repo_id,
            "use": self.use.value,
            "outcome": self.outcome,
            "blocking": self.blocking,
            "dry_run": self.dry_run,
            "checked": self.checked,
            "license_id": self.license_id,
            "latest_expiry": self.latest_expiry.isoformat() if self.latest_expiry else None,
            "rules": [{"rule": r.rule, "outcome": r.outcome, "message": r.message} for r in self],
            "terms": list(self.terms),
        }

    def __iter__(self) -> Iterator[RuleResult]:
        return iter(self.results)


def _all_terms(found: ModelEvidence) -> list[LicenseTerms]:
    kb = load_knowledge_base()
    return [t for i in found.evidence.license_ids if (t := kb.find(i)) is not None]


def _licenses(policy: Policy, found: ModelEvidence | None) -> list[RuleResult]:
    results: list[RuleResult] = []
    if not policy.allowed_licenses and not policy.denied_licenses:
        return results
    ids = list(found.evidence.license_ids) if found else []
    unknown = NOT_CHECKED if found is None else "the license is not identified: needs a human"
    text = found.evidence.license_text if found else None
    doubt = (
        "; but the LICENSE text is unidentified: needs a human"
        if text is not None and not text.identified
        else ""
    )
    if policy.allowed_licenses:
        outside = [i for i in ids if i not in policy.allowed_licenses]
        allowed = ", ".join(policy.allowed_licenses)
        if not ids:
            results.append(RuleResult("allowed-licenses", "warn", f"Not verified: {unknown}."))
        elif outside:
            results.append(
                RuleResult(
                    "allowed-licenses",
                    "fail",
                    f"{', '.join(outside)} is not on the allowed list ({allowed}).",
                )
            )
        else:
            outcome: Outcome = "warn" if doubt else "pass"
            results.append(
                RuleResult("allowed-licenses", outcome, f"{', '.join(ids)} is allowed{doubt}.")
            )
    if policy.denied_licenses:
        denied = [i for i in ids if i in policy.denied_licenses]
        if denied:
            message = f"{', '.join(denied)} is on the denied list."
            results.append(RuleResult("denied-licenses", "fail", message))
        elif not ids:
            results.append(RuleResult("denied-licenses", "warn", f"Not verified: {unknown}."))
        else:
            outcome = "warn" if doubt else "pass"
            results.append(
                RuleResult("denied-licenses", outcome, f"{', '.join(ids)} is not denied{doubt}.")
            )
    return results


def _commercial(use: IntendedUse, found: ModelEvidence | None) -> RuleResult:
    name = "commercial-use"
    if use is not IntendedUse.COMMERCIAL:
        return RuleResult(name, "pass", "Applies to commercial requests only.")
    terms = _all_terms(found) if found else []
    if not terms:
        why = NOT_CHECKED if found is None else "the license is not identified"
        return RuleResult(name, "warn", f"Commercial use not verified: {why}.")
    for t in terms:
        if t.commercial_use == "no" or t.research_only:
            return RuleResult(name, "fail", f"{t.name} does not permit commercial use.")
    for t in terms:
        if t.commercial_use == "conditional":
            condition = (t.commercial_condition or "").rstrip(".")
            return RuleResult(
                name, "warn", f"{t.name} permits commercial use only if: {condition}."
            )
        if t.commercial_use == "unknown":
            return RuleResult(name, "warn", f"Whether {t.name} permits commercial use is unknown.")
    return RuleResult(name, "pass", f"{', '.join(t.name for t in terms)} permits commercial use.")


def _outputs(found: ModelEvidence | None) -> RuleResult:
    name = "deny-output-restrictions"
    terms = _all_terms(found) if found else []
    if not terms:
        why = NOT_CHECKED if found is None else "the license is not identified"
        return RuleResult(name, "warn", f"Output restrictions not verified: {why}.")
    restricted = [t.name for t in terms if t.output_restriction]
    if restricted:
        return RuleResult(
            name,
            "fail",
            f"{', '.join(restricted)} forbids using outputs to improve other models.",
        )
    unknown = [t.name for t in terms if t.output_restriction is None]
    if unknown:
        return RuleResult(name, "warn", f"Output restrictions of {', '.join(unknown)} are unknown.")
    return RuleResult(name, "pass", "No restriction on using outputs.")


def _openness(minimum: str, found: ModelEvidence | None) -> RuleResult:
    name = "min-openness"
    if found is None:
        return RuleResult(name, "warn", f"Openness not verified: {NOT_CHECKED}.")
    label = found.openness.spectrum.result
    level = SPECTRUM_LEVEL.get(label)
    if level is None:
        return RuleResult(name, "warn", f"Unknown spectrum label {label!r}.")
    if OPENNESS_LEVELS.index(level) < OPENNESS_LEVELS.index(minimum):
        return RuleResult(name, "fail", f"The model is {label}; the minimum is {minimum}.")
    return RuleResult(name, "pass", f"The model is {label} (minimum {minimum}).")


def _text(found: ModelEvidence | None) -> RuleResult:
    name = "license-text-required"
    state = found.evidence.text_state if found else "unknown"
    return {
        "present": RuleResult(name, "pass", "The repository has a LICENSE text."),
        "unreadable": RuleResult(
            name, "warn", "The LICENSE file is gated and could not be read; check it by hand."
        ),
        "missing": RuleResult(name, "fail", "The repository has no LICENSE text."),
        "unknown": RuleResult(name, "warn", f"LICENSE text not verified: {NOT_CHECKED}."),
    }[state]


def _expiry(days: int, today: date, expires_on: date | None) -> RuleResult:
    latest = today + timedelta(days=days)
    if expires_on is not None and expires_on > latest:
        return RuleResult(
            "max-approval-days",
            "fail",
            f"The expiry {expires_on.isoformat()} is more than {days} days away; "
            f"the latest allowed is {latest.isoformat()}.",
        )
    return RuleResult(
        "max-approval-days", "pass", f"Approvals last at most {days} days (until {latest})."
    )


def evaluate(
    policy: Policy,
    found: ModelEvidence | None,
    use: IntendedUse,
    *,
    repo_id: str,
    today: date,
    expires_on: date | None = None,
) -> PolicyReport:
    """The policy's verdict for ``use`` of the model ``found`` describes (None: never checked).

    ``expires_on`` is the expiry an approver asked for (checked against max-approval-days).
    """
    results = _licenses(policy, found)
    if policy.commercial_use:
        results.append(_commercial(use, found))
    if policy.deny_output_restrictions:
        results.append(_outputs(found))
    if policy.min_openness:
        results.append(_openness(policy.min_openness, found))
    if policy.license_text_required:
        results.append(_text(found))
    if policy.max_approval_days:
        results.append(_expiry(policy.max_approval_days, today, expires_on))
    terms = found.evidence.terms if found else None
    latest = today + timedelta(days=policy.max_approval_days) if policy.max_approval_days else None
    return PolicyReport(
        repo_id=repo_id,
        use=use,
        results=tuple(results),
        terms=terms_for_use(terms, use),
        license_id=found.evidence.license_id if found else None,
        dry_run=policy.dry_run,
        checked=found is not None,
        latest_expiry=latest,
    )


def _yes(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def terms_for_use(terms: LicenseTerms | None, use: IntendedUse) -> tuple[str, ...]:
    """The license terms that matter for ``use``, one line each (empty when unknown)."""
    if terms is None:
        return ()
    lines = [f"License: {terms.name} (OSI approved: {_yes(terms.osi_approved)})"]
    commercial = terms.commercial_use + (
        f" — {terms.commercial_condition}" if terms.commercial_condition else ""
    )
    if use is not IntendedUse.RESEARCH or terms.commercial_use != "yes":
        lines.append(f"Commercial use: {commercial}")
    if terms.research_only:
        lines.append("Research only: yes")
    if terms.user_threshold and use is IntendedUse.COMMERCIAL:
        lines.append(f"Separate license above {terms.user_threshold:,} monthly active users")
    if terms.use_policy_url:
        lines.append(f"Use policy incorporated by reference: {terms.use_policy_url}")
    if terms.output_restriction is not False:
        lines.append(f"Outputs may not improve other models: {_yes(terms.output_restriction)}")
    if terms.geographic_restrictions:
        lines.append("Geographic restrictions: " + "; ".join(terms.geographic_restrictions))
    if use is IntendedUse.COMMERCIAL:
        if terms.attribution:
            lines.append("Attribution: " + "; ".join(f'"{a}"' for a in terms.attribution))
        if terms.naming_rule:
            lines.append(f"Derivative names: {terms.naming_rule}")
        if terms.flow_down:
            lines.append("Use restrictions must flow down to your users")
        if terms.remote_restriction or terms.must_update:
            lines.append("The licensor may restrict use remotely or require updates")
        if terms.governing_law:
            lines.append(f"Governing law: {terms.governing_law}")
    return tuple(lines)
