"""bot.slack.delivery.kept_acks: a kept answer's ack body is made once and says exactly what
Bolt's ``ack(**ack_payload(reply))`` says."""

from __future__ import annotations

import json

from slack_bolt import Ack

from bot.render.blocks import Reply, section
from bot.slack.delivery.kept_acks import KeptAcks
from bot.slack.delivery.respond import ack_payload


def _reply() -> Reply:
    return Reply(
        text="org/model-a <!channel> & co",
        blocks=[section("*org/model-a* approved for `research`")],
    )


def test_the_body_is_what_bolts_ack_sends() -> None:
    reply = _reply()
    ack = Ack()
    ack(**ack_payload(reply))
    assert ack.response is not None
    ours = KeptAcks().response(reply)
    assert ours.status == ack.response.status == 200
    assert json.loads(ours.body) == json.loads(ack.response.body)
    assert ours.headers["content-type"] == ack.response.headers["content-type"]
    assert "&lt;!channel&gt;" in json.loads(ours.body)["text"]  # escaped like any ack


def test_a_body_is_serialized_once_per_reply_and_never_for_another() -> None:
    acks = KeptAcks(size=2)
    first, second = _reply(), Reply(text="something else", in_channel=True)
    one = acks.response(first)
    assert acks.response(first).body is one.body  # the same string: made once
    other = json.loads(acks.response(second).body)
    assert other["text"] == "something else" and other["response_type"] == "in_channel"
    assert json.loads(acks.response(first).body)["response_type"] == "ephemeral"
