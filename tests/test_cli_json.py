"""Every ``--json`` output is one envelope on stdout, validated with its JSON Schema.

The walk is discovered, not listed: every click command of ``modelgov`` and every subcommand of
the /models grammar must have a case here (or, for the three long-running processes, a reason
it has none), so a new command fails this file until its JSON is checked too. Cases of
subcommands this tree does not have are skipped.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
from click.testing import CliRunner, Result

import bot
import governance
from bot.cli import json_output
from bot.cli.main import main
from bot.grammar.dispatch import build_table
from bot.render.upstream import cycle_reply
from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.core.errors import GovernanceError
from governance.flows.recheck import CycleReport
from governance.registry.models import IntendedUse
from tests.support.license_fixtures import MIT_TEXT, WEIGHTS, Governed, governed

OPEN = "acme/open-7b"
VENDOR = "acme/vendor-8b"
NEW = "acme/new-1b"  # on the Hub, not tracked
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
UNKNOWN_OPTION = "--no-such-option-anywhere"

# Long-running or interactive processes print no result, so they have no --json (their usage
# errors with --json are still the envelope: see test_every_click_command_...).
NO_JSON = {
    ("console",): "interactive: a terminal session, not one result",
    ("worker",): "long-running: logs, not one result",
    ("serve",): "long-running: logs, not one result",
}


@dataclass(frozen=True)
class Case:
    """One command line (after ``modelgov``, or after ``modelgov models`` for the grammar), who
    runs it, and the error code expected (None: success)."""

    argv: tuple[str, ...]
    user: str = "alice"
    error: str | None = None


# One success (and where it teaches something, a failure) per click command, by its path.
CLI_CASES: dict[tuple[str, ...], list[Case]] = {
    ("db", "upgrade"): [Case(("db", "upgrade", "--json"))],
    ("db", "current"): [Case(("db", "current", "--json"))],
    ("models",): [Case(("models", "list", "--json"))],
    ("check",): [
        Case(("check", "--json")),
        Case(("check", "foo/bar", "--json"), error="not_found"),
    ],
    ("ask",): [Case(("ask", "--json", "what's pending?"))],
    ("license",): [
        Case(("license", "mit", "--json")),
        Case(("license", "no-such-license", "--json"), error="not_found"),
    ],
    ("policy",): [
        Case(("policy", "show", "--json")),
        Case(
            ("policy", "set", "commercial-use", "required", "--json", "--as", "carol"),
            error="permission_denied",
        ),
    ],
    ("scan",): [
        Case(("scan", "{tree}/approved", "--json")),
        Case(("scan", "{tree}/pending", "--json"), error="gate_failed"),
    ],
    ("export",): [Case(("export", "--format", "json")), Case(("export", "--json"))],
    ("hub-webhook", "create"): [
        Case(("hub-webhook", "create", "--url", "https://gov.example/hub/webhook", "--json"))
    ],
    ("hub-webhook", "list"): [Case(("hub-webhook", "list", "--json"))],
    ("hub-webhook", "delete"): [
        Case(("hub-webhook", "delete", "{webhook_id}", "--json")),
        Case(("hub-webhook", "delete", "0" * 24, "--json"), error="hub_webhook_error"),
    ],
}

# One success per /models subcommand, run in the table's order on one registry (request makes
# the request that reject then rejects ...), and failures of the common kinds.
GRAMMAR_CASES: dict[str, list[Case]] = {
    "help": [Case(("help",)), Case(("help", "list"))],
    "list": [Case(("list", "approved")), Case(("list", "frozen"), error="invalid_input")],
    "info": [
        Case(("info", OPEN)),
        Case(("info", NEW)),
        Case(("info", "a//b"), error="invalid_input"),
    ],
    "request": [Case(("request", NEW, "--use", "research", "evals"), user="carol")],
    "approve": [
        Case(("approve", VENDOR), user="carol", error="permission_denied"),
        Case(("approve", VENDOR), user="bob"),
        Case(("approve", VENDOR), user="bob", error="conflict"),
    ],
    "reject": [Case(("reject", NEW, "not", "now"), user="bob")],
    "revoke": [Case(("revoke", VENDOR, "no", "longer", "needed"), user="bob")],
    "history": [Case(("history", OPEN)), Case(("history", "acme/nobody"), error="not_found")],
    "license": [Case(("license", "llama3.1"))],
    "license-check": [Case(("license-check", OPEN))],
    "openness": [Case(("openness", OPEN))],
    "policy": [Case(("policy", "show"))],
    "watch": [Case(("watch", NEW))],
    "unwatch": [Case(("unwatch", NEW), user="bob")],
    "check": [Case(("check", OPEN))],
    "changes": [Case(("changes",))],
    "diff": [Case(("diff", OPEN))],
    "alerts": [Case(("alerts",))],
    "subscribe": [Case(("subscribe", "#governance"), user="bob")],
    "subscriptions": [Case(("subscriptions",))],
    "unsubscribe": [Case(("unsubscribe", "#governance"), user="bob")],
    "variants": [Case(("variants", OPEN))],
    "fit": [Case(("fit", "acme/nobody", "--ram", "16"), error="repo_unavailable")],
    "approvers": [Case(("approvers", "list"))],
    "ask": [Case(("ask", "who approved open-7b?"))],
}


def _leaf_commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from _leaf_commands(command, (*path, name))
        else:
            yield (*path, name), command


def envelope_of(result: Result) -> dict[str, Any]:
    """The one JSON object stdout holds, validated against the envelope's schema, with the exit
    status it implies (0 on success, the code's status on failure)."""
    envelope = json.loads(result.stdout)  # the whole of stdout: one object and nothing else
    jsonschema.validate(envelope, json_output.ENVELOPE_SCHEMA)
    expected = 0 if envelope["ok"] else json_output.exit_status(envelope["error"]["code"])
    assert result.exit_code == expected, (result.exit_code, envelope)
    return envelope


def _check(result: Result, case: Case) -> dict[str, Any]:
    envelope = envelope_of(result)
    if case.error is None:
        assert envelope["ok"] is True, (case, envelope)
    else:
        assert envelope["ok"] is False and envelope["error"]["code"] == case.error, (case, envelope)
    return envelope


@dataclass
class World:
    gov: Governed
    cli: CliRunner
    tree: Path
    approved_id: int

    def invoke(self, *argv: str) -> Result:
        return self.cli.invoke(main, list(argv))


@pytest.fixture
def world(
    settings: Settings, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[World]:
    for gov in governed(settings, clock):
        gov.hub.add_model(OPEN, license="mit", files={"LICENSE": MIT_TEXT, **WEIGHTS})
        gov.hub.add_model(VENDOR, license="llama3.1", files=WEIGHTS, gated="manual")
        gov.hub.add_model(NEW, license="apache-2.0", files=WEIGHTS)
        gov.track(OPEN)
        gov.track(VENDOR)
        gov.cycle()
        # A second LICENSE text, so `diff` has two snapshots to compare.
        gov.hub.commit(OPEN, files={"LICENSE": MIT_TEXT.replace("2024", "2025")})
        gov.cycle()
        approved = gov.request(OPEN)
        gov.approve(approved)
        gov.request(VENDOR, IntendedUse.RESEARCH)
        gov.cycle()  # pins the approval to the revision it was checked at
        tree = tmp_path / "trees"
        for name, repo in (("approved", OPEN), ("pending", VENDOR)):
            (tree / name).mkdir(parents=True)
            (tree / name / "app.py").write_text(f'AutoModel.from_pretrained("{repo}")\n')
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
        monkeypatch.setenv("MODELGOV_APPROVERS", "alice,bob")
        monkeypatch.setenv("MODELGOV_CLI_IMPERSONATION", "1")  # --as bob, --as carol below
        monkeypatch.setenv("MODELGOV_HUB_ENDPOINT", gov.hub.endpoint)
        monkeypatch.setenv("HF_TOKEN", "hf_write")
        monkeypatch.setenv("MODELGOV_HUB_WEBHOOK_SECRET", "s3cret-s3cret-s3cret")
        gov.hub.webhooks.add_token("hf_write", "acme-ops")
        yield World(gov, CliRunner(), tree, approved)


def test_every_click_command_has_a_json_case_and_each_is_one_envelope(world: World) -> None:
    commands = dict(_leaf_commands(main))
    missing = set(commands) - set(CLI_CASES) - set(NO_JSON)
    assert not missing, f"add a case for {sorted(missing)} to CLI_CASES in {__file__}"
    for path in commands:
        if path in NO_JSON:
            continue
        assert any(p.name == "json" or p.name == "as_json" for p in commands[path].params), path
    filled: dict[str, str] = {"tree": str(world.tree)}
    for path, cases in CLI_CASES.items():
        if path not in commands:
            continue
        for case in cases:
            argv = [a.format(**filled) for a in case.argv]
            envelope = _check(world.invoke(*argv), case)
            if path == ("hub-webhook", "create"):
                filled["webhook_id"] = envelope["data"]["id"]
    # And a usage error of every command, JSON ones or not, is the envelope too (exit 2).
    for path in commands:
        result = world.invoke(*path, UNKNOWN_OPTION, "--json")
        assert _check(result, Case(path, error="usage_error"))["error"]["message"]
    _check(world.invoke("no-such-command", "--json"), Case((), error="usage_error"))
    _check(world.invoke(UNKNOWN_OPTION, "--json"), Case((), error="usage_error"))


def test_every_models_subcommand_has_a_json_case_and_each_is_one_envelope(world: World) -> None:
    table = build_table()
    missing = [s.name for s in table if s.name not in GRAMMAR_CASES]
    assert not missing, f"add a case for {missing} to GRAMMAR_CASES in {__file__}"
    for spec in table:
        for case in GRAMMAR_CASES[spec.name]:
            result = world.invoke("models", *case.argv, "--json", "--as", case.user)
            _check(result, case)
        # Every subcommand refuses an option it does not have, as a usage error.
        result = world.invoke("models", spec.name, UNKNOWN_OPTION, "x", "--json")
        _check(result, Case((spec.name,), error="usage_error"))
    _check(world.invoke("models", "frobnicate", "--json"), Case((), error="usage_error"))


def test_info_json_carries_what_the_text_shows(world: World) -> None:
    gov = world.gov
    result = world.invoke("models", "info", OPEN, "--json")
    data = envelope_of(result)["data"]
    text = world.invoke("models", "info", OPEN).stdout
    assert data["repo_id"] == OPEN and data["tracked"] is True and data["watched"] is True
    assert data["checked"] is True
    assert data["snapshot"]["sha"] == gov.hub.head_sha(OPEN)
    assert data["snapshot"]["sha"][:12] in text
    license_ = data["license"]
    assert license_["id"] == "mit" and license_["spdx"] == "MIT" and "mit" in text
    assert license_["card"]["license_id"] == "mit"
    assert license_["text"]["license_id"] == "mit" and license_["text"]["status"] == "identified"
    assert 0.5 < license_["text"]["confidence"] <= 1.0
    assert [f["path"] for f in license_["files"]] == ["LICENSE"]
    assert license_["files"][0]["identification"]["confidence"] == license_["text"]["confidence"]
    assert all(set(f) == {"code", "severity", "message"} for f in data["findings"])
    assert all(f["message"] in text for f in data["findings"] if f["severity"] != "info")
    openness = data["openness"]
    assert set(openness) == {"spectrum", "osi_osaid", "mof", "components"}
    for key in ("spectrum", "osi_osaid", "mof"):
        assert openness[key]["result"] in text and isinstance(openness[key]["passed"], bool)
    [approval] = data["approvals"]
    assert approval["id"] == world.approved_id and approval["state"] == "approved"
    assert data["pinned_revision"] == approval["revision_sha"] is not None
    assert data["pinned_revision"][:12] in text
    actions = [e["action"] for e in data["history"]]
    assert "approved" in actions and all(a in text for a in actions)


def test_info_json_of_a_model_never_checked_says_so(world: World) -> None:
    world.gov.track("acme/never-checked")
    data = envelope_of(world.invoke("models", "info", "acme/never-checked", "--json"))["data"]
    assert data["checked"] is False and data["snapshot"] is None and data["license"] is None
    assert data["openness"] is None and data["findings"] == [] and data["pinned_revision"] is None


def test_request_json_carries_the_policy_verdict(world: World) -> None:
    set_rule = world.invoke("policy", "set", "commercial-use", "required", "--as", "bob", "--json")
    assert envelope_of(set_rule)["ok"] is True, set_rule.output
    result = world.invoke("models", "request", VENDOR, "--use", "commercial", "--json")
    data = envelope_of(result)["data"]
    assert data["repo_id"] == VENDOR and data["state"] == "requested"
    policy = data["policy"]
    assert policy["use"] == "commercial" and policy["outcome"] in ("pass", "warn", "fail")
    assert policy["rules"] and all(
        set(r) == {"rule", "outcome", "message"} for r in policy["rules"]
    )


def test_check_json_counts_match_its_lists(world: World) -> None:
    world.gov.hub.inject("status", status=503, times=1000)  # the listing and every model
    result = world.invoke("check", "--json")
    envelope = envelope_of(result)
    assert envelope["ok"] is False and envelope["error"]["code"] == "check_failed"
    data = envelope["data"]
    assert data["failed"] == len(data["failures"]) == 2
    assert sorted(f["repo_id"] for f in data["failures"]) == [OPEN, VENDOR]
    assert data["failed_listings"] == len(data["listing_failures"])
    assert all(f["author"] == "acme" for f in data["listing_failures"])
    assert "2 of 2 models" in envelope["error"]["message"]
    world.gov.hub.clear_faults()
    assert envelope_of(world.invoke("check", "--json"))["data"]["failed"] == 0


def test_cycle_data_counts_failed_models_and_failed_listings_apart() -> None:
    report = CycleReport(cycle_id=7, checked=3, unchanged=2, failed=1)
    report.failures.append(("acme/a", "timeout"))
    report.listing_failures.append(("acme", "503"))
    data = cycle_reply(report).data
    assert (data["failed"], len(data["failures"])) == (1, 1)
    assert (data["failed_listings"], data["listing_failures"]) == (
        1,
        [{"author": "acme", "error": "503"}],
    )
    assert "1 failed, 1 author listing failed" in cycle_reply(report).text


def test_a_command_that_cannot_start_is_the_envelope_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://nobody@localhost/nothing")
    result = CliRunner().invoke(main, ["models", "list", "--json"])
    envelope = envelope_of(result)
    assert envelope["ok"] is False and envelope["error"]["code"] == "config_error"
    assert result.exit_code == 2


def _error_classes() -> list[type[GovernanceError]]:
    for package in (governance, bot):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    found: list[type[GovernanceError]] = []
    todo: list[type[GovernanceError]] = [GovernanceError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_error_class_has_its_own_stable_snake_case_code() -> None:
    classes = _error_classes()
    assert len(classes) > 10
    codes = [cls.__dict__.get("code") for cls in classes]
    assert all(isinstance(code, str) and SNAKE.match(code) for code in codes), [
        (cls.__name__, cls.__dict__.get("code")) for cls in classes
    ]
    assert len(set(codes)) == len(codes), sorted(c for c in codes if codes.count(c) > 1)
