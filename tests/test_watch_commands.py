"""Watch commands end to end, and a real license rewrite (Llama 3 -> 3.1) through the watcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.grammar.dispatch import run_text
from bot.grammar.spec.invocation import Invocation
from governance.registry.models import ApprovalState
from tests.support.blocks_walk import mrkdwn_texts
from tests.support.watch_fixtures import Watched

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "licenses"
REPO = "meta-llama/Meta-Llama-3-8B"


def run(w: Watched, text: str, user: str = "alice"):  # type: ignore[no-untyped-def]
    return run_text(text, Invocation(services=w.services, user=user))


@pytest.mark.skipif(not REALDATA.exists(), reason="shared/realdata/licenses is absent")
def test_real_llama3_to_llama31_license_rewrite_is_summarized_and_diffed(watched: Watched) -> None:
    llama3 = (REALDATA / "llama3.LICENSE.txt").read_text()
    llama31 = (REALDATA / "llama3_1.LICENSE.txt").read_text()
    watched.hub.add_model(REPO, license="llama3", files={"LICENSE": llama3})
    watched.watch(REPO)
    approval_id = watched.approve(REPO)
    watched.cycle()
    watched.hub.commit(REPO, files={"LICENSE": llama31})
    watched.cycle()
    alert = next(a for a in watched.alerts() if a.kind == "license_text_changed")
    summary = " ".join(alert.payload["summary"])
    assert "Built with Llama" in summary
    assert "improve" in summary.lower()  # the output restriction on other LLMs was dropped
    assert alert.payload["diff_excerpt"].startswith("--- LICENSE@")
    assert watched.approval(approval_id).state is ApprovalState.NEEDS_REVIEW

    reply = run(watched, f"diff {REPO}")
    assert reply.ok, reply.text
    (file,) = reply.data["files"]
    assert file["path"] == "LICENSE"
    assert any("Built with Llama" in line for line in file["summary"])
    assert "+" in file["diff"] and "Llama 3.1" in file["diff"]
    # Summary first, then the diff.
    body = reply.text
    assert body.index("Built with Llama") < body.index("--- LICENSE@")
    # Diffs from upstream are escaped before they reach mrkdwn.
    assert all("<http" not in t for t in mrkdwn_texts(reply.blocks))


def test_watch_check_changes_via_the_grammar(watched: Watched) -> None:
    watched.hub.add_model("acme/tiny-1b", files={"LICENSE": "MIT License\n\nPermission..."})
    assert run(watched, "watch acme/tiny-1b").ok
    first = run(watched, "check acme/tiny-1b")
    assert first.ok and first.data["first"] == 1
    watched.hub.commit("acme/tiny-1b", card_data={"license": "cc-by-nc-4.0"})
    second = run(watched, "check")
    assert [c["kind"] for c in second.data["changes"]] == ["license_changed", "revision_changed"]
    listed = run(watched, "changes acme/tiny-1b")  # newest first
    assert [c["kind"] for c in listed.data["changes"]] == ["revision_changed", "license_changed"]
    assert not run(watched, "unwatch acme/tiny-1b", user="mallory").ok
    assert run(watched, "unwatch acme/tiny-1b", user="bob").ok
    assert run(watched, "check").data["checked"] == 0


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("check nobody/nothing", "not tracked yet"),
        ("check not-a-repo", "namespace/name"),
        ("diff acme/x 1234567", "both revisions"),
        ("changes a/b/c", "namespace/name"),
    ],
)
def test_watch_commands_bad_input(watched: Watched, text: str, fragment: str) -> None:
    watched.hub.add_model("acme/x")
    run(watched, "watch acme/x")
    reply = run(watched, text)
    assert not reply.ok and fragment in reply.text


def test_cli_check_prints_a_summary_and_json(
    watched: Watched, monkeypatch: pytest.MonkeyPatch
) -> None:
    watched.hub.add_model("acme/cli-model")
    watched.watch("acme/cli-model")
    monkeypatch.setenv("DATABASE_URL", watched.services.settings.database_url)
    monkeypatch.setenv("MODELGOV_HUB_ENDPOINT", watched.hub.endpoint)
    from bot.cli.main import main

    result = CliRunner().invoke(main, ["check", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["data"]
    assert (data["checked"], data["first"], data["failed"]) == (1, 1, 0)
    assert data["requests"] >= 2  # status + files on a first check
    table = CliRunner().invoke(main, ["check"])
    assert table.exit_code == 0 and "requests used" in table.output
    watched.hub.inject("status", status=503, times=5)
    failed = CliRunner().invoke(main, ["check"])
    assert failed.exit_code == 1 and "failed" in failed.output


def test_info_of_an_untracked_model_asks_the_hub_and_records_nothing(watched: Watched) -> None:
    from bot.grammar.dispatch import build_table

    watched.hub.add_model("mistralai/Mistral-7B-v0.1", license="apache-2.0", gated="auto")
    spec = build_table().get("info")
    assert spec is not None
    inv = Invocation(services=watched.services, user="carol")
    assert spec.is_slow(inv, ["mistralai/Mistral-7B-v0.1"])  # Slack acks first
    reply = run(watched, "info mistralai/Mistral-7B-v0.1", user="carol")
    assert reply.ok, reply.text
    assert reply.data["tracked"] is False and reply.data["gated"] == "auto"
    assert reply.data["commercial_use"] == "yes"
    assert "request mistralai/Mistral-7B-v0.1" in reply.text
    assert watched.changes() == [] and run(watched, "list").data["approvals"] == []
    missing = run(watched, "info nobody/nothing")
    assert not missing.ok and "not available on the Hub" in missing.text
    watched.hub.inject("status", status=503, times=3)
    down = run(watched, "info acme/other")
    assert not down.ok and "could not answer now" in down.text
    watched.watch("mistralai/Mistral-7B-v0.1")
    assert not spec.is_slow(inv, ["mistralai/Mistral-7B-v0.1"])  # tracked: answered in the ack
