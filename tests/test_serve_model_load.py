"""``MODELGOV_MODEL_LOAD_AT_START`` under ``modelgov serve --http``: every gunicorn worker loads
the bundled model after the fork and before it accepts its first request."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest

from bot.slack import runner
from tests.faults.endpoint_support import MODELGOV, free_port, web_process
from tests.support.slack_fixtures import slack_standin
from tests.support.slack_standin import SlackStandIn

__all__ = ["slack_standin"]

WORKERS = 2
BOOTED = re.compile(r"Booting worker with pid: (\d+)")
LOADED = re.compile(r"worker (\d+) loaded the model (.+) before serving")


@pytest.mark.llm
def test_each_web_worker_loads_the_model_before_serving(
    database_url: str, slack_standin: SlackStandIn, tmp_path: Path
) -> None:
    with web_process(
        database_url,
        slack_standin,
        tmp_path,
        processes=WORKERS,
        extra_env={"MODELGOV_MODEL_LOAD_AT_START": "true"},
    ) as web:
        # web_process returns once /healthz has answered: whichever worker answered that
        # first request had loaded its model already.
        at_first_answer = LOADED.findall(web.log_text())
        deadline = time.monotonic() + 60
        while len(LOADED.findall(web.log_text())) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.2)
        listed = web.driver.slash_command("list", user_id="U0CAROL", channel_id="C1")
        log = web.log_text()
    assert at_first_answer, log[-4000:]
    booted = BOOTED.findall(log)
    loaded = LOADED.findall(log)
    assert len(booted) == WORKERS, log[-4000:]
    assert sorted(pid for pid, _ in loaded) == sorted(booted), log[-4000:]
    assert all(name.startswith("SmolLM2") for _, name in loaded), loaded
    assert listed.status == 200 and listed.json()["text"].startswith("Requests")
    assert "Traceback" not in log


def test_a_model_that_cannot_load_stops_serve_with_one_sentence(
    database_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELGOV_", "SLACK_"))}
    env.update(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-not-used",
        SLACK_SIGNING_SECRET="not-used",
        SLACK_API_BASE_URL="http://127.0.0.1:9/api/",
        MODELGOV_MODEL_LOAD_AT_START="true",
        MODELGOV_MODEL_PATH=str(tmp_path / "missing.gguf"),
    )
    done = subprocess.run(
        [str(MODELGOV), "serve", "--http", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = done.stdout + done.stderr
    missing = tmp_path / "missing.gguf"
    assert done.returncode != 0
    assert f"cannot load the model: The model file {missing} does not exist." in log
    assert "Traceback" not in log


class SlowStart:
    """An assistant whose model takes a while to load."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.threads: list[str] = []

    def start(self) -> bool:
        self.threads.append(threading.current_thread().name)
        time.sleep(self.seconds)
        return True


class CountingWorker:
    """The one thing ``_load_model`` asks of a gunicorn worker: ``notify`` (I am alive)."""

    def __init__(self) -> None:
        self.notified = 0

    def notify(self) -> None:
        self.notified += 1


def test_a_worker_loading_a_slow_model_keeps_telling_the_arbiter_it_is_alive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner, "HEARTBEAT_SECONDS", 0.05)
    assistant, worker = SlowStart(0.5), CountingWorker()
    assert runner._load_model(assistant, worker) is True  # type: ignore[arg-type]
    assert worker.notified >= 3
    assert assistant.threads and assistant.threads[0].startswith("model-load")
