"""Kept answers (bot.grammar.read_cache): reused only while nothing changed, on both databases.

Every test changes the data through a path the cache never sees (another session, plain SQL,
the watcher's services) and checks the next answer shows the change.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from bot.grammar.read_cache import ReadCache
from bot.render.blocks import Reply, error_reply, message_reply
from governance.core.db import create_db_engine, transaction
from governance.flows.decide_with_policy import approve
from governance.registry.models import IntendedUse
from governance.registry.requests import request_approval
from governance.wiring.services import Services
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

TODAY = date(2026, 12, 2)


class Counter:
    """A compute function that says how often it ran."""

    def __init__(self, reply: Reply | None = None) -> None:
        self.runs = 0
        self.reply = reply or message_reply("fresh")

    def __call__(self) -> Reply:
        self.runs += 1
        return self.reply


def _request(services: Services, repo: str) -> int:
    with transaction(services.session_factory) as session:
        approval = request_approval(
            session,
            repo_id=repo,
            use=IntendedUse.RESEARCH,
            reason="test",
            requester=CAROL,
            clock=services.clock,
        )
        return approval.id


def test_same_words_same_day_unchanged_data_compute_once(services: Services) -> None:
    cache = ReadCache(services.engine)
    compute = Counter()
    for _ in range(3):
        assert cache.answer(["list"], TODAY, compute).text == "fresh"
    assert compute.runs == 1
    cache.answer(["list", "approved"], TODAY, compute)  # other words
    cache.answer(["list"], date(2026, 12, 3), compute)  # another day (expiry dates move)
    assert compute.runs == 3


def test_any_committed_change_recomputes(services: Services) -> None:
    cache = ReadCache(services.engine)
    compute = Counter()
    cache.answer(["list"], TODAY, compute)
    _request(services, "acme/model-a")  # the registry's own write
    cache.answer(["list"], TODAY, compute)
    assert compute.runs == 2
    other = create_db_engine(services.settings.database_url)  # another process's connection
    try:
        with other.begin() as connection:
            connection.execute(text("UPDATE approvals SET reason = 'changed by SQL'"))
    finally:
        other.dispose()
    cache.answer(["list"], TODAY, compute)
    cache.answer(["list"], TODAY, compute)
    assert compute.runs == 3


def test_a_failure_is_not_kept(services: Services) -> None:
    cache = ReadCache(services.engine)
    compute = Counter(error_reply("No model called acme/nothing is tracked."))
    cache.answer(["info", "acme/nothing"], TODAY, compute)
    cache.answer(["info", "acme/nothing"], TODAY, compute)
    assert compute.runs == 2


def test_an_unreadable_generation_keeps_nothing_and_still_answers(services: Services) -> None:
    cache = ReadCache(services.engine)
    with services.engine.begin() as connection:
        connection.execute(text("DROP TABLE data_generation"))
    compute = Counter()
    assert cache.answer(["list"], TODAY, compute).text == "fresh"
    assert cache.answer(["list"], TODAY, compute).text == "fresh"
    assert compute.runs == 2


@pytest.fixture
def settings(slack_settings):  # type: ignore[no-untyped-def]
    return slack_settings


def test_slack_list_and_info_show_a_decision_made_elsewhere_at_once(harness: Harness) -> None:
    services = harness.services
    approval_id = _request(services, "acme/model-a")
    first = harness.answer("list", user=CAROL)
    assert "requested" in str(first) and "approved" not in str(first)
    info = harness.answer("info acme/model-a", user=CAROL)
    assert harness.answer("info acme/model-a", user=CAROL) == info  # kept: unchanged data
    with transaction(services.session_factory) as session:  # not through Slack at all
        approve(
            session,
            ref=str(approval_id),
            actor=BOB,
            approvers=services.approvers,
            clock=services.clock,
        )
    assert "approved" in str(harness.answer("list", user=CAROL))
    assert "approved" in str(harness.answer("info acme/model-a", user=ALICE))
