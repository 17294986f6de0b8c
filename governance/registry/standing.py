"""Where a model stands in the registry on a day: approved (with conditions?), pending, in
review or not approved, and why. ``modelgov scan`` gates CI on it; the export reports it."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from governance.registry.models import ApprovalState, TrackedModel

Standing = Literal["approved", "approved with conditions", "pending", "in review", "not approved"]


def standing_on(
    model: TrackedModel | None, today: date
) -> tuple[Standing, str, list[dict[str, Any]]]:
    """Where ``model`` (None: not tracked) stands in the registry on ``today``.

    Returns (standing, a one-line detail, its approvals newest first as JSON-able data). An
    approval is in force through its expiry date (``Approval.in_force_on``).
    """
    if model is None:
        return "not approved", "not in the registry", []
    approvals = sorted(model.approvals, key=lambda a: a.id, reverse=True)
    data = [
        {
            "id": a.id,
            "use": a.use.value,
            "state": a.state.value,
            "conditions": a.conditions,
            "expires_on": a.expires_on.isoformat() if a.expires_on else None,
        }
        for a in approvals
    ]
    in_force = [a for a in approvals if a.in_force_on(today)]
    if in_force:
        uses = ", ".join(
            f"#{a.id} {a.use.value}"
            + (" (expires today: its last day in force)" if a.expires_on == today else "")
            for a in in_force
        )
        conditions = [f"{a.use.value}: {a.conditions}" for a in in_force if a.conditions]
        if conditions:
            return "approved with conditions", f"{uses}; conditions: {'; '.join(conditions)}", data
        return "approved", uses, data
    by_state = {a.state for a in approvals}
    if ApprovalState.NEEDS_REVIEW in by_state:
        return "in review", "upstream terms changed since it was approved", data
    if ApprovalState.REQUESTED in by_state:
        return "pending", "requested, not decided yet", data
    latest = approvals[0] if approvals else None
    if latest is None:
        return "not approved", "tracked, but nobody requested it", data
    if latest.state is ApprovalState.APPROVED:  # approved but past its expiry date
        return "not approved", f"#{latest.id} expired on {latest.expires_on}", data
    return "not approved", f"#{latest.id} {latest.state.value.replace('_', ' ')}", data
