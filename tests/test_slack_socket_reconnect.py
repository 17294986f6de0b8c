"""Socket Mode survives Slack: down at start (retried with backoff), a dropped WebSocket and a
``disconnect`` message (reconnected), and commands acked on the new connection.

Real slack_sdk builtin Socket Mode client against the loopback stand-in
(tests/support/slack_socket_standin.py): real TCP, real WebSocket frames, real timers.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest

from bot.slack.runner import connect_with_backoff, serve_socket_mode
from governance.core.clock import FrozenClock
from governance.wiring.services import Services, build_services
from tests.conftest import make_settings
from tests.support.slack_driver import SlackDriver
from tests.support.slack_socket_standin import SlackSocketStandin

WAIT = 40.0  # bound on each wait; the builtin client's monitor checks every 5 s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def standin() -> Iterator[SlackSocketStandin]:
    slack = SlackSocketStandin(free_port())  # not started: Slack is unreachable at first
    yield slack
    slack.stop()


@pytest.fixture
def socket_services(
    database_url: str, standin: SlackSocketStandin, clock: FrozenClock
) -> Iterator[Services]:
    settings = make_settings(
        database_url,
        slack_bot_token="xoxb-standin",
        slack_app_token="xapp-1-standin",
        slack_api_base_url=standin.base_url,
    )
    services = build_services(settings, clock=clock)
    yield services
    services.close()


def test_connect_with_backoff_logs_once_per_attempt_and_doubles() -> None:
    lines: list[str] = []
    sleeps: list[float] = []
    calls = iter([OSError("refused"), OSError("refused"), OSError("refused"), None])

    def connect() -> None:
        error = next(calls)
        if error is not None:
            raise error

    assert connect_with_backoff(connect, log=lines.append, sleep=sleeps.append) == 4
    assert sleeps == [1, 2, 4]
    assert lines[:3] == [
        f"Slack not reachable (OSError: refused); retrying in {s} s" for s in (1, 2, 4)
    ]
    assert lines[3] == "connected to Slack after 4 attempts"


def test_socket_mode_waits_for_slack_then_reconnects_and_acks(
    socket_services: Services, standin: SlackSocketStandin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.slack.runner")
    stop = threading.Event()
    runner = threading.Thread(
        target=serve_socket_mode,
        args=(socket_services.settings, socket_services),
        kwargs={"stop": stop},
        daemon=True,
    )
    runner.start()
    try:

        def retries() -> list[str]:
            return [r.getMessage() for r in caplog.records if "Slack not reachable" in r.message]

        for _ in range(int(WAIT * 10)):
            if len(retries()) >= 2:
                break
            stop.wait(0.1)
        assert [line.rsplit("retrying in ", 1)[1] for line in retries()[:2]] == ["1 s", "2 s"]

        standin.start()  # Slack comes up: the next attempt (after 4 s) connects
        assert standin.wait_for(lambda s: s.hellos_sent >= 1, WAIT)
        assert standin.connections_opened == 1

        standin.drop()  # the WebSocket dies without a close frame
        assert standin.wait_for(lambda s: s.hellos_sent >= 2, WAIT), "no reconnect after drop"

        body = SlackDriver("http://unused", "unused").slash_command_body(
            "help", user_id="U0CAROL", channel_id="C1"
        )
        envelope = standin.send_envelope("slash_commands", dict(parse_qsl(body)))
        assert standin.wait_for(lambda s: envelope in s.acks, WAIT), "command not acked"
        assert "/models" in str(standin.acks[envelope].get("payload", ""))

        standin.disconnect()  # Slack's refresh: a new URL, a new socket
        assert standin.wait_for(lambda s: s.hellos_sent >= 3, WAIT), "no reconnect on disconnect"
        assert standin.connections_opened >= 3
    finally:
        stop.set()
        runner.join(timeout=30)
    assert not runner.is_alive()
