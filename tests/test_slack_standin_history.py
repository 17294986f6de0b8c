"""The stand-in's reading side against the real slack_sdk client: history and replies with
metadata only on request, time bounds, cursors, scopes from the manifest, membership, late
answers and per-channel rate limits, answered the way Slack answers them."""

from __future__ import annotations

import socket

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.support.slack_fixtures import slack_standin
from tests.support.slack_standin import SlackStandIn, running_standin
from tests.support.slack_standin_auth import manifest_scopes

__all__ = ["slack_standin"]

META = {"event_type": "modelgov_alert", "event_payload": {"dedupe_key": "k1", "alert_id": 1}}


@pytest.fixture
def client(slack_standin: SlackStandIn) -> WebClient:
    return WebClient(token=slack_standin.token, base_url=slack_standin.base_url, retry_handlers=[])


def test_history_shows_metadata_only_when_asked(client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C1", text="hi", metadata=META)
    plain = client.conversations_history(channel="C1")
    assert "metadata" not in plain["messages"][0]
    full = client.conversations_history(channel="C1", include_all_metadata=True)
    assert full["messages"][0]["metadata"] == META
    assert full["messages"][0]["ts"] == posted["ts"]


def test_history_is_newest_first_bounded_and_paginated(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(5)]
    client.chat_postMessage(channel="C1", text="reply", thread_ts=stamps[0])
    first = client.conversations_history(channel="C1", limit=2)
    assert [m["ts"] for m in first["messages"]] == stamps[:-3:-1]
    assert first["has_more"] is True
    rest = client.conversations_history(
        channel="C1", limit=10, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["ts"] for m in rest["messages"]] == stamps[2::-1]  # the reply is not listed
    assert rest["has_more"] is False and rest["response_metadata"]["next_cursor"] == ""
    after = client.conversations_history(channel="C1", oldest=stamps[2])
    assert [m["ts"] for m in after["messages"]] == stamps[:2:-1]  # oldest is exclusive
    inclusive = client.conversations_history(channel="C1", oldest=stamps[2], inclusive=True)
    assert len(inclusive["messages"]) == 3


def test_replies_list_the_thread_oldest_first(client: WebClient) -> None:
    root = client.chat_postMessage(channel="C1", text="root")["ts"]
    reply = client.chat_postMessage(channel="C1", text="r", thread_ts=root, metadata=META)["ts"]
    thread = client.conversations_replies(channel="C1", ts=root, include_all_metadata=True)
    assert [m["ts"] for m in thread["messages"]] == [root, reply]
    assert thread["messages"][1]["metadata"] == META
    with pytest.raises(SlackApiError) as missing:
        client.conversations_replies(channel="C1", ts="1.000001")
    assert missing.value.response["error"] == "thread_not_found"


def test_history_needs_an_id_membership_and_the_scope(slack_standin: SlackStandIn) -> None:
    client = WebClient(token=slack_standin.token, base_url=slack_standin.base_url)
    with pytest.raises(SlackApiError) as by_name:
        client.conversations_history(channel="#general")
    assert by_name.value.response["error"] == "channel_not_found"
    slack_standin.bot_member_of = {"C2"}
    with pytest.raises(SlackApiError) as outside:
        client.conversations_history(channel="C1")
    assert outside.value.response["error"] == "not_in_channel"
    client.conversations_join(channel="C1")
    assert client.conversations_history(channel="C1")["ok"]
    with running_standin(scopes=manifest_scopes() - {"im:history"}) as narrow:
        other = WebClient(token=narrow.token, base_url=narrow.base_url)
        with pytest.raises(SlackApiError) as scope:
            other.conversations_history(channel="D0SOMEONE")
        assert scope.value.response["error"] == "missing_scope"
        assert scope.value.response["needed"] == "im:history"


def test_the_manifest_grants_what_delivery_reads() -> None:
    assert {"channels:history", "groups:history", "im:history"} <= manifest_scopes()


def test_channels_posted_by_name_are_listed(client: WebClient, slack_standin: SlackStandIn) -> None:
    posted = client.chat_postMessage(channel="#model-alerts", text="x")
    listed = client.conversations_list(types="public_channel,private_channel")
    assert {"id": posted["channel"], "name": "model-alerts"}.items() <= listed["channels"][
        0
    ].items()


def test_a_late_answer_is_done_before_it_is_answered(
    slack_standin: SlackStandIn,
) -> None:
    client = WebClient(
        token=slack_standin.token, base_url=slack_standin.base_url, timeout=1, retry_handlers=[]
    )
    slack_standin.answer_late("chat.postMessage", 1, delay=2)
    with pytest.raises((TimeoutError, socket.timeout)):
        client.chat_postMessage(channel="C1", text="late")
    assert [m["text"] for m in slack_standin.messages_in("C1")] == ["late"]


def test_rate_limit_is_per_channel_with_retry_after(
    client: WebClient, slack_standin: SlackStandIn
) -> None:
    slack_standin.limit_rate("chat.postMessage", per_second=1)
    client.chat_postMessage(channel="C1", text="one")
    client.chat_postMessage(channel="C2", text="other channel")
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel="C1", text="two")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "1"
    assert limited.value.response["error"] == "ratelimited"
    assert len(slack_standin.messages_in("C1")) == 1
