"""The /models grammar: parsing, usage help, escaping, and hostile input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.grammar.dispatch import run_text, tokenize
from bot.grammar.spec.invocation import Invocation
from bot.render.blocks import escape
from governance.core.db import transaction
from governance.core.errors import InvalidInput
from governance.registry.models import Approval, AuditEvent, TrackedModel
from governance.wiring.services import Services
from tests.support.blocks_walk import mrkdwn_texts

REPO = "meta-llama/Llama-3.1-8B-Instruct"


def run(services: Services, text: str, user: str = "alice"):  # type: ignore[no-untyped-def]
    return run_text(text, Invocation(services=services, user=user))


def _row_counts(services: Services) -> tuple[int, int, int]:
    with transaction(services.session_factory) as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(t)) or 0
            for t in (TrackedModel, Approval, AuditEvent)
        )


def test_escape_order() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert escape("&lt;") == "&amp;lt;"


def test_tokenize_handles_smart_quotes_and_unbalanced_quotes() -> None:
    assert tokenize("approve x/y --conditions \u201cno PII, ever\u201d") == [
        "approve",
        "x/y",
        "--conditions",
        "no PII, ever",
    ]
    with pytest.raises(InvalidInput, match="quote is not closed"):
        tokenize('approve x/y --conditions "open')


def test_full_flow_through_the_grammar(services: Services) -> None:
    reply = run(services, f"/models request {REPO} --use commercial need it for support bot")
    assert reply.ok, reply.text
    assert reply.data["state"] == "requested" and reply.data["use"] == "commercial"
    assert reply.data["reason"] == "need it for support bot"
    reply = run(services, f'approve {REPO} --conditions "no PII" --expires 2027-01-31', user="bob")
    assert reply.ok, reply.text
    assert reply.data["conditions"] == "no PII" and reply.data["expires_on"] == "2027-01-31"
    listed = run(services, "list approved --use commercial", user="carol")
    assert [a["repo_id"] for a in listed.data["approvals"]] == [REPO]
    assert run(services, "list pending").data["approvals"] == []
    info = run(services, f"info {REPO}")
    assert info.ok and "approved" in info.text
    history = run(services, f"history {REPO}")
    assert [e["action"] for e in history.data["events"]] == [
        "model_tracked",
        "requested",
        "approved",
    ]


def test_request_defaults_to_internal_use(services: Services) -> None:
    assert run(services, f"request {REPO}").data["use"] == "internal"


def test_reject_and_revoke_take_the_rest_as_reason(services: Services) -> None:
    run(services, f"request {REPO} --use research")
    reply = run(services, f"reject {REPO} not for us, sorry", user="bob")
    assert reply.ok and reply.data["decision_reason"] == "not for us, sorry"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("frobnicate", "Unknown subcommand"),
        ("request", "needs more arguments"),
        ("request a/b --use", "--use needs a value"),
        ("request a/b --use hacker", "Unknown intended use 'hacker'"),
        ("request a/b --color red", "has no option --color"),
        ("approve a/b c/d", "takes fewer arguments"),
        ("approve a/b --expires tomorrow", "expected YYYY-MM-DD"),
        ("approve a/b --expires 2020-01-01", "not in the future"),
        ("reject a/b", "needs more arguments"),
        ("list bogus", "Unknown state"),
        ("info llama", "namespace/name"),
        ("request " + "x" * 10_000, "keep it under 4,000"),
        ('request a/b "unclosed', "quote is not closed"),
        ("request a/b\x00 reason", "characters the Hub does not allow"),
        ("request a/b <!channel> \x07 bell", "control characters"),
        ("request \u202eevil/name", "characters the Hub does not allow"),
        ("request org/模型", "characters the Hub does not allow"),
        ("info <!channel>/x", "characters the Hub does not allow"),
    ],
)
def test_bad_input_gets_one_sentence_and_writes_nothing(
    services: Services, text: str, fragment: str
) -> None:
    before = _row_counts(services)
    reply = run(services, text, user="bob")
    assert not reply.ok
    assert fragment in reply.text
    assert _row_counts(services) == before
    if "Unknown subcommand" not in reply.text:  # help lists commands on purpose
        assert "\n" not in reply.text and "Traceback" not in reply.text
        assert len(reply.text) < 400


def test_empty_text_shows_help(services: Services) -> None:
    for text in ("", "   ", "/models", "help"):
        reply = run(services, text)
        assert reply.ok and "request <repo>" in reply.text


def test_user_text_is_escaped_in_every_mrkdwn_field(services: Services) -> None:
    reply = run(services, f"request {REPO} <!channel> & <https://evil|click> *bold*")
    assert reply.ok
    rendered = list(mrkdwn_texts(reply.blocks))
    assert rendered and all("<!channel>" not in t and "<https" not in t for t in rendered)
    assert any("&lt;!channel&gt; &amp; &lt;https://evil|click&gt;" in t for t in rendered)
    history = run(services, f"history {REPO}")
    assert all("<!channel>" not in t for t in mrkdwn_texts(history.blocks))


def test_unexpected_errors_are_logged_not_shown(services: Services) -> None:
    services.engine.dispose()
    services.session_factory.configure(bind=None)  # break the database on purpose
    reply = run(services, "list")
    assert not reply.ok
    assert "Something went wrong on our side" in reply.text and "reference" in reply.text
