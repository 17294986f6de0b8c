"""Changing the team policy: set and unset rules (approvers only), each change audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from governance.core.clock import Clock
from governance.core.errors import NotFound
from governance.licenses.models import PolicySetting
from governance.licenses.policy_rules import (
    RULES,
    describe,
    find_rule,
    parse_value,
    settings_by_rule,
)
from governance.registry import audit
from governance.registry.approvers import ApproverDirectory, require_approver


@dataclass(frozen=True)
class RuleSetting:
    """One rule as shown by ``policy show``: its value (None when unset) and who set it."""

    name: str
    summary: str
    value: Any
    updated_by: str | None
    updated_at: Any

    @property
    def shown(self) -> str:
        """The value as ``policy show`` writes it (``not set`` when unset)."""
        return "not set" if self.value is None else describe(self.value)


def show_policy(session: Session) -> list[RuleSetting]:
    """Every rule, set or not, in a fixed order."""
    rows = settings_by_rule(session)
    return [
        RuleSetting(
            rule.name,
            rule.summary,
            rows[rule.name].value if rule.name in rows else None,
            rows[rule.name].updated_by if rule.name in rows else None,
            rows[rule.name].updated_at if rule.name in rows else None,
        )
        for rule in RULES
    ]


def set_rule(
    session: Session,
    *,
    rule: str,
    words: list[str],
    actor: str,
    approvers: ApproverDirectory,
    clock: Clock,
) -> RuleSetting:
    """Set ``rule`` to the value ``words`` give; returns the new setting.

    Raises:
        InvalidInput: unknown rule or a value the rule does not take.
        NotFound: a license id that is not in the knowledge base (with suggestions).
        PermissionDenied: ``actor`` is not an approver.
    """
    spec = find_rule(rule)
    value = parse_value(spec, words)
    require_approver(session, actor, approvers, "change the team policy")
    row = session.get(PolicySetting, spec.name)
    before = {"value": row.value} if row else None
    if row is None:
        row = PolicySetting(key=spec.name)
        session.add(row)
    row.value, row.updated_by, row.updated_at = value, actor, clock.now()
    session.flush()
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="policy_set",
        before=before,
        after={"rule": spec.name, "value": value},
        detail=f"{spec.name} = {describe(value)}",
    )
    return RuleSetting(spec.name, spec.summary, value, actor, row.updated_at)


def unset_rule(
    session: Session, *, rule: str, actor: str, approvers: ApproverDirectory, clock: Clock
) -> str:
    """Remove ``rule`` from the policy (it is no longer checked); returns its name.

    Raises NotFound when the rule is not set, InvalidInput for an unknown rule.
    """
    spec = find_rule(rule)
    require_approver(session, actor, approvers, "change the team policy")
    row = session.get(PolicySetting, spec.name)
    if row is None:
        raise NotFound(f"The rule {spec.name} is not set; `/models policy show` lists the rules.")
    before = {"rule": spec.name, "value": row.value}
    session.delete(row)
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="policy_unset",
        before=before,
        detail=spec.name,
    )
    return spec.name
