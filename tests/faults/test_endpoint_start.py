"""The web process boots while Slack is unreachable and says so on /healthz."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from tests.faults.endpoint_support import get, web_process
from tests.support.slack_fixtures import DEFAULT_USERS
from tests.support.slack_standin import SlackStandIn


def test_serve_http_boots_without_slack_and_reports_it(database_url: str, tmp_path: Path) -> None:
    standin = SlackStandIn(users=DEFAULT_USERS).start()
    gone = SimpleNamespace(token=standin.token, base_url=standin.base_url)
    standin.stop()  # its address now refuses connections: Slack is unreachable
    with web_process(database_url, gone, tmp_path) as web:  # type: ignore[arg-type]
        status, body = get(f"{web.base}/healthz")
        listed = web.driver.slash_command("list", user_id="U0CAROL", channel_id="C1")
        log = web.log_text()
    report = json.loads(body)
    assert status == 200
    assert report["status"] == "degraded"
    assert report["database"] == {"ok": True, "error": None}
    assert report["slack"]["ok"] is False and report["slack"]["error"]
    assert listed.status == 200, log[-4000:]
    assert listed.json()["text"].startswith("Requests")
    assert "Worker failed to boot" not in log and "Traceback" not in log
