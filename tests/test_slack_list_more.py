"""`/models list` in Slack a page at a time: the More button shows the next page, to the person
who clicked only (through the click's response_url), and runs nothing but a `list`."""

from __future__ import annotations

from typing import Any

import pytest

from bot.grammar.dispatch import run_text
from bot.grammar.spec.invocation import Invocation
from bot.render.registry import ACTION_LIST_MORE
from governance.core.config import Settings
from tests.support.slack_harness import (
    ALICE,
    BOB,
    CAROL,
    GENERAL,
    Harness,
    harness,
    slack_settings,
    slack_standin,
)

__all__ = ["harness", "slack_settings", "slack_standin"]

REPOS = [f"org/model-{i:02d}" for i in range(45)]


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return slack_settings


@pytest.fixture
def listed(harness: Harness) -> Harness:
    invocation = Invocation(services=harness.services, user=CAROL)
    for repo in REPOS:
        assert run_text(f"request {repo} --use research", invocation).ok
    return harness


def _more(message: dict[str, Any]) -> dict[str, Any] | None:
    buttons = [
        b["accessory"]
        for b in message.get("blocks", [])
        if b.get("accessory", {}).get("action_id") == ACTION_LIST_MORE
    ]
    assert len(buttons) <= 1
    return buttons[0] if buttons else None


def _repos(message: dict[str, Any]) -> list[str]:
    lines = message["text"].splitlines()[1:]
    return [line.split()[1] for line in lines if line.startswith("#")]


def _click_more(h: Harness, button: dict[str, Any], user: str = ALICE) -> dict[str, Any]:
    url = h.slack.new_response_url(channel=GENERAL, user_id=user, kind="actions")
    resp = h.driver.block_action(
        ACTION_LIST_MORE,
        button["value"],
        user_id=user,
        channel_id=GENERAL,
        message_ts="1700000000.000100",
        is_ephemeral=True,
        response_url=url,
    )
    assert resp.status == 200 and resp.body == b""  # acked at once, empty
    h.settle()
    [post] = h.slack.response_url_posts(url)
    assert post.status == 200, post  # the stand-in checked the blocks against Slack's limits
    assert post.response_type == "ephemeral"
    return dict(post.payload)


def test_more_walks_every_page_once(listed: Harness) -> None:
    first = listed.command("list", user=ALICE).json()
    assert first["response_type"] == "ephemeral"
    assert "page 1 of 3 (45 requests), `list --page 2` for more." in first["text"]
    seen = _repos(first)
    button = _more(first)
    assert button is not None and button["text"]["text"] == "More"
    assert button["value"] == "list --page 2"
    pages = [first]
    while button is not None:
        page = _click_more(listed, button)
        pages.append(page)
        seen += _repos(page)
        button = _more(page)
    assert len(pages) == 3
    assert "page 3 of 3 (45 requests)." in pages[-1]["text"]
    assert seen == list(reversed(REPOS))  # each once, newest first


def test_more_keeps_the_filters(listed: Harness) -> None:
    invocation = Invocation(services=listed.services, user=ALICE)
    assert run_text("approve org/model-00", invocation).ok
    first = listed.command("list pending --use research --limit 10", user=BOB).json()
    button = _more(first)
    assert button is not None
    assert button["value"] == "list pending --use research --limit 10 --page 2"
    second = _click_more(listed, button, user=BOB)
    assert "page 2 of 5 (44 requests)" in second["text"]
    assert len(_repos(second)) == 10
    assert "org/model-00" not in second["text"]


def test_a_forged_more_runs_nothing_but_a_list(listed: Harness) -> None:
    for value in ("approve #1", "request org/evil", "", "list --page 99"):
        reply = _click_more(listed, {"value": value}, user=BOB)
        assert reply["text"].startswith(("That More button is out of date", "There is no page"))
    pending = run_text("list pending", Invocation(services=listed.services, user=BOB))
    assert pending.data["page"]["total"] == 45  # nothing was approved or requested
    assert listed.slack.calls("chat.postMessage") == []


def test_help_page_of_one_subcommand_in_slack(harness: Harness) -> None:
    page = harness.command("help list", user=CAROL).json()
    assert page["response_type"] == "ephemeral"
    assert page["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "/models list"},
    }
    shown = str(page["blocks"])
    for part in ("`--limit N`", "`--page N`", "`/models list --limit 10 --page 2`"):
        assert part in shown
    unknown = harness.command("help frobnicate", user=CAROL).json()
    assert unknown["text"].startswith("There is no subcommand 'frobnicate'; the subcommands are:")
    assert len(unknown["blocks"]) == 1
