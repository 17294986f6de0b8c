"""`/models approvers [list | add | remove]`: every source listed, changes only by approvers,
audited, the consistency rules, Slack mentions, and every approval check seeing the table.

Database tests run on SQLite and PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli.identity import os_account
from bot.cli.main import main
from bot.grammar.dispatch import run_text
from bot.grammar.handlers.approver_commands import parse_principal
from bot.grammar.spec.invocation import Invocation
from bot.render.blocks import Reply
from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.core.db import transaction
from governance.core.errors import InvalidInput
from governance.registry.audit import SLACK, AuditOrigin
from governance.registry.models import Approver, ApproverKind, AuditChannel, AuditEvent
from governance.wiring.services import Services, build_services
from tests.conftest import make_settings
from tests.support.slack_harness import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    GENERAL,
    Harness,
    build_harness,
    slack_settings,
    slack_standin,
)
from tests.support.slack_standin import SlackStandIn

__all__ = ["slack_settings", "slack_standin"]

REPO = "acme/tiny-1b"
CONSOLE = AuditOrigin(AuditChannel.CONSOLE, os_user="ops")


def _data(stdout: str) -> Any:
    """The data of a --json answer (inside the ``{"ok", "data"}`` envelope where there is one)."""
    payload = json.loads(stdout)
    return payload["data"] if isinstance(payload, dict) and "data" in payload else payload


def run(services: Services, text: str, user: str, origin: AuditOrigin = CONSOLE) -> Reply:
    return run_text(text, Invocation(services=services, user=user, origin=origin))


def _counts(services: Services) -> tuple[int, int]:
    with transaction(services.session_factory) as session:
        approvers = session.scalar(select(func.count()).select_from(Approver)) or 0
        events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        return approvers, events


def _events(services: Services, action: str) -> list[AuditEvent]:
    with transaction(services.session_factory) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def grouped(database_url: str, clock: FrozenClock) -> Iterator[Services]:
    """alice and bob from MODELGOV_APPROVERS; user group S0LEGAL (members gina, hal)."""
    members = {"S0LEGAL": {"gina", "hal"}, "S0EMPTY": set()}
    settings = make_settings(database_url, approver_group="S0LEGAL")
    built = build_services(settings, clock=clock, group_members=lambda g: members.get(g, set()))
    yield built
    built.close()


# --- list ---------------------------------------------------------------------------------


def test_list_names_every_approver_and_where_it_comes_from(grouped: Services) -> None:
    assert run(grouped, "approvers add carol", user="alice").ok
    reply = run(grouped, "approvers", user="dave")  # anyone may look
    assert reply.ok, reply.text
    sources = {(a["principal"], a["source"]) for a in reply.data["approvers"]}
    assert sources == {
        ("alice", "environment"),
        ("bob", "environment"),
        ("S0LEGAL", "user_group"),
        ("carol", "added"),
    }
    group = next(a for a in reply.data["approvers"] if a["kind"] == "usergroup")
    assert group["members"] == ["gina", "hal"]
    carol = next(a for a in reply.data["approvers"] if a["principal"] == "carol")
    assert carol["added_by"] == "alice" and carol["added_via"] == "console"
    assert datetime.fromisoformat(carol["added_at"]) == grouped.clock.now()
    assert "alice (user): environment (MODELGOV_APPROVERS)" in reply.text
    assert "carol (user): added by alice" in reply.text and "via console" in reply.text
    assert "carol added by alice via console (os user ops)" in reply.text  # recent changes
    assert run(grouped, "approvers list", user="dave").data == reply.data


def test_list_without_any_approver_says_how_to_start(database_url: str, clock: FrozenClock) -> None:
    services = build_services(make_settings(database_url, approvers=[]), clock=clock)
    try:
        reply = run(services, "approvers", user="dave")
        assert reply.ok and reply.data["approvers"] == []
        assert "set MODELGOV_APPROVERS" in reply.text
    finally:
        services.close()


def test_a_group_whose_members_cannot_be_asked_says_so(services: Services) -> None:
    assert run(services, "approvers add <!subteam^S0OPS|@ops>", user="alice").ok
    reply = run(services, "approvers", user="alice")
    group = next(a for a in reply.data["approvers"] if a["kind"] == "usergroup")
    assert group["principal"] == "S0OPS" and group["members"] is None
    assert "not known here" in reply.blocks[-2]["text"]["text"]


# --- add ----------------------------------------------------------------------------------


def test_an_added_approver_passes_every_approval_check(services: Services) -> None:
    assert run(services, f"request {REPO} --use research", user="dave").ok
    refused = run(services, "approve 1", user="carol")
    assert not refused.ok and "Only approvers can approve" in refused.text
    added = run(services, "approvers add @carol", user="alice")
    assert added.ok, added.text
    assert added.text == "carol is now an approver."
    assert run(services, "approve 1", user="carol").ok  # decisions see the table
    assert run(services, "unwatch acme/tiny-1b", user="carol").ok  # so do the other checks
    assert run(services, "policy set commercial_use yes", user="carol").ok
    (event,) = _events(services, "approver_added")
    assert (event.actor, event.detail, event.channel, event.os_user) == (
        "alice",
        "carol",
        AuditChannel.CONSOLE,
        "ops",
    )
    assert event.after == {"kind": "user", "principal": "carol"}
    assert event.model_id is None


def test_only_an_approver_adds_and_a_refusal_writes_nothing(services: Services) -> None:
    before = _counts(services)
    reply = run(services, "approvers add dave", user="dave")
    assert not reply.ok
    assert reply.text.startswith("Only approvers can add approvers; the approvers are alice, bob")
    assert _counts(services) == before


def test_adding_an_approver_twice_says_through_what(services: Services) -> None:
    env = run(services, "approvers add bob", user="alice")
    assert not env.ok and env.text == "bob is already an approver (listed in MODELGOV_APPROVERS)."
    assert run(services, "approvers add carol", user="alice").ok
    again = run(services, "approvers add carol", user="bob")
    assert not again.ok
    assert again.text.startswith("carol is already an approver (added by alice ")
    assert _counts(services)[0] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("approvers add", "Usage: `/models approvers [list | add @user | remove @user]`"),
        ("approvers add a b", "Usage:"),
        ("approvers promote carol", "Usage:"),
        ("approvers add 'bad name!'", "'bad name!' is not a user I can add"),
    ],
)
def test_bad_approver_commands_get_one_sentence(
    services: Services, text: str, message: str
) -> None:
    before = _counts(services)
    reply = run(services, text, user="alice")
    assert not reply.ok and message in reply.text
    assert "\n" not in reply.text and "Traceback" not in reply.text
    assert _counts(services) == before


# --- remove -------------------------------------------------------------------------------


def test_remove_takes_the_rights_away_and_is_audited(services: Services) -> None:
    run(services, "approvers add carol", user="alice")
    run(services, f"request {REPO}", user="dave")
    reply = run(services, "approvers remove carol", user="bob")
    assert reply.ok and reply.text == "carol is no longer an approver."
    assert not run(services, "approve 1", user="carol").ok
    (event,) = _events(services, "approver_removed")
    assert event.actor == "bob" and event.before is not None
    assert event.before["principal"] == "carol" and event.before["added_by"] == "alice"
    listed = run(services, "approvers", user="alice").text
    assert "carol removed by bob via console" in listed


def test_an_env_listed_approver_is_removed_in_the_environment(services: Services) -> None:
    before = _counts(services)
    reply = run(services, "approvers remove bob", user="alice")
    assert not reply.ok
    assert reply.text.startswith("bob is an approver through MODELGOV_APPROVERS; remove them")
    assert _counts(services) == before
    unknown = run(services, "approvers remove zed", user="alice")
    assert not unknown.ok and "zed is not among the approvers added" in unknown.text


def test_the_last_approver_cannot_be_removed(database_url: str, clock: FrozenClock) -> None:
    services = build_services(make_settings(database_url, approvers=[]), clock=clock)
    try:
        with transaction(services.session_factory) as session:  # a team that started in Slack
            session.add(
                Approver(
                    kind=ApproverKind.USER, principal="carol", added_by="x", added_at=clock.now()
                )
            )
        last = run(services, "approvers remove carol", user="carol")
        assert not last.ok and last.text.startswith("carol is the last approver; add another")
        assert run(services, "approvers add dan", user="carol").ok
        assert run(services, "approvers remove carol", user="carol").ok  # now someone is left
        assert not run(services, "approvers add carol", user="carol").ok
        assert run(services, "approvers remove dan", user="dan").text.startswith(
            "dan is the last approver"
        )
    finally:
        services.close()


def test_a_group_known_to_be_empty_does_not_count_as_an_approver_left(
    database_url: str, clock: FrozenClock
) -> None:
    members = {"S0EMPTY": frozenset[str](), "S0LEGAL": frozenset({"gina"})}
    settings = make_settings(database_url, approvers=[])
    services = build_services(settings, clock=clock, group_members=lambda g: members[g])
    try:
        with transaction(services.session_factory) as session:
            session.add(
                Approver(
                    kind=ApproverKind.USER, principal="carol", added_by="x", added_at=clock.now()
                )
            )
        assert run(services, "approvers add <!subteam^S0EMPTY>", user="carol").ok
        assert not run(services, "approvers remove carol", user="carol").ok
        assert run(services, "approvers add <!subteam^S0LEGAL|@legal>", user="carol").ok
        assert run(services, f"request {REPO}", user="carol").ok
        assert run(services, "approve 1", user="gina").ok  # a member of an added group decides
        assert run(services, "approvers remove carol", user="carol").ok
    finally:
        services.close()


# --- mentions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slack", "expected"),
    [
        ("<@U012AB3CD|carol>", True, (ApproverKind.USER, "U012AB3CD")),
        ("<@W012AB3CD>", True, (ApproverKind.USER, "W012AB3CD")),
        ("<!subteam^S0LEGAL|@legal>", True, (ApproverKind.USERGROUP, "S0LEGAL")),
        ("U012AB3CD", True, (ApproverKind.USER, "U012AB3CD")),
        ("@carol", False, (ApproverKind.USER, "carol")),
        ("carol", False, (ApproverKind.USER, "carol")),
    ],
)
def test_mentions_and_ids_are_parsed(
    text: str, slack: bool, expected: tuple[ApproverKind, str]
) -> None:
    assert parse_principal(text, slack=slack) == expected


@pytest.mark.parametrize("text", ["@carol", "carol", "<@carol>", "<#C012|general>"])
def test_in_slack_a_name_that_is_not_a_mention_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="mention them"):
        parse_principal(text, slack=True)


# --- through Slack and the CLI ------------------------------------------------------------


@pytest.fixture
def harness(
    slack_settings: Settings, slack_standin: SlackStandIn, clock: FrozenClock
) -> Iterator[Harness]:
    """A Slack app over HTTP whose approvers are ALICE and BOB (the module's other tests keep
    conftest's console names)."""
    services = build_services(slack_settings, clock=clock)
    try:
        yield from build_harness(services, slack_standin)
    finally:
        services.close()


def test_slack_mention_adds_and_the_new_approver_decides(harness: Harness) -> None:
    added = harness.answer(f"approvers add <@{CAROL}|carol>", user=ALICE)
    assert added["text"] == f"{CAROL} is now an approver.", added
    refused = harness.answer(f"approvers add <@{DAVE}|dave>", user=DAVE)
    assert refused["text"].startswith("Only approvers can add approvers")
    plain = harness.answer("approvers add @dave", user=ALICE)
    assert "mention them" in plain["text"]
    harness.answer(f"request {REPO} --use research", user=DAVE)
    approved = harness.answer("approve 1", user=CAROL)
    assert approved["text"].startswith("Approved #1"), approved
    listed = harness.command("approvers", user=BOB).json()  # a read: answered in the ack
    assert f"<@{CAROL}>" in json.dumps(listed["blocks"]) and "via slack" in listed["text"]
    (event,) = _events(harness.services, "approver_added")
    assert (event.actor, event.channel, event.os_user) == (ALICE, AuditChannel.SLACK, None)


def test_slack_origin_constant_is_the_slack_channel() -> None:
    assert SLACK.channel is AuditChannel.SLACK and SLACK.os_user is None


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MODELGOV_APPROVERS", os_account())
    return CliRunner()


def test_cli_manages_approvers(cli: CliRunner) -> None:
    added = cli.invoke(main, ["models", "approvers", "add", "U123ABC"])
    assert added.exit_code == 0, added.output
    listed = cli.invoke(main, ["models", "approvers", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    data = _data(listed.stdout)
    entry = next(a for a in data["approvers"] if a["principal"] == "U123ABC")
    assert (entry["source"], entry["added_by"], entry["added_via"]) == (
        "added",
        os_account(),
        "cli",
    )
    assert data["changes"][-1]["os_user"] == os_account()
    removed = cli.invoke(main, ["models", "approvers", "remove", os_account()])
    assert removed.exit_code == 1 and "MODELGOV_APPROVERS" in removed.output


def test_in_slack_a_list_that_asks_slack_for_group_members_is_answered_after_the_ack(
    slack_settings: Settings, slack_standin: SlackStandIn, clock: FrozenClock
) -> None:
    settings = slack_settings.model_copy(update={"approver_group": "S0LEGAL"})
    services = build_services(settings, clock=clock, group_members=lambda g: {CAROL})
    try:
        for h in build_harness(services, slack_standin):
            url = h.slack.new_response_url(channel=GENERAL, user_id=BOB)
            ack = h.command("approvers", user=BOB, response_url=url).json()
            assert ack["text"].startswith("Working on /models approvers"), ack
            h.settle()
            answer = h.slack.response_url_posts(url)[-1].payload
            assert f"<@{CAROL}>" in json.dumps(answer["blocks"])  # the group's member
    finally:
        services.close()
