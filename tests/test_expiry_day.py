"""An approval expiring on D is in force through D and expired from D+1, on every surface.

The rule decided in issue 11: the expiry date is the last day in force ("valid through D"), by
the clock's UTC date. On D, ``/models list``, the Home tab, ``modelgov scan`` (exit code and
text) and ``modelgov ask`` say approved, and the expiry job leaves the approval alone; from D+1
every one of them says expired. Before the fix, scan and ask called it expired on D itself
while list, the Home tab and the expiry job called it approved.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli.main import main
from governance.core.clock import FrozenClock, SystemClock
from governance.core.config import Settings
from governance.core.db import transaction
from governance.flows.decide_with_policy import approve
from governance.registry.decisions import mark_needs_review
from governance.registry.models import Approval, ApprovalState, IntendedUse
from governance.registry.requests import request_approval
from governance.wiring.scheduler import expiry_job
from governance.wiring.services import Services
from tests.support.blocks_walk import mrkdwn_texts
from tests.support.slack_harness import (
    ALICE,
    BOB,
    CAROL,
    Harness,
    harness,
    slack_settings,
    slack_standin,
)

__all__ = ["harness", "slack_settings", "slack_standin"]

REPO = "acme/chat-7b"
DAY = date(2026, 11, 27)  # the conftest clock's date: the approval's expiry date


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return slack_settings


@pytest.fixture
def cli(
    database_url: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """``modelgov`` on the harness's database; its own Services read the test's clock."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MODELGOV_APPROVERS", "alice,bob")
    monkeypatch.setattr(SystemClock, "now", lambda _self: clock.now())
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, list(args))

    return invoke


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "serve.py").write_text(f'model = AutoModel.from_pretrained("{REPO}")\n')
    return root


def _home_text(harness: Harness) -> str:
    assert harness.driver.app_home_opened(ALICE).status == 200
    harness.settle()
    view = harness.slack.home_view(ALICE)
    assert view is not None
    return "\n".join(mrkdwn_texts(view))


def _scan(cli: Callable[..., Result], tree: Path) -> tuple[int, dict[str, Any]]:
    result = cli("scan", str(tree), "--json")
    assert result.exit_code in (0, 1), result.output
    [model] = json.loads(result.stdout)["data"]["models"]
    return result.exit_code, model


def _ask(cli: Callable[..., Result], question: str) -> str:
    result = cli("ask", question)
    assert result.exit_code == 0, result.output
    return result.output


def _listed_state(cli: Callable[..., Result]) -> str:
    result = cli("models", "list", "--json", "--as", "carol")
    assert result.exit_code == 0, result.output
    [approval] = json.loads(result.stdout)["data"]["approvals"]
    return str(approval["state"])


def test_on_its_expiry_date_every_surface_says_approved_and_expired_the_day_after(
    harness: Harness, clock: FrozenClock, cli: Callable[..., Result], tree: Path
) -> None:
    assert clock.now() == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    harness.answer(f"request {REPO} --use internal evals", user=CAROL)
    approved = harness.answer(f"approve {REPO} --expires {DAY.isoformat()}", user=BOB)
    assert "Approved #1" in approved["text"], approved

    for last_second in (False, True):
        if last_second:
            clock.advance(hours=14, minutes=59, seconds=59)  # 23:59:59 UTC
        assert clock.now().date() == DAY
        listed = harness.answer("list", user=CAROL)
        assert f"#1 {REPO} internal approved" in listed["text"]
        assert "(today: its last day in force)" in "\n".join(mrkdwn_texts(listed))
        assert _listed_state(cli) == "approved"
        home = _home_text(harness)
        assert "Approved* (1)" in home and REPO in home
        assert f"_expires:_ {DAY.isoformat()} (today: its last day in force)" in home
        code, scanned = _scan(cli, tree)
        assert code == 0 and scanned["status"] == "approved"
        assert scanned["detail"] == "#1 internal (expires today: its last day in force)"
        status = _ask(cli, f"is {REPO} approved?")
        assert status.startswith(f"Yes. {REPO} is approved for internal use.")
        assert "expires on 2026-11-27 (today: in force until the end of the day, UTC)" in status
        expiring = _ask(cli, "what expires before December?")
        assert f"The approval of {REPO} for internal use (request #1) expires on 2026-11-27" in (
            expiring
        )
        assert _ask(cli, "which approvals expired?").startswith("Nothing has expired")
        assert expiry_job(harness.services) == []

    clock.advance(seconds=1)  # 2026-11-28 00:00:00 UTC: the day after the expiry date
    # Before the expiry job has run: readers already count it as expired.
    code, scanned = _scan(cli, tree)
    assert code == 1 and scanned["status"] == "not approved"
    assert scanned["detail"] == "#1 expired on 2026-11-27"
    assert _ask(cli, f"is {REPO} approved?").startswith(
        f"No. The approval of {REPO} for internal use expired on 2026-11-27."
    )
    assert "Approved* (0)" in _home_text(harness)
    listed = harness.answer("list", user=CAROL)  # the stored state, and that it lapsed
    assert f"_expires:_ {DAY.isoformat()} (passed: no longer in force)" in "\n".join(
        mrkdwn_texts(listed)
    )

    assert expiry_job(harness.services) == [1]
    assert f"#1 {REPO} internal expired" in harness.answer("list", user=CAROL)["text"]
    assert _listed_state(cli) == "expired"
    home = _home_text(harness)
    assert "Approved* (0)" in home and REPO not in home
    code, scanned = _scan(cli, tree)
    assert code == 1 and scanned["detail"] == "#1 expired"
    assert _ask(cli, f"is {REPO} approved?").startswith("No.")
    expired = _ask(cli, "which approvals expired?")
    assert f"The approval of {REPO} for internal use (request #1) expired on 2026-11-27" in expired


def test_an_expiry_date_before_today_is_refused_and_today_is_accepted(
    harness: Harness, clock: FrozenClock
) -> None:
    harness.answer(f"request {REPO} --use internal evals", user=CAROL)
    yesterday = (clock.now().date() - timedelta(days=1)).isoformat()
    refused = harness.answer(f"approve {REPO} --expires {yesterday}", user=BOB)
    assert f"The expiry date {yesterday} is not in the future" in refused["text"]
    assert "expected today (2026-11-27) or a later date" in refused["text"]
    accepted = harness.answer(f"approve {REPO} --expires 2026-11-27", user=BOB)
    assert "Approved #1" in accepted["text"]


def test_in_force_and_past_expiry_agree_in_python_and_sql(
    services: Services, clock: FrozenClock
) -> None:
    """The hybrid methods' SQL selects exactly the rows their Python side accepts."""
    clock.advance(days=-2)  # so that an expiry date before DAY can still be given
    with transaction(services.session_factory) as session:
        for n, expires in enumerate([DAY - timedelta(days=1), DAY, DAY + timedelta(days=1), None]):
            states = (ApprovalState.APPROVED, ApprovalState.NEEDS_REVIEW, ApprovalState.REQUESTED)
            for use, state in zip(IntendedUse, states, strict=True):
                approval = request_approval(
                    session,
                    repo_id=f"acme/m{n}",
                    use=use,
                    reason="",
                    requester=CAROL,
                    clock=clock,
                )
                if state is ApprovalState.REQUESTED:
                    continue
                approve(
                    session,
                    ref=str(approval.id),
                    actor=BOB,
                    approvers=services.approvers,
                    clock=clock,
                    expires_on=expires,
                )
                if state is ApprovalState.NEEDS_REVIEW:
                    mark_needs_review(session, approval=approval, reason="terms", clock=clock)
    with transaction(services.session_factory) as session:
        rows = list(session.scalars(select(Approval).order_by(Approval.id)))
        assert len(rows) == 12
        for day in (DAY - timedelta(days=1), DAY, DAY + timedelta(days=1), DAY + timedelta(2)):
            for rule in ("in_force_on", "past_expiry_on"):
                where = getattr(Approval, rule)(day)
                in_sql = set(session.scalars(select(Approval.id).where(where)))
                in_python = {a.id for a in rows if getattr(a, rule)(day)}
                assert in_sql == in_python, (rule, day)
        in_force = {(a.model.repo_id, a.use.value) for a in rows if a.in_force_on(DAY)}
        assert in_force == {(f"acme/m{n}", "research") for n in (1, 2, 3)}
        past = {(a.model.repo_id, a.use.value) for a in rows if a.past_expiry_on(DAY)}
        assert past == {("acme/m0", "research"), ("acme/m0", "internal")}
