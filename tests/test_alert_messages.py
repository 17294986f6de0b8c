"""Alert messages read at a glance: the change in words first (knowledge-base names and terms),
then what it means for the team (approvals in review, owners mentioned), the clause summary and
a collapsed diff; no repeated line, no raw JSON, a human name for every kind, Slack dates.
Every kind is posted through the Slack stand-in, which refuses what breaks Block Kit limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.render.alerts import alert_message
from bot.render.text import render_reply
from bot.slack.delivery.client import make_client
from bot.slack.delivery.slack_notifier import SlackNotifier
from governance.alerts.delivery import deliver_pending
from governance.alerts.kind_names import KIND_NAMES, kind_name
from governance.alerts.notifier import OutgoingAlert
from governance.alerts.outbox import raise_alert
from governance.core.config import ConfigError, Settings, load_settings
from governance.core.db import transaction
from governance.core.kinds import ALERT_KINDS, ChangeKind, NoticeKind
from governance.wiring.scheduler import build_scheduler, digest_trigger
from governance.wiring.services import Services
from tests.conftest import make_settings
from tests.support.slack_harness import ALERTS, ALICE, BOB, CAROL, slack_settings, slack_standin
from tests.support.slack_standin import SlackStandIn

__all__ = ["slack_settings", "slack_standin"]

REPO = "meta-llama/Llama-3.1-8B-Instruct"
RAISED = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
HOSTILE = "<!channel> & <@U0EVIL> *bold*"  # upstream text must reach Slack as text
SLACK_DATE = re.compile(r"<!date\^(\d+)\^\{date_short_pretty\} at \{time\}\|([^>]+)>")


def _terms(license_id: str, name: str | None = None) -> dict[str, Any]:
    return {
        "license": license_id,
        "license_name": name,
        "license_link": None,
        "license_tags": [license_id],
    }


def _in_review(count: int) -> list[dict[str, Any]]:
    return [
        {"id": i, "use": "commercial", "decided_by": BOB, "requested_by": CAROL}
        for i in range(1, count + 1)
    ]


def _payload(kind: str) -> dict[str, Any]:
    """A worst case of each kind, shaped as the watcher and the jobs store it: long summaries,
    many approvals in review, a long diff, upstream text that tries to ping the channel."""
    long_lines = [f"Clause {i}: {HOSTILE} " + "x" * 180 for i in range(40)]
    base: dict[str, Any] = {"repo_id": REPO, "kind": kind, "summary": ["First line.", *long_lines]}
    diff = "\n".join(f"-old {i} {HOSTILE}\n+new {i}" for i in range(800))
    change: dict[str, dict[str, Any]] = {
        ChangeKind.LICENSE_CHANGED: {
            "before": _terms("mit"),
            "after": _terms("llama3.1"),
            "approvals_in_review": _in_review(12),
            "approvers": [ALICE, BOB],
        },
        ChangeKind.LICENSE_TEXT_CHANGED: {
            "before": {"path": "LICENSE", "content_hash": "5b64" + "0" * 60},
            "after": {"path": "LICENSE", "content_hash": "9af1" + "1" * 60},
            "diff_excerpt": diff[:1500],
            "diff_truncated": True,
            "approvals_in_review": _in_review(3),
            "approvers": [ALICE],
        },
        ChangeKind.LICENSE_FILE_ADDED: {
            "before": None,
            "after": {"path": "USE_POLICY.md", "content_hash": "abcd" * 16},
        },
        ChangeKind.LICENSE_FILE_REMOVED: {
            "before": {"path": "NOTICE", "content_hash": "dcba" * 16},
            "after": None,
        },
        ChangeKind.GATING_CHANGED: {
            "before": {"gated": False, "prompt": {}},
            "after": {"gated": "manual", "prompt": {"extra_gated_prompt": HOSTILE}},
        },
        ChangeKind.REVISION_CHANGED: {
            "before": {"sha": "a" * 40},
            "after": {
                "sha": "b" * 40,
                "added": [f"model-{i:05d}-of-00050.safetensors" for i in range(50)],
                "removed": [],
                "changed": ["config.json"],
                "weights_changed": True,
            },
            "pinned_approvals": [{"id": 4, "use": "internal", "revision_sha": "a" * 40}],
        },
        ChangeKind.RENAMED: {"before": "meta-llama/Old-Name", "after": REPO},
        ChangeKind.UNAVAILABLE: {"before": "available", "after": "not_found"},
        ChangeKind.DISABLED: {"before": "available", "after": "disabled"},
        ChangeKind.SUPERSEDED: {"before": None, "after": "meta-llama/Llama-3.2-8B-Instruct"},
        ChangeKind.NEW_RELEASE_IN_FAMILY: {
            "before": None,
            "after": {"repo_id": "meta-llama/Llama-4-Scout", "created_at": "2026-12-01T10:00:00"},
        },
        ChangeKind.BASE_TERMS_CHANGED: {
            "before": {"base": "meta-llama/Llama-3.1-8B"},
            "after": {
                "base": "meta-llama/Llama-3.1-8B",
                "changes": [
                    {"kind": "license_changed", "summary": "The card's license changed: a → b."}
                ],
            },
            "approvals_in_review": _in_review(1),
        },
        NoticeKind.POLICY_VIOLATION: {
            "dry_run": False,
            "approvals_in_review": _in_review(2),
            "violations": {"commercial": [{"rule": "denied-licenses", "message": "denied"}]},
        },
        NoticeKind.APPROVAL_EXPIRED: {"approval_id": 5},
        NoticeKind.DIGEST: {
            "repo_id": None,
            "summary": [
                "Pending requests: 2",
                "#1 a/b (internal) requested by carol",
                "#2 c/d (commercial) requested by dave",
                "In review: 1",
                "#3 e/f (commercial)",
                "Expiring within 14 days: 0",
            ],
        },
    }
    return {**base, **change.get(kind, {})}


def _outgoing(kind: str, payload: dict[str, Any] | None = None) -> OutgoingAlert:
    return OutgoingAlert(
        id=1,
        kind=kind,
        destination=ALERTS,
        title=f"{REPO}: {kind}",
        body="\n".join(str(x) for x in (payload or _payload(kind))["summary"]),
        payload=payload or _payload(kind),
        created_at=RAISED,
    )


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    texts = []
    for block in blocks:
        if "text" in block and isinstance(block["text"], dict):
            texts.append(block["text"]["text"])
        texts += [f["text"] for f in block.get("fields", [])]
        texts += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return texts


def test_every_alert_kind_has_a_human_name() -> None:
    assert set(KIND_NAMES) == set(ALERT_KINDS)
    for kind in ALERT_KINDS:
        name = kind_name(kind)
        assert "_" not in name and name[0].isupper() and name != kind.value
    assert kind_name("some_future_kind") == "Some future kind"  # never the raw value


def test_a_license_change_is_said_in_words_with_the_terms_that_matter() -> None:
    reply = alert_message(_outgoing(ChangeKind.LICENSE_CHANGED))
    headline = (
        "License changed: MIT → Llama 3.1 Community License — "
        "commercial use: yes → conditional (700M MAU)"
    )
    assert reply.blocks[0]["text"]["text"] == f":rotating_light: *{headline}*"
    assert reply.text == f"{REPO}: {headline}"
    meaning = reply.blocks[2]["text"]["text"]
    assert meaning.startswith(":warning: *12 approvals moved to review*")
    assert "#1 commercial use — requested by <@U0CAROL>, approved by <@U0BOB>" in meaning
    assert "and 2 more" in meaning and "<@U0ALICE>, <@U0BOB>: re-approve or revoke" in meaning


def test_a_license_text_change_names_the_file_and_short_hashes_not_json() -> None:
    reply = alert_message(_outgoing(ChangeKind.LICENSE_TEXT_CHANGED))
    assert (
        reply.blocks[0]["text"]["text"] == ":rotating_light: *LICENSE text changed (5b64… → 9af1…)*"
    )
    texts = _texts(reply.blocks)
    assert not any("content_hash" in t or '{"' in t or "{'" in t for t in texts)
    diff = [t for t in texts if t.startswith("```")]
    assert len(diff) == 1 and diff[0].count("\n") < 12  # collapsed to its first lines
    assert any("First 12 lines of the diff" in t and "/models diff" in t for t in texts)


def test_times_are_slack_dates_with_a_utc_fallback_and_the_console_shows_the_fallback() -> None:
    reply = alert_message(_outgoing(ChangeKind.GATING_CHANGED))
    [match] = SLACK_DATE.findall(str(reply.blocks[1]))
    assert match == (str(int(RAISED.timestamp())), "2026-12-02 09:00 UTC")
    text = render_reply(reply)
    assert "2026-12-02 09:00 UTC" in text and "<!date" not in text
    assert "Gating changed: not gated → gated (the author approves each request)" in text


@pytest.mark.parametrize("kind", ALERT_KINDS)
def test_every_kind_reads_without_raw_values_or_repeats(kind: ChangeKind | NoticeKind) -> None:
    reply = alert_message(_outgoing(kind))
    texts = _texts(reply.blocks)
    first = reply.blocks[0]["text"]["text"]
    assert re.match(r"^:[a-z_]+: \*.+\*$", first), first  # one bold headline, first
    assert f"*{kind.value}*" not in " ".join(texts)  # never the raw kind
    assert "_" not in kind.value or kind.value not in " ".join(texts)
    assert kind_name(kind) in " ".join(texts) or kind_name(kind) in first
    assert not any('{"' in t or "{'" in t or "content_hash" in t for t in texts)
    assert "<!channel>" not in str(reply.blocks) and "<@U0EVIL>" not in str(reply.blocks)
    lines = [
        line.removeprefix("• ").strip()
        for t in texts
        if not t.startswith("```")
        for line in t.splitlines()
        if line.strip()
    ]
    assert len(lines) == len(set(lines)), [x for x in lines if lines.count(x) > 1]


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return slack_settings


def test_every_kind_posts_through_the_slack_stand_in_within_block_kit_limits(
    services: Services, slack_standin: SlackStandIn
) -> None:
    with transaction(services.session_factory) as session:
        for kind in ALERT_KINDS:
            payload = _payload(kind)
            raise_alert(
                session,
                kind=kind,
                title=f"{REPO}: {kind}",
                body="\n".join(payload["summary"]),
                payload=payload,
                state_fingerprint=f"fp-{kind}",
                default_destination=services.settings.alerts_channel,
                clock=services.clock,
            )
    notifier = SlackNotifier(make_client(services.settings))
    report = deliver_pending(services.session_factory, notifier=notifier, clock=services.clock)
    assert (report.delivered, report.failed, report.errors) == (len(ALERT_KINDS), 0, [])
    messages = slack_standin.messages_in(ALERTS)
    assert len(messages) == len(ALERT_KINDS)
    for message in messages:
        assert SLACK_DATE.search(str(message["blocks"]))
        assert len(message["blocks"]) <= 50


def test_the_digest_time_is_a_setting() -> None:
    trigger = digest_trigger(make_settings("sqlite://", digest_time="17:30"))
    assert [str(f) for f in trigger.fields if f.name in ("hour", "minute")] == ["17", "30"]
    assert make_settings("sqlite://").digest_time == "09:00"


@pytest.mark.parametrize("value", ["25:00", "9", "09:60", "nine", "9:00", ""])
def test_a_bad_digest_time_is_one_sentence(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(digest_time=value, _env_file=None)
    assert str(caught.value) == (
        "MODELGOV_DIGEST_TIME: expected a time of day as HH:MM in UTC, such as 09:00 or 17:30 "
        f"(got {value!r})."
    )


def test_the_scheduler_runs_the_digest_at_the_configured_time(database_url: str) -> None:
    from governance.wiring.services import build_services

    services = build_services(make_settings(database_url, digest_time="06:45"))
    try:
        scheduler = build_scheduler(services, holder="test")
        scheduler.start(paused=True)
        digest = scheduler.get_job("digest")
        assert (digest.next_run_time.hour, digest.next_run_time.minute) == (6, 45)
        scheduler.shutdown(wait=False)
    finally:
        services.close()


@pytest.mark.parametrize(
    ("kind", "summary", "extra", "headline"),
    [
        (
            NoticeKind.APPROVAL_EXPIRED,
            [f"Approval #5 of {REPO} for commercial use expired on 2026-12-01."],
            {"approval_id": 5},
            "Approval #5 expired",
        ),
        (
            NoticeKind.POLICY_VIOLATION,
            [f"{REPO} now violates the team policy.", "commercial use: denied-licenses: denied"],
            {"dry_run": True},
            "Team policy violated (dry run): commercial use: denied-licenses: denied",
        ),
        (
            NoticeKind.UPSTREAM_UNREACHABLE,
            [f"{REPO} could not be checked 3 times in a row; last error: read timed out"],
            {},
            "Hub unreachable: checks failed 3 times in a row",
        ),
        (
            NoticeKind.UPSTREAM_RECOVERED,
            [f"{REPO} answers again after 3 failed checks."],
            {},
            "Hub reachable again after 3 failed checks.",
        ),
    ],
)
def test_notices_lead_with_what_happened(
    kind: NoticeKind, summary: list[str], extra: dict[str, Any], headline: str
) -> None:
    payload = {"repo_id": REPO, "kind": kind.value, "summary": summary, **extra}
    reply = alert_message(_outgoing(kind, payload))
    assert reply.blocks[0]["text"]["text"].endswith(f" *{headline}*")
    assert reply.text == f"{REPO}: {headline}"
