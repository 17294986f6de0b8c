"""Subscriptions filtered by model or author (`/models subscribe #chan --repo meta-llama/*
--kinds license,gating`): parsing and its one-sentence refusals, routing of real alerts, the
listing, the audit trail, and migration 0007 up and down (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text

from bot.grammar.dispatch import run_text
from bot.grammar.spec.invocation import Invocation
from governance.alerts.models import Alert
from governance.alerts.outbox import raise_alert
from governance.alerts.subscriptions import parse_kinds, parse_repo_patterns
from governance.core import migrate
from governance.core.db import transaction
from governance.core.errors import InvalidInput
from governance.core.kinds import ChangeKind, NoticeKind
from governance.registry.models import AuditEvent
from governance.registry.tracking import track_model
from governance.wiring.services import Services

DEFAULT = "#model-governance"  # the alerts channel of the test settings


def _run(services: Services, command: str, user: str = "alice") -> dict[str, object]:
    reply = run_text(command, Invocation(services=services, user=user))
    assert reply.ok, reply.text
    return {"text": reply.text, "data": reply.data}


def _raise(services: Services, repo: str | None, kind: str, fp: str) -> list[str]:
    """Raise one alert about ``repo`` (tracked first) and return where it was routed."""
    with transaction(services.session_factory) as session:
        model_id = (
            track_model(session, repo_id=repo, actor="alice", clock=services.clock).id
            if repo
            else None
        )
        created = raise_alert(
            session,
            kind=kind,  # type: ignore[arg-type]
            title=f"{repo}: {kind}",
            body="",
            # the model is known by its row only (repo_id comes from model_id) half the time
            payload={"kind": kind, "summary": ["x"]}
            | ({"repo_id": repo} if fp[-1] in "02468" else {}),
            state_fingerprint=fp,
            default_destination=DEFAULT,
            clock=services.clock,
            model_id=model_id,
        )
        return sorted(a.destination for a in created)


def test_patterns_are_parsed_and_refused_in_one_sentence() -> None:
    assert parse_repo_patterns([]) is None
    assert parse_repo_patterns(["meta-llama/*", "google/gemma-*,meta-llama/*"]) == [
        "meta-llama/*",
        "google/gemma-*",
    ]
    assert parse_repo_patterns(["meta-llama"]) == ["meta-llama/*"]  # an author: all its models
    assert parse_repo_patterns(["*/Llama-3*"]) == ["*/Llama-3*"]
    for bad in ["meta llama/*", "a/b/c", "*", "<!channel>", "x/" + "y" * 200]:
        with pytest.raises(InvalidInput) as caught:
            parse_repo_patterns([bad])
        assert caught.value.message.endswith(
            "is not a repository pattern; expected owner/name with * or ? wildcards, "
            "such as meta-llama/* or */Llama-3*."
        )
    with pytest.raises(InvalidInput, match="at most 20"):
        parse_repo_patterns([f"org/m{i}" for i in range(21)])


def test_kind_groups_name_several_kinds() -> None:
    assert parse_kinds(["license,gating"]) == sorted(
        [
            ChangeKind.LICENSE_CHANGED,
            ChangeKind.LICENSE_TEXT_CHANGED,
            ChangeKind.LICENSE_FILE_ADDED,
            ChangeKind.LICENSE_FILE_REMOVED,
            ChangeKind.BASE_TERMS_CHANGED,
            ChangeKind.GATING_CHANGED,
        ]
    )
    assert parse_kinds(["digest", "renamed"]) == [NoticeKind.DIGEST, ChangeKind.RENAMED]
    assert parse_kinds(["all"]) is None
    with pytest.raises(InvalidInput, match=r"^Unknown alert kind 'everything'; expected groups"):
        parse_kinds(["license,everything"])


def test_alerts_are_routed_by_model_and_kind(services: Services) -> None:
    _run(services, "subscribe #llama --repo meta-llama/* --kinds license")
    _run(services, "subscribe #gemma --repo google/gemma-* --repo google/codegemma-*")
    _run(services, "subscribe #gating --kinds gating")
    assert _raise(services, "meta-llama/Llama-3.1-8B", "license_changed", "f0") == ["#llama"]
    assert _raise(services, "META-LLAMA/Llama-3.2-1B", "license_text_changed", "f1") == ["#llama"]
    assert _raise(services, "google/gemma-2-9b", "license_changed", "f2") == ["#gemma"]
    assert _raise(services, "google/codegemma-7b", "renamed", "f3") == ["#gemma"]
    assert _raise(services, "google/t5-small", "license_changed", "f4") == [DEFAULT]
    assert _raise(services, "meta-llama/Llama-3.1-8B", "gating_changed", "f5") == ["#gating"]
    assert _raise(services, "mistralai/Mistral-7B", "revision_changed", "f6") == [DEFAULT]
    # An alert about no model (the digest) goes only where no pattern restricts it.
    assert _raise(services, None, "digest", "f8") == [DEFAULT]
    _run(services, "subscribe #everything")
    assert _raise(services, None, "digest", "f9") == ["#everything"]
    assert _raise(services, "google/gemma-2-9b", "gating_changed", "f10") == [
        "#everything",
        "#gating",
        "#gemma",
    ]


def test_subscribe_lists_and_audits_the_filters(services: Services) -> None:
    done = _run(
        services,
        "subscribe #llama --repo meta-llama/* --repo meta-llama-community --kinds license,gating",
    )
    assert done["data"] == {
        "destination": "#llama",
        "kinds": parse_kinds(["license,gating"]),
        "repos": ["meta-llama/*", "meta-llama-community/*"],
    }
    assert str(done["text"]).endswith(
        "alerts about meta-llama/*, meta-llama-community/* now go to #llama."
    )
    listed = _run(services, "subscriptions", user="carol")
    [row] = listed["data"]["subscriptions"]  # type: ignore[index]
    assert row["repos"] == ["meta-llama/*", "meta-llama-community/*"]
    assert "#llama: License changed, " in str(listed["text"])
    assert "about meta-llama/*, meta-llama-community/*" in str(listed["text"])
    with transaction(services.session_factory) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "subscribed"))
        assert event is not None and event.after["repos"] == row["repos"]
    # Subscribing the channel again replaces its filters.
    _run(services, "subscribe #llama --kinds gating")
    [row] = _run(services, "subscriptions")["data"]["subscriptions"]  # type: ignore[index]
    assert (row["repos"], row["kinds"]) == (None, ["gating_changed"])


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            "subscribe #x --repo 'meta llama/*'",
            "'meta llama/*' is not a repository pattern; expected owner/name with * or ? "
            "wildcards, such as meta-llama/* or */Llama-3*.",
        ),
        ("subscribe #x --repo", "--repo needs a value. Usage: "),
        ("subscribe #x --kinds nope", "Unknown alert kind 'nope'; expected groups ("),
    ],
)
def test_bad_filters_write_nothing(services: Services, command: str, message: str) -> None:
    reply = run_text(command, Invocation(services=services, user="alice"))
    assert not reply.ok and reply.text.startswith(message)
    assert _run(services, "subscriptions")["data"]["subscriptions"] == []  # type: ignore[index]
    with transaction(services.session_factory) as session:
        assert session.scalar(select(Alert.id)) is None


def test_migration_0007_adds_and_drops_the_patterns_keeping_subscriptions(
    empty_database_url: str,
) -> None:
    migrate.upgrade(empty_database_url, "0006")
    engine = create_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO alert_subscriptions (destination, kinds, created_by, created_at)"
                    " VALUES ('#old', NULL, 'alice', '2026-12-01 00:00:00+00:00')"
                )
            )
        migrate.upgrade(empty_database_url, "0007")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT destination, repos FROM alert_subscriptions")
            ).all()
        assert [tuple(r) for r in rows] == [("#old", None)]  # every model, as before
        migrate.downgrade(empty_database_url, "0006")
        with engine.connect() as connection:
            columns = connection.execute(text("SELECT * FROM alert_subscriptions")).keys()
            assert "repos" not in columns
            assert (
                connection.execute(text("SELECT count(*) FROM alert_subscriptions")).scalar() == 1
            )
    finally:
        engine.dispose()
