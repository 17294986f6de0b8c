"""Hub webhooks below the HTTP layer: payloads, the check queue, the worker's run, the CLI.

The endpoint itself, through a real ``serve --http``, is tested in
``tests/faults/test_endpoint_hub_webhook.py``.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from governance.core.db import transaction
from governance.core.errors import InvalidInput
from governance.flows.recheck import run_cycle
from governance.flows.requested_checks import run_requested_checks
from governance.registry.models import ModelAlias
from governance.registry.tracking import find_model
from governance.upstream.check_requests import MAX_ATTEMPTS, claim_due, finish, queued
from governance.upstream.hub_events import parse_event, queue_for_event
from governance.upstream.models import RecheckCycle
from governance.upstream.service import unwatch
from governance.wiring.contexts import watch_context
from tests.support.hub_webhooks import payload
from tests.support.watch_fixtures import Watched

REPO = "acme/widget-7b"
LICENSE = "Apache License\nVersion 2.0, January 2004\n\nTERMS AND CONDITIONS\n"


def _ready(w: Watched) -> None:
    w.hub.add_model(REPO, files={"LICENSE": LICENSE, "model.safetensors": b"\0" * 32})
    w.watch(REPO)
    w.cycle()  # the first snapshot


def _post(w: Watched, body: bytes) -> str:
    with transaction(w.services.session_factory) as session:
        return queue_for_event(session, parse_event(body), now=w.services.clock.now()).outcome


def _rows(w: Watched) -> list[tuple[str, int, int]]:
    with transaction(w.services.session_factory) as session:
        return [(r.reason, r.events, r.version) for r in queued(session)]


def _webhook_cycles(w: Watched) -> int:
    with transaction(w.services.session_factory) as session:
        return session.query(RecheckCycle).filter(RecheckCycle.trigger == "webhook").count()


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        (b"{not json", "The webhook body is not valid JSON."),
        (b"\xff\xfe", "The webhook body is not valid JSON."),
        (b"[1, 2]", "The webhook body is not a JSON object."),
        (b'{"event": {"action": "update", "scope": "repo"}}', "no `event` or no `repo`"),
        (b'{"event": {"action": 1, "scope": "repo"}, "repo": {}}', "`event.action`"),
        (b'{"event": {"action": "update", "scope": "repo"}, "repo": {"type": "model"}}', "name"),
    ],
)
def test_malformed_payloads_are_one_sentence(body: bytes, sentence: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_event(body)
    assert sentence in caught.value.message
    assert caught.value.message.count(".") >= 1 and "\n" not in caught.value.message


def test_the_real_payload_shape_is_read() -> None:
    event = parse_event(payload(REPO, scope="repo.content", head_sha="a" * 40))
    assert (event.action, event.scope, event.repo_type, event.repo_name) == (
        "update",
        "repo.content",
        "model",
        REPO,
    )
    assert event.head_sha == "a" * 40


def test_watched_model_or_alias_queues_others_are_ignored(watched: Watched) -> None:
    _ready(watched)
    watched.hub.add_model("acme/unwatched")
    assert _post(watched, payload("acme/unwatched")) == "ignored"
    assert _post(watched, payload(REPO, repo_type="dataset")) == "ignored"
    assert _post(watched, payload(REPO, repo_type="space")) == "ignored"
    assert _post(watched, payload(REPO, scope="discussion", action="create")) == "ignored"
    assert _rows(watched) == []
    assert _post(watched, payload(REPO.upper(), scope="repo.config")) == "queued"
    assert _rows(watched) == [(f"repo.config update of model {REPO.upper()}", 1, 1)]


def test_an_alias_queues_the_renamed_model(watched: Watched) -> None:
    _ready(watched)
    watched.hub.rename(REPO, "acme/widget-7b-v2")
    watched.cycle()  # the rename is found by polling; the old id is kept as an alias
    with transaction(watched.services.session_factory) as session:
        assert [a.alias for a in session.query(ModelAlias)] == [REPO]
    assert _post(watched, payload(REPO)) == "queued"
    assert len(_rows(watched)) == 1


def test_duplicates_and_bursts_collapse_into_one_check(watched: Watched) -> None:
    _ready(watched)
    for _ in range(20):
        assert _post(watched, payload(REPO)) == "queued"
    assert [(events, version) for _r, events, version in _rows(watched)] == [(20, 20)]
    watched.hub.reset_counts()
    report = run_requested_checks(watch_context(watched.services), holder="w1")
    assert report.repo_ids == [REPO] and report.settled == {REPO: "done"}
    assert watched.hub.count(f"/api/models/{REPO}") == 1  # one check for twenty events
    assert _rows(watched) == [] and _webhook_cycles(watched) == 1
    assert run_requested_checks(watch_context(watched.services), holder="w1").repo_ids == []


def test_the_queued_check_finds_the_change_and_alerts_once(watched: Watched) -> None:
    _ready(watched)
    watched.hub.commit(REPO, card_data={"license": "llama3.1"})
    _post(watched, payload(REPO, head_sha=watched.hub.head_sha(REPO)))
    _post(watched, payload(REPO, head_sha=watched.hub.head_sha(REPO)))  # the Hub's retry
    run_requested_checks(watch_context(watched.services), holder="w1")
    assert [a.kind for a in watched.alerts()].count("license_changed") == 1
    watched.cycle()  # polling afterwards: nothing new
    assert [a.kind for a in watched.alerts()].count("license_changed") == 1


def test_two_workers_never_claim_one_row(watched: Watched) -> None:
    _ready(watched)
    _post(watched, payload(REPO))
    now = watched.services.clock.now()
    ttl = timedelta(minutes=10)
    with transaction(watched.services.session_factory) as session:
        first = claim_due(session, holder="w1", now=now, ttl=ttl, batch=10)
    with transaction(watched.services.session_factory) as session:
        second = claim_due(session, holder="w2", now=now, ttl=ttl, batch=10)
    assert len(first) == 1 and second == []
    with transaction(watched.services.session_factory) as session:  # w1 died: its claim expires
        third = claim_due(session, holder="w2", now=now + ttl, ttl=ttl, batch=10)
    assert len(third) == 1
    with transaction(watched.services.session_factory) as session:  # w1 can no longer settle it
        assert finish(session, first[0], holder="w1", failed=False, now=now) == "lost"
        assert finish(session, third[0], holder="w2", failed=False, now=now) == "done"
    assert _rows(watched) == []


def test_an_event_during_the_check_gets_one_more_check(watched: Watched) -> None:
    _ready(watched)
    _post(watched, payload(REPO))
    now = watched.services.clock.now()
    with transaction(watched.services.session_factory) as session:
        (claim,) = claim_due(session, holder="w1", now=now, ttl=timedelta(minutes=1), batch=10)
    _post(watched, payload(REPO))  # pushed while w1 was fetching
    _post(watched, payload(REPO))
    with transaction(watched.services.session_factory) as session:
        assert finish(session, claim, holder="w1", failed=False, now=now) == "again"
    assert [(e, v) for _r, e, v in _rows(watched)] == [(3, 3)]
    report = run_requested_checks(watch_context(watched.services), holder="w2")
    assert report.settled == {REPO: "done"} and _rows(watched) == []


def test_a_failed_check_is_retried_then_left_to_polling(watched: Watched) -> None:
    _ready(watched)
    watched.hub.inject("status", status=503, times=100, path=f"/api/models/{REPO}")
    _post(watched, payload(REPO))
    clock = watched.services.clock
    outcomes = []
    for _ in range(MAX_ATTEMPTS):
        report = run_requested_checks(watch_context(watched.services), holder="w1")
        outcomes.append(report.settled.get(REPO))
        assert run_requested_checks(watch_context(watched.services), holder="w1").repo_ids == []
        clock.advance(minutes=5)  # type: ignore[attr-defined]
    assert outcomes == ["retry", "retry", "given_up"]
    assert _rows(watched) == []
    assert watched.changes() == []  # a failed check is never a change


def test_a_request_for_a_model_unwatched_meanwhile_is_dropped(watched: Watched) -> None:
    _ready(watched)
    _post(watched, payload(REPO))
    with transaction(watched.services.session_factory) as session:
        model = find_model(session, REPO)
        assert model is not None
        model_id = model.id
        unwatch(
            session,
            repo_id=REPO,
            actor="alice",
            approvers=watched.services.approvers,
            clock=watched.services.clock,
        )
    watched.hub.reset_counts()
    report = run_requested_checks(watch_context(watched.services), holder="w1")
    assert report.repo_ids == [] and report.settled == {f"model #{model_id}": "done"}
    assert watched.hub.count("/api/") == 0 and _rows(watched) == []
    assert _post(watched, payload(REPO)) == "ignored"


# -- modelgov hub-webhook --------------------------------------------------------------------


def _cli(w: Watched, monkeypatch: pytest.MonkeyPatch, *args: str, **env: str) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", w.services.settings.database_url)
    monkeypatch.setenv("MODELGOV_HUB_ENDPOINT", w.hub.endpoint)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["hub-webhook", *args])
    return result.exit_code, result.output


def test_cli_create_list_update_delete(watched: Watched, monkeypatch: pytest.MonkeyPatch) -> None:
    _ready(watched)
    watched.hub.webhooks.add_token("hf_write", "acme-ops")
    env = {"HF_TOKEN": "hf_write", "MODELGOV_HUB_WEBHOOK_SECRET": "s3cret-s3cret-s3cret"}
    url = "https://governance.example/hub/webhook"
    code, out = _cli(watched, monkeypatch, "create", "--url", url, **env)
    assert code == 0, out
    assert out.startswith("created webhook ") and "1 models, domains repo" in out
    (hook,) = watched.hub.webhooks.hooks.values()
    assert hook.watched == [{"type": "model", "name": REPO}]
    assert hook.domains == ["repo"] and hook.secret == "s3cret-s3cret-s3cret"
    watched.hub.add_model("acme/other")
    watched.watch("acme/other")
    code, out = _cli(watched, monkeypatch, "create", "--url", url, **env)
    assert code == 0 and out.startswith(f"updated webhook {hook.id}")
    assert len(watched.hub.webhooks.hooks) == 1 and len(hook.watched) == 2
    code, out = _cli(watched, monkeypatch, "list", **env)
    assert code == 0 and f"{hook.id}  enabled  {url}  2 watched (model)" in out
    code, out = _cli(watched, monkeypatch, "delete", hook.id, **env)
    assert (code, out.strip()) == (0, f"deleted webhook {hook.id}")
    assert watched.hub.webhooks.hooks == {}


@pytest.mark.parametrize(
    ("env", "args", "sentence"),
    [
        ({"MODELGOV_HUB_WEBHOOK_SECRET": "x" * 20}, ("list",), "Set HF_TOKEN to"),
        ({"HF_TOKEN": "hf_nobody"}, ("list",), "HF_TOKEN was refused (401"),
        ({"HF_TOKEN": "hf_read"}, ("list",), "HF_TOKEN may not manage webhooks (403)"),
        ({"HF_TOKEN": "hf_write"}, ("delete", "0" * 24), "no such webhook for this token (404"),
        ({"HF_TOKEN": "hf_write"}, ("delete", "../x"), "is not a webhook id"),
        ({"HF_TOKEN": "hf_write"}, ("create", "--url", "https://h/x"), "Set MODELGOV_HUB_WEBHOOK"),
        (
            {"HF_TOKEN": "hf_write", "MODELGOV_HUB_WEBHOOK_SECRET": "x" * 20},
            ("create", "--url", "ftp://h/x"),
            "is not a URL",
        ),
    ],
)
def test_cli_errors_are_one_line(
    watched: Watched,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    args: tuple[str, ...],
    sentence: str,
) -> None:
    _ready(watched)
    watched.hub.webhooks.add_token("hf_write", "acme-ops")
    watched.hub.webhooks.add_token("hf_read", "acme-ops", webhooks=False)
    code, out = _cli(watched, monkeypatch, *args, **env)
    assert code == 1
    assert sentence in out and out.startswith("modelgov: ") and out.count("\n") == 1
    assert "Traceback" not in out and watched.hub.webhooks.hooks == {}


def test_a_webhook_check_during_a_scheduled_cycle_records_the_change_once(
    watched: Watched,
) -> None:
    _ready(watched)
    watched.hub.set_license(REPO, "llama3.1")
    watched.hub.latency = 0.3  # both cycles load their targets before either records
    cycles = [
        threading.Thread(
            target=run_cycle,
            args=(watch_context(watched.services),),
            kwargs={"repo_ids": [REPO], "trigger": trigger},
        )
        for trigger in ("schedule", "webhook")
    ]
    for cycle in cycles:
        cycle.start()
    for cycle in cycles:
        cycle.join()
    kinds = [kind for kind, _summary in watched.changes()]
    assert kinds.count("license_changed") == 1 and kinds.count("revision_changed") == 1
    assert [a.kind for a in watched.alerts()].count("license_changed") == 1
