"""Tests of the Slack stand-in and the request driver themselves, with the real slack_sdk
client and a real Bolt app over HTTP: if these pass against a stand-in that is kinder than
Slack, the end-to-end tests built on it prove nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.support.slack_driver import SlackDriver, state_value
from tests.support.slack_fixtures import SIGNING_SECRET, serve_wsgi, slack_standin
from tests.support.slack_standin import SlackStandIn
from tests.support.slack_standin_chat import MESSAGE_TEXT_MAX
from tests.support.slack_standin_response_urls import (
    RESPONSE_URL_GONE_STATUS,
    RESPONSE_URL_MAX_USES,
    RESPONSE_URL_TTL_SECONDS,
)

__all__ = ["slack_standin"]  # the fixture, imported for pytest

JSONDict = dict[str, Any]


def section(text: str, **extra: Any) -> JSONDict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(text: str, action_id: str = "act", value: str = "v") -> JSONDict:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }


def modal(title: str = "Request", blocks: list[JSONDict] | None = None, **extra: Any) -> JSONDict:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": blocks if blocks is not None else [section("hello")],
        **extra,
    }


@pytest.fixture
def client(slack_standin: SlackStandIn) -> WebClient:
    # No retry handlers: failures surface as they come.
    return WebClient(base_url=slack_standin.base_url, token=slack_standin.token, retry_handlers=[])


def api_error(excinfo: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(excinfo.value.response["error"])


# ---------------------------------------------------------------------------- Web API basics


def test_auth_test_answers_like_slack(client: WebClient, slack_standin: SlackStandIn) -> None:
    resp = client.auth_test()
    assert resp["ok"] is True
    assert resp["user_id"] == slack_standin.bot_user_id
    assert resp["team_id"] == slack_standin.team_id
    assert slack_standin.last("auth.test").token == slack_standin.token


def test_missing_or_wrong_token_is_refused_with_http_200(slack_standin: SlackStandIn) -> None:
    wrong = WebClient(base_url=slack_standin.base_url, token="xoxb-wrong", retry_handlers=[])
    with pytest.raises(SlackApiError) as excinfo:
        wrong.chat_postMessage(channel="C1", text="hi")
    assert api_error(excinfo) == "invalid_auth"
    assert excinfo.value.response.status_code == 200
    anonymous = WebClient(base_url=slack_standin.base_url, retry_handlers=[])
    with pytest.raises(SlackApiError) as excinfo:
        anonymous.auth_test()
    assert api_error(excinfo) == "not_authed"
    assert slack_standin.messages_in("C1") == []


def test_post_update_and_thread(client: WebClient, slack_standin: SlackStandIn) -> None:
    posted = client.chat_postMessage(channel="C1", text="card", blocks=[section("*card*")])
    assert posted["channel"] == "C1"
    assert posted["message"]["text"] == "card"
    ts = posted["ts"]
    reply = client.chat_postMessage(channel="C1", text="follow-up", thread_ts=ts)
    assert reply["message"]["thread_ts"] == ts

    updated = client.chat_update(channel="C1", ts=ts, text="decided", blocks=[section("done")])
    assert updated["ts"] == ts
    assert slack_standin.message("C1", ts)["text"] == "decided"
    assert slack_standin.message("C1", ts)["blocks"] == [section("done")]
    assert [m["text"] for m in slack_standin.thread_replies("C1", ts)] == ["follow-up"]
    assert len(slack_standin.messages_in("C1")) == 2


def test_post_by_name_answers_the_id_and_update_needs_the_id(
    client: WebClient, slack_standin: SlackStandIn
) -> None:
    posted = client.chat_postMessage(channel="#model-approvals", text="card")
    channel = posted["channel"]
    assert channel.startswith("C") and channel == slack_standin.channel_id("#model-approvals")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel="#model-approvals", ts=posted["ts"], text="decided")
    assert api_error(excinfo) == "channel_not_found"
    client.chat_update(channel=channel, ts=posted["ts"], text="decided")
    assert [m["text"] for m in slack_standin.messages_in("#model-approvals")] == ["decided"]


def test_update_of_unknown_message_is_message_not_found(client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="x")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel="C1", ts="1.000001", text="y")
    assert api_error(excinfo) == "message_not_found"


def test_post_without_text_or_blocks_is_no_text(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call("chat.postMessage", json={"channel": "C1"})
    assert api_error(excinfo) == "no_text"


def test_ephemeral_returns_message_ts(client: WebClient, slack_standin: SlackStandIn) -> None:
    resp = client.chat_postEphemeral(channel="C1", user="U0ALICE", text="only you")
    assert resp["message_ts"]
    assert slack_standin.ephemerals(user="U0ALICE")[0]["text"] == "only you"
    assert slack_standin.messages_in("C1") == []
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postEphemeral(channel="C1", user="U0NOBODY", text="x")
    assert api_error(excinfo) == "user_not_in_channel"


def test_form_encoded_bodies_are_parsed(client: WebClient, slack_standin: SlackStandIn) -> None:
    # Blocks as a JSON string in a form body, the way older clients and curl send them.
    client.api_call(
        "chat.postMessage",
        params={"channel": "C9", "text": "form", "blocks": json.dumps([section("x")])},
    )
    call = slack_standin.last("chat.postMessage")
    assert call.content_type.startswith("application/x-www-form-urlencoded")
    assert call.payload["blocks"] == [section("x")]
    assert call.ok
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call("chat.postMessage", params={"channel": "C9", "blocks": "[{not json"})
    assert api_error(excinfo) == "invalid_blocks_format"


def test_users_usergroups_and_dm(client: WebClient, slack_standin: SlackStandIn) -> None:
    user = client.users_info(user="U0ALICE")["user"]
    assert (user["name"], user["real_name"], user["tz"]) == (
        "alice",
        "Alice Approver",
        "Europe/Berlin",
    )
    with pytest.raises(SlackApiError) as excinfo:
        client.users_info(user="U0NOBODY")
    assert api_error(excinfo) == "user_not_found"

    slack_standin.set_usergroup("S0APPROVERS", ["U0ALICE", "U0CAROL"])
    assert client.usergroups_users_list(usergroup="S0APPROVERS")["users"] == [
        "U0ALICE",
        "U0CAROL",
    ]
    with pytest.raises(SlackApiError) as excinfo:
        client.usergroups_users_list(usergroup="S0NOPE")
    assert api_error(excinfo) == "no_such_subteam"

    dm = client.conversations_open(users=["U0BOB"])["channel"]["id"]
    assert dm.startswith("D")
    assert client.conversations_open(users="U0BOB")["channel"]["id"] == dm
    client.chat_postMessage(channel=dm, text="decided")
    assert slack_standin.messages_in(dm)[0]["text"] == "decided"


def test_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call("chat.frobnicate", json={"channel": "C1"})
    assert api_error(excinfo) == "unknown_method"


# ---------------------------------------------------------------------------- failures


def test_429_is_retried_once_by_the_rate_limit_handler(slack_standin: SlackStandIn) -> None:
    client = WebClient(
        base_url=slack_standin.base_url,
        token=slack_standin.token,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack_standin.fail_next("chat.postMessage", status=429, retry_after=0)
    resp = client.chat_postMessage(channel="C1", text="alert")
    assert resp["ok"] is True
    attempts = slack_standin.calls("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert [m["text"] for m in slack_standin.messages_in("C1")] == ["alert"]


def test_429_without_handler_surfaces_retry_after(
    client: WebClient, slack_standin: SlackStandIn
) -> None:
    slack_standin.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C1", text="alert")
    assert excinfo.value.response.status_code == 429
    assert excinfo.value.response.headers["Retry-After"] == "7"
    assert api_error(excinfo) == "ratelimited"
    assert slack_standin.messages_in("C1") == []
    # The injected failure is used up: the next call goes through.
    assert client.chat_postMessage(channel="C1", text="alert")["ok"] is True


def test_server_error_is_html_and_retried_by_server_error_handler(
    client: WebClient, slack_standin: SlackStandIn
) -> None:
    slack_standin.fail_next("chat.postMessage", status=503)
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C1", text="x")
    assert excinfo.value.response.status_code == 503
    assert excinfo.value.response["ok"] is False

    retrying = WebClient(
        base_url=slack_standin.base_url,
        token=slack_standin.token,
        retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)],
    )
    slack_standin.fail_next("chat.postMessage", status=500)
    assert retrying.chat_postMessage(channel="C1", text="y")["ok"] is True
    assert [c.status for c in slack_standin.calls("chat.postMessage")] == [503, 500, 200]
    assert [m["text"] for m in slack_standin.messages_in("C1")] == ["y"]


def test_ratelimited_error_at_http_200(client: WebClient, slack_standin: SlackStandIn) -> None:
    slack_standin.fail_next("views.publish", status=200, error="ratelimited")
    with pytest.raises(SlackApiError) as excinfo:
        client.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": []})
    assert excinfo.value.response.status_code == 200
    assert api_error(excinfo) == "ratelimited"
    assert slack_standin.home_view("U0ALICE") is None


def test_slow_answer_still_answers(client: WebClient, slack_standin: SlackStandIn) -> None:
    slack_standin.slow_next("auth.test", delay=0.05)
    assert client.auth_test()["ok"] is True
    assert slack_standin.last("auth.test").status == 200


def test_clear_forgets_calls_and_failures(client: WebClient, slack_standin: SlackStandIn) -> None:
    client.chat_postMessage(channel="C1", text="x")
    slack_standin.fail_next("chat.postMessage", n=3)
    slack_standin.clear()
    assert slack_standin.calls() == []
    assert client.chat_postMessage(channel="C1", text="y")["ok"] is True
    assert [m["text"] for m in slack_standin.messages_in("C1")] == ["y"]


# ---------------------------------------------------------------------------- Block Kit limits


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([section(f"b{i}") for i in range(51)], "/blocks"),
        ([section("x" * 3001)], "/blocks/0/text/text"),
        (
            [
                {
                    "type": "section",
                    "fields": [{"type": "mrkdwn", "text": "f"} for _ in range(11)],
                }
            ],
            "/blocks/0/fields",
        ),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/text/text"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "/blocks/0/text/type"),
        ([{"type": "actions", "elements": [button("b" * 76)]}], "/elements/0/text/text"),
        ([{"type": "actions", "elements": [button("ok", value="v" * 2001)]}], "/value"),
        ([{"type": "carousel_of_doom"}], "/blocks/0/type"),
        ([{"text": {"type": "mrkdwn", "text": "no type"}}], "/blocks/0"),
        ([{"type": "section"}], "/blocks/0"),
        ([section("")], "/blocks/0/text/text"),
        ([section("a", block_id="same"), section("b", block_id="same")], "/blocks/1/block_id"),
        ([{"type": "actions", "elements": []}], "/blocks/0/elements"),
    ],
    ids=[
        "51-blocks",
        "section-3001",
        "11-fields",
        "header-151",
        "header-mrkdwn",
        "button-76",
        "button-value-2001",
        "unknown-type",
        "missing-type",
        "section-without-text",
        "empty-text",
        "duplicate-block-id",
        "empty-actions",
    ],
)
def test_broken_blocks_are_invalid_blocks(
    client: WebClient, slack_standin: SlackStandIn, blocks: list[JSONDict], pointer: str
) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C1", text="fallback", blocks=blocks)
    assert api_error(excinfo) == "invalid_blocks"
    messages = excinfo.value.response["response_metadata"]["messages"]
    assert any(pointer in m and m.startswith("[ERROR]") for m in messages), messages
    assert slack_standin.messages_in("C1") == []


def test_blocks_exactly_at_the_limits_are_accepted(client: WebClient) -> None:
    blocks: list[JSONDict] = [section("x" * 3000)]
    blocks.append({"type": "header", "text": {"type": "plain_text", "text": "h" * 150}})
    blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 10})
    blocks.append({"type": "actions", "elements": [button("b" * 75)]})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}]})
    blocks.append({"type": "divider"})
    blocks += [section(f"b{i}") for i in range(50 - len(blocks))]
    assert len(blocks) == 50
    assert client.chat_postMessage(channel="C1", text="t", blocks=blocks)["ok"] is True


def test_chat_update_validates_blocks_too(client: WebClient, slack_standin: SlackStandIn) -> None:
    ts = client.chat_postMessage(channel="C1", text="t", blocks=[section("ok")])["ts"]
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel="C1", ts=ts, text="t", blocks=[section("x" * 3001)])
    assert api_error(excinfo) == "invalid_blocks"
    assert slack_standin.message("C1", ts)["blocks"] == [section("ok")]


def test_text_over_40000_is_msg_too_long(client: WebClient) -> None:
    assert client.chat_postMessage(channel="C1", text="x" * MESSAGE_TEXT_MAX)["ok"] is True
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C1", text="x" * (MESSAGE_TEXT_MAX + 1))
    assert api_error(excinfo) == "msg_too_long"


@pytest.mark.parametrize(
    ("view", "pointer"),
    [
        (modal(title="t" * 25), "/view/title/text"),
        (modal(submit={"type": "plain_text", "text": "s" * 25}), "/view/submit/text"),
        (modal(blocks=[section(f"b{i}") for i in range(101)]), "/view/blocks"),
        (modal(private_metadata="m" * 3001), "/view/private_metadata"),
        (
            modal(
                blocks=[
                    {
                        "type": "input",
                        "block_id": "reason",
                        "label": {"type": "plain_text", "text": "Reason"},
                        "element": {"type": "plain_text_input", "action_id": "value"},
                    }
                ]
            ),
            "/view",
        ),
        ({"type": "modal", "blocks": []}, "/view"),
    ],
    ids=[
        "title-25",
        "submit-25",
        "101-blocks",
        "metadata-3001",
        "input-without-submit",
        "no-title",
    ],
)
def test_broken_modals_are_invalid_arguments(
    client: WebClient, slack_standin: SlackStandIn, view: JSONDict, pointer: str
) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=slack_standin.new_trigger_id(), view=view)
    assert api_error(excinfo) == "invalid_arguments"
    messages = excinfo.value.response["response_metadata"]["messages"]
    assert any(f"[json-pointer:{pointer}" in m for m in messages), messages
    assert slack_standin.opened_views() == []


def test_modal_at_the_limits_opens_and_updates(
    client: WebClient, slack_standin: SlackStandIn
) -> None:
    view = modal(
        title="t" * 24,
        blocks=[section(f"b{i}") for i in range(100)],
        private_metadata="m" * 3000,
        callback_id="request",
    )
    opened = client.views_open(trigger_id=slack_standin.new_trigger_id(), view=view)["view"]
    assert opened["id"].startswith("V")
    assert opened["private_metadata"] == "m" * 3000
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Done"))
    assert updated["view"]["id"] == opened["id"]
    assert slack_standin.view(opened["id"])["title"]["text"] == "Done"
    with pytest.raises(SlackApiError) as excinfo:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Stale"))
    assert api_error(excinfo) == "hash_conflict"
    with pytest.raises(SlackApiError) as excinfo:
        client.views_update(view_id="V404", view=modal())
    assert api_error(excinfo) == "not_found"


def test_home_tab_publish_and_limits(client: WebClient, slack_standin: SlackStandIn) -> None:
    home = {"type": "home", "blocks": [section(f"b{i}") for i in range(100)]}
    assert client.views_publish(user_id="U0ALICE", view=home)["view"]["type"] == "home"
    assert len(slack_standin.home_view("U0ALICE")["blocks"]) == 100  # type: ignore[index]
    too_many = {"type": "home", "blocks": [section(f"b{i}") for i in range(101)]}
    with pytest.raises(SlackApiError) as excinfo:
        client.views_publish(user_id="U0ALICE", view=too_many)
    assert api_error(excinfo) == "invalid_arguments"
    assert len(slack_standin.home_view("U0ALICE")["blocks"]) == 100  # type: ignore[index]


def test_trigger_id_expires_after_three_seconds(slack_standin: SlackStandIn) -> None:
    slack_standin.strict_trigger_ids = True
    client = WebClient(base_url=slack_standin.base_url, token=slack_standin.token)
    trigger = slack_standin.new_trigger_id()
    slack_standin.advance_clock(4)
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=trigger, view=modal())
    assert api_error(excinfo) == "expired_trigger_id"
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id="made.up", view=modal())
    assert api_error(excinfo) == "invalid_trigger_id"


# ---------------------------------------------------------------------------- response_url


def test_response_url_allows_five_uses_then_refuses(slack_standin: SlackStandIn) -> None:
    url = slack_standin.new_response_url(channel="C1", user_id="U0ALICE")
    webhook = WebhookClient(url)
    for i in range(RESPONSE_URL_MAX_USES):
        resp = webhook.send(text=f"update {i}")
        assert (resp.status_code, resp.body) == (200, "ok")
    sixth = webhook.send(text="one too many")
    assert sixth.status_code == RESPONSE_URL_GONE_STATUS
    assert sixth.body == "expired_url"
    assert slack_standin.response_url_uses(url) == RESPONSE_URL_MAX_USES
    assert [p.status for p in slack_standin.response_url_posts(url)] == [200] * 5 + [404]
    assert len(slack_standin.ephemerals(user="U0ALICE")) == RESPONSE_URL_MAX_USES


def test_response_url_limit_holds_under_concurrent_posts(slack_standin: SlackStandIn) -> None:
    url = slack_standin.new_response_url(channel="C1")
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(
            pool.map(lambda i: WebhookClient(url).send(text=f"{i}").status_code, range(12))
        )
    assert sorted(statuses) == [200] * RESPONSE_URL_MAX_USES + [RESPONSE_URL_GONE_STATUS] * 7


def test_concurrent_posts_get_distinct_ts(client: WebClient, slack_standin: SlackStandIn) -> None:
    with ThreadPoolExecutor(max_workers=10) as pool:
        ts = list(
            pool.map(lambda i: client.chat_postMessage(channel="C1", text=f"{i}")["ts"], range(20))
        )
    assert len(set(ts)) == 20
    assert len(slack_standin.messages_in("C1")) == 20


def test_response_url_expires_after_thirty_minutes(slack_standin: SlackStandIn) -> None:
    url = slack_standin.new_response_url()
    slack_standin.advance_clock(RESPONSE_URL_TTL_SECONDS + 1)
    resp = WebhookClient(url).send(text="late")
    assert resp.status_code == RESPONSE_URL_GONE_STATUS


def test_response_url_replace_and_in_channel(
    client: WebClient, slack_standin: SlackStandIn
) -> None:
    ts = client.chat_postMessage(channel="C1", text="card")["ts"]
    url = slack_standin.new_response_url(channel="C1", message_ts=ts, kind="actions")
    webhook = WebhookClient(url)
    assert webhook.send(text="approved", replace_original=True).status_code == 200
    assert slack_standin.message("C1", ts)["text"] == "approved"
    assert webhook.send(text="for all", response_type="in_channel").status_code == 200
    assert [m["text"] for m in slack_standin.messages_in("C1")] == ["approved", "for all"]
    post = slack_standin.response_url_posts(url)[0]
    assert post.replace_original is True
    assert slack_standin.response_url_posts(url)[1].response_type == "in_channel"
    assert webhook.send(delete_original=True).status_code == 200
    assert [m["text"] for m in slack_standin.messages_in("C1")] == ["for all"]


def test_response_url_rejects_broken_blocks(slack_standin: SlackStandIn) -> None:
    url = slack_standin.new_response_url()
    resp = WebhookClient(url).send(text="t", blocks=[section(f"b{i}") for i in range(51)])
    assert (resp.status_code, resp.body) == (400, "invalid_blocks")
    assert slack_standin.response_url_uses(url) == 0


def test_wait_for_times_out_with_what_it_saw(slack_standin: SlackStandIn) -> None:
    with pytest.raises(TimeoutError, match=r"chat\.update"):
        slack_standin.wait_for("chat.update", timeout=0.1)


# ---------------------------------------------------------------------------- driver signing


def test_driver_signs_like_slack() -> None:
    driver = SlackDriver("http://127.0.0.1:1", SIGNING_SECRET)
    verifier = SignatureVerifier(SIGNING_SECRET)
    body = driver.slash_command_body("list", user_id="U0ALICE", channel_id="C1")
    good = driver.prepare(body, "application/x-www-form-urlencoded")
    assert good.headers["X-Slack-Signature"].startswith("v0=")
    assert verifier.is_valid_request(good.body, good.headers)
    for broken in (
        driver.prepare(body, "application/x-www-form-urlencoded", forged=True),
        driver.prepare(body, "application/x-www-form-urlencoded", stale=True),
        driver.prepare(body, "application/x-www-form-urlencoded", unsigned=True),
    ):
        assert not verifier.is_valid_request(broken.body, broken.headers)
    # A body changed after signing no longer verifies.
    assert not verifier.is_valid_request(good.body + "&x=1", good.headers)


def test_slash_command_body_has_slacks_fields() -> None:
    from urllib.parse import parse_qs

    driver = SlackDriver("http://127.0.0.1:1", SIGNING_SECRET)
    body = driver.slash_command_body(
        "request org/model <!channel>",
        user_id="U0BOB",
        channel_id="C1",
        response_url="http://x/hooks/1",
    )
    fields = {k: v[0] for k, v in parse_qs(body).items()}
    assert fields["command"] == "/models"
    assert fields["text"] == "request org/model <!channel>"
    assert fields["response_url"] == "http://x/hooks/1"
    for key in ("team_id", "team_domain", "channel_id", "user_id", "user_name", "trigger_id"):
        assert fields[key]


# ---------------------------------------------------------------------------- Bolt over HTTP


@pytest.fixture
def bolt_app(slack_standin: SlackStandIn) -> App:
    app = App(
        signing_secret=SIGNING_SECRET,
        client=WebClient(base_url=slack_standin.base_url, token=slack_standin.token),
        token_verification_enabled=False,
    )

    @app.command("/models")
    def models(ack: Ack, command: JSONDict, respond: Respond) -> None:
        ack(text=f"working on {command['text']}")
        respond(text=f"done: {command['text']}", response_type="in_channel")

    @app.action("approve")
    def approve(ack: Ack, body: JSONDict, client: WebClient) -> None:
        ack()
        client.chat_update(
            channel=body["container"]["channel_id"],
            ts=body["container"]["message_ts"],
            text=f"approved by <@{body['user']['id']}>: {body['actions'][0]['value']}",
        )

    @app.view("request")
    def request(ack: Ack, view: JSONDict) -> None:
        reason = view["state"]["values"]["reason"]["value"]["value"]
        if not reason:
            ack(response_action="errors", errors={"reason": "A reason is required"})
        else:
            ack()

    @app.event("app_home_opened")
    def home(event: JSONDict, client: WebClient) -> None:
        client.views_publish(
            user_id=event["user"], view={"type": "home", "blocks": [section("dashboard")]}
        )

    return app


@pytest.fixture
def driver(bolt_app: App) -> Iterator[SlackDriver]:
    with serve_wsgi(SlackRequestHandler(bolt_app)) as base_url:
        yield SlackDriver(base_url, SIGNING_SECRET)


def test_bolt_acks_a_signed_slash_command(driver: SlackDriver, slack_standin: SlackStandIn) -> None:
    url = slack_standin.new_response_url(channel="C1", user_id="U0ALICE")
    resp = driver.slash_command("list", user_id="U0ALICE", channel_id="C1", response_url=url)
    assert resp.status == 200
    assert resp.text == "working on list"  # Bolt acks a bare text as text/plain
    slack_standin.wait_for("response_url")
    post = slack_standin.response_url_posts(url)[0]
    assert post.payload["text"] == "done: list"
    assert [m["text"] for m in slack_standin.messages_in("C1")] == ["done: list"]


@pytest.mark.parametrize("breakage", ["forged", "stale", "unsigned"])
def test_bolt_refuses_forged_stale_and_unsigned(
    driver: SlackDriver, slack_standin: SlackStandIn, breakage: str
) -> None:
    url = slack_standin.new_response_url(channel="C1")
    resp = driver.slash_command(
        "list", user_id="U0ALICE", channel_id="C1", response_url=url, **{breakage: True}
    )
    assert resp.status == 401
    assert slack_standin.response_url_posts() == []


def test_bolt_block_action_updates_the_card(
    driver: SlackDriver, slack_standin: SlackStandIn
) -> None:
    client = WebClient(base_url=slack_standin.base_url, token=slack_standin.token)
    card = client.chat_postMessage(
        channel="C1",
        text="request",
        blocks=[
            section("request"),
            {"type": "actions", "block_id": "decide", "elements": [button("Approve", "approve")]},
        ],
    )
    resp = driver.block_action(
        "approve",
        "req-1",
        user_id="U0CAROL",
        channel_id="C1",
        message_ts=card["ts"],
        message=card["message"],
    )
    assert resp.status == 200
    slack_standin.wait_for("chat.update")
    assert slack_standin.message("C1", card["ts"])["text"] == "approved by <@U0CAROL>: req-1"


def test_bolt_view_submission_and_errors(driver: SlackDriver) -> None:
    ok = driver.view_submission(
        "request", state_value("reason", "value", "for evals"), user_id="U0BOB"
    )
    assert (ok.status, ok.body) == (200, b"")
    refused = driver.view_submission("request", state_value("reason", "value", ""), user_id="U0BOB")
    assert refused.status == 200
    assert refused.json() == {
        "response_action": "errors",
        "errors": {"reason": "A reason is required"},
    }


def test_bolt_home_opened_publishes(driver: SlackDriver, slack_standin: SlackStandIn) -> None:
    resp = driver.app_home_opened("U0ALICE")
    assert resp.status == 200
    slack_standin.wait_for("views.publish")
    assert slack_standin.home_view("U0ALICE")["blocks"] == [section("dashboard")]  # type: ignore[index]


def test_bolt_url_verification(driver: SlackDriver) -> None:
    resp = driver.url_verification("challenge-123")
    assert resp.status == 200
    assert resp.json() == {"challenge": "challenge-123"}
