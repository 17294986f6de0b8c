"""A real ``modelgov serve --http`` process (gunicorn) for the endpoint fault tests, and raw
HTTP helpers that can send what no well-behaved client would (invalid UTF-8, lying headers).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.support.slack_driver import SlackDriver
from tests.support.slack_fixtures import SIGNING_SECRET
from tests.support.slack_standin import SlackStandIn

MODELGOV = Path(sys.executable).parent / "modelgov"
EVENTS = "/slack/events"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Web:
    """A running web process: its base URL, a signed driver and its log file."""

    base: str
    driver: SlackDriver
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@contextlib.contextmanager
def web_process(
    database_url: str,
    slack: SlackStandIn,
    folder: Path,
    *,
    name: str = "web",
    processes: int = 1,
    approvers: str = "U0ALICE,U0BOB",
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Web]:
    """``modelgov serve --http`` on a free port until the block ends (then SIGTERM); yields
    once ``/healthz`` has answered (its first request). ``extra_env``: more settings."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELGOV_", "SLACK_"))}
    env.update(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=slack.token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_BASE_URL=slack.base_url,
        MODELGOV_APPROVERS=approvers,
        WEB_CONCURRENCY=str(processes),
    )
    env.update(extra_env or {})
    log = folder / f"{name}.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [str(MODELGOV), "serve", "--http", "--port", str(port)],
            env=env,
            cwd=folder,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            with contextlib.suppress(OSError):
                if get(f"{base}/healthz")[0] == 200:
                    break
            assert time.monotonic() < deadline, "modelgov serve --http did not come up"
            time.sleep(0.2)
        yield Web(base, SlackDriver(base, SIGNING_SECRET), log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def sign(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    """Slack's signature over raw bytes (works for bytes that are not UTF-8, too)."""
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return "v0=" + digest.hexdigest()


def post_raw(base: str, body: bytes, headers: Mapping[str, str | bytes]) -> tuple[int, bytes]:
    """POST ``body`` to the events URL with exactly ``headers`` (plus Content-Length)."""
    host = base.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=30)
    try:
        sent = {**headers, "Content-Length": str(len(body))}
        conn.request("POST", EVENTS, body=body, headers=sent)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def signed_headers(body: bytes, content_type: str, *, at: int | None = None) -> dict[str, str]:
    """Slack's headers for ``body`` signed at the Unix time ``at`` (default now). Give
    distinct times to sign the same body twice: the endpoint refuses a signature it has seen."""
    timestamp = str(int(time.time()) if at is None else at)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(body, timestamp),
    }
