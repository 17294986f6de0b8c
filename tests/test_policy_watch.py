"""Team policy on upstream changes: a real recheck cycle against the Hub stand-in.

A NEW violation moves approved approvals to needs_review and raises a policy_violation alert;
dry-run only reports; an old violation is not raised again.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.registry.models import ApprovalState, IntendedUse
from tests.support.license_fixtures import MIT_TEXT, WEIGHTS, Governed, governed

REPO = "acme/open-7b"


@pytest.fixture
def gov(settings: Settings, clock: FrozenClock) -> Iterator[Governed]:
    yield from governed(settings, clock)


def _open_model(gov: Governed) -> int:
    gov.hub.add_model(
        REPO, license="mit", files={"LICENSE": MIT_TEXT, **WEIGHTS}, tags=["transformers"]
    )
    gov.track(REPO)
    gov.cycle()
    approval_id = gov.request(REPO)
    gov.approve(approval_id)
    return approval_id


def test_weights_removed_upstream_violate_min_openness(gov: Governed) -> None:
    assert gov.run("policy set min-openness open-weights").ok
    approval_id = _open_model(gov)
    assert gov.state(approval_id) is ApprovalState.APPROVED
    gov.hub.commit(REPO, remove=["model.safetensors"])  # a revision change, not a terms change
    gov.cycle()
    assert gov.state(approval_id) is ApprovalState.NEEDS_REVIEW
    [alert] = gov.alerts("policy_violation")
    assert alert.payload["dry_run"] is False
    assert alert.payload["approvals_in_review"][0]["id"] == approval_id
    assert "min-openness" in alert.body and "gated or closed" in alert.body
    history = gov.run(f"history {REPO}").data["events"]
    assert history[-1]["action"] == "needs_review"
    assert "team policy" in history[-1]["detail"]
    # Re-approval stays blocked while the rule fails, with one sentence.
    reply = gov.run(f"approve {approval_id}", user="bob")
    assert not reply.ok and "Team policy blocks approving" in reply.text
    assert gov.state(approval_id) is ApprovalState.NEEDS_REVIEW


def test_dry_run_reports_without_moving(gov: Governed) -> None:
    gov.run("policy set min-openness open-weights")
    gov.run("policy set dry-run on")
    approval_id = _open_model(gov)
    gov.hub.commit(REPO, remove=["model.safetensors"])
    gov.cycle()
    assert gov.state(approval_id) is ApprovalState.APPROVED
    [alert] = gov.alerts("policy_violation")
    assert alert.payload["dry_run"] is True and alert.payload["approvals_in_review"] == []
    assert "dry run" in alert.body


def test_an_old_violation_is_not_new(gov: Governed) -> None:
    gov.hub.add_model(REPO, license="mit", files={"LICENSE": MIT_TEXT, "README.md": "# no weights"})
    gov.track(REPO)
    gov.cycle()
    gov.run("policy set min-openness open-weights")
    gov.run("policy set dry-run on")  # lets the approval through despite the failing rule
    approval_id = gov.request(REPO)
    gov.approve(approval_id)
    gov.run("policy set dry-run off")
    gov.hub.commit(REPO, files={"notes.txt": "unrelated"})
    gov.cycle()
    assert gov.state(approval_id) is ApprovalState.APPROVED
    assert gov.alerts("policy_violation") == []


def test_approval_before_the_first_check_is_reviewed_by_it(gov: Governed) -> None:
    gov.hub.add_model(REPO, license="cc-by-nc-4.0", files=WEIGHTS)
    gov.run("policy set commercial-use on")
    research = gov.request(REPO, IntendedUse.RESEARCH)
    commercial = gov.request(REPO, IntendedUse.COMMERCIAL)
    gov.approve(research)
    gov.approve(commercial)  # never checked: warnings only, not blocked
    gov.track(REPO)
    gov.cycle()
    assert gov.state(commercial) is ApprovalState.NEEDS_REVIEW
    assert gov.state(research) is ApprovalState.APPROVED  # the rule is about commercial use
    [alert] = gov.alerts("policy_violation")
    assert list(alert.payload["violations"]) == ["commercial"]
    assert "does not permit commercial use" in alert.body


def test_no_policy_no_reaction(gov: Governed) -> None:
    approval_id = _open_model(gov)
    gov.hub.commit(REPO, remove=["model.safetensors"])
    gov.cycle()
    assert gov.state(approval_id) is ApprovalState.APPROVED
    assert gov.alerts("policy_violation") == []
