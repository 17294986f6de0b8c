"""Hub webhooks at the real web process (gunicorn ``serve --http``) and real workers.

The Hub stand-in plays the Hub twice: it registers the webhook through the settings API that
``HfApi`` calls, and it delivers events as the Hub does (the version-3 payload, the secret
verbatim in ``X-Webhook-Secret``). Forged and unsigned deliveries are refused with 401 and
queue nothing; the web process never calls the Hub; two ``modelgov worker`` processes run the
queued check once and the change's alert is raised once.
"""

from __future__ import annotations

import time
from pathlib import Path

from governance.upstream.hub_webhooks import HubWebhooks
from tests.conftest import make_settings
from tests.faults.endpoint_support import get, web_process
from tests.faults.webhook_support import SECRET, counts, hub_env, watch_and_snapshot, worker_process
from tests.support.hub_standin import HubStandin
from tests.support.hub_webhooks import payload, post
from tests.support.slack_fixtures import slack_standin
from tests.support.slack_standin import SlackStandIn

__all__ = ["slack_standin"]

REPO = "acme/widget-7b"
LICENSE = "Apache License\nVersion 2.0, January 2004\n\nTERMS AND CONDITIONS\n"


def _hub_with_model() -> HubStandin:
    hub = HubStandin().start()
    hub.add_model(REPO, files={"LICENSE": LICENSE, "model.safetensors": b"\0" * 32})
    hub.add_model("acme/unwatched")
    return hub


def test_forged_unsigned_malformed_and_other_events_at_serve_http(
    database_url: str, slack_standin: SlackStandIn, tmp_path: Path
) -> None:
    hub = _hub_with_model()
    try:
        settings = make_settings(database_url, hub_endpoint=hub.endpoint)
        watch_and_snapshot(settings, [REPO])
        hub.reset_counts()
        with web_process(
            database_url, slack_standin, tmp_path, extra_env=hub_env(hub.endpoint)
        ) as web:
            url = f"{web.base}/hub/webhook"
            event = payload(REPO, head_sha="b" * 40)
            assert get(url) == (405, "POST only.\n")
            for forged in (None, "", "wrong", SECRET[:-1], SECRET + "x", SECRET.upper(), "é"):
                status, body = post(url, event, forged)
                assert status == 401, (forged, status, body)
                assert body.strip() == "The X-Webhook-Secret header is missing or wrong; ignored."
            assert counts(settings, REPO, "license_changed")[1] == 0  # nothing queued

            for junk in (b"{not json", b"", b"\xff\xfe\x00", b"[]", b'{"event": {}}'):
                status, body = post(url, junk, SECRET)
                assert status == 400 and body.count("\n") == 1 and "webhook body" in body
            status, body = post(url, b"{" + b" " * (1024 * 1024 + 10) + b"}", SECRET)
            assert status == 413 and "larger than 1024 kB" in body

            for ignored in (
                payload("acme/unwatched"),
                payload(REPO, repo_type="dataset"),
                payload(REPO, repo_type="space"),
                payload(REPO, scope="discussion", action="create"),
                payload(REPO, scope="discussion.comment", action="create"),
            ):
                status, body = post(url, ignored, SECRET)
                assert status == 200 and body.startswith("Ignored: "), body
            assert counts(settings, REPO, "license_changed")[1] == 0

            for _ in range(5):  # the event and the Hub's retries of it
                status, body = post(url, event, SECRET)
                assert (status, body.strip()) == (
                    200,
                    f"Queued a check of {REPO} (repo.content update of model {REPO}).",
                )
            assert counts(settings, REPO, "license_changed")[1] == 1  # one row for five
            log = web.log_text()
        assert hub.count() == 0  # the web process never called the Hub
        assert "Traceback" not in log and " 500 " not in log
    finally:
        hub.stop()


def test_without_a_secret_the_route_refuses_and_says_what_to_set(
    database_url: str, slack_standin: SlackStandIn, tmp_path: Path
) -> None:
    hub = _hub_with_model()
    try:
        watch_and_snapshot(make_settings(database_url, hub_endpoint=hub.endpoint), [REPO])
        env = hub_env(hub.endpoint, secret=None)
        with web_process(database_url, slack_standin, tmp_path, extra_env=env) as web:
            for secret in (None, "anything", SECRET):
                status, body = post(f"{web.base}/hub/webhook", payload(REPO), secret)
                assert status == 503 and "set MODELGOV_HUB_WEBHOOK_SECRET" in body
    finally:
        hub.stop()


def test_registered_webhook_change_alerted_once_by_two_workers(
    database_url: str, slack_standin: SlackStandIn, tmp_path: Path
) -> None:
    hub = _hub_with_model()
    hub.webhooks.add_token("hf_write", "acme-ops")
    try:
        settings = make_settings(database_url, hub_endpoint=hub.endpoint)
        watch_and_snapshot(settings, [REPO])
        env = hub_env(hub.endpoint)
        with (
            web_process(database_url, slack_standin, tmp_path, extra_env=env) as web,
            worker_process(database_url, tmp_path, name="w1", extra_env=env),
            worker_process(database_url, tmp_path, name="w2", extra_env=env),
        ):
            registered = HubWebhooks(hub.endpoint, "hf_write", secret=SECRET).register(
                f"{web.base}/hub/webhook", [REPO]
            )
            assert registered.action == "created"
            hub.reset_counts()
            sha = hub.set_license(REPO, "llama3.1")
            answers = [hub.webhooks.deliver(REPO, head_sha=sha)[0] for _ in range(3)]
            assert [status for status, _ in answers] == [200, 200, 200]
            forged = hub.webhooks.deliver(REPO, head_sha=sha, secret="forged")
            assert [status for status, _ in forged] == [401]
            deadline = time.monotonic() + 60  # a bound for a loaded machine, not a timing
            while counts(settings, REPO, "license_changed")[0] == 0:
                assert time.monotonic() < deadline, "no alert from the webhook's check"
                time.sleep(0.1)
            time.sleep(3)  # let the other worker run its job a few times more
            alerts, rows, cycles = counts(settings, REPO, "license_changed")
        assert alerts == 1 and rows == 0
        # Three deliveries collapse into one queued row; one more check at most, when a
        # delivery landed while the first check ran.
        assert 1 <= cycles <= 2
        assert 1 <= hub.count(f"/api/models/{REPO}", method="GET") <= 2 * 3
    finally:
        hub.stop()
