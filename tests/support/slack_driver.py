"""Sends requests to an app's Slack endpoint the way Slack does: signed, same bodies.

Slash commands are form-encoded fields; interactivity (block_actions, view_submission) is a
form field `payload` holding JSON; Events API callbacks are a JSON body. Every request carries
`X-Slack-Request-Timestamp` and `X-Slack-Signature` (`v0=` HMAC-SHA256 of `v0:{ts}:{body}`),
made with slack_sdk's SignatureVerifier, unless asked to forge, age or omit them.

    driver = SlackDriver("http://127.0.0.1:3000", signing_secret="s3cret")
    resp = driver.slash_command("list", user_id="U1", channel_id="C1")
    assert resp.status == 200
"""

from __future__ import annotations

import http.client
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from slack_sdk.signature import SignatureVerifier

from tests.support.slack_payloads import JSONDict, SlackPayloads

SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
# Slack refuses (and SignatureVerifier rejects) timestamps more than 5 minutes off.
STALE_AGE_SECONDS = 6 * 60


@dataclass(frozen=True)
class DriverResponse:
    """What the app answered. `elapsed` is informational (benchmarks), never for assertions."""

    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class PreparedRequest:
    """A request body and its headers, before sending (for checking signatures directly)."""

    body: str
    headers: dict[str, str]


class SlackDriver(SlackPayloads):
    """Plays Slack against an app's HTTP endpoint (`POST {base_url}{path}`)."""

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        path: str = "/slack/events",
        team_id: str = "T0MODELGOV",
        team_domain: str = "modelgov-test",
        enterprise_id: str | None = None,
        api_app_id: str = "A0MODELGOV",
        verification_token: str = "legacy-verification-token",
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
        user_names: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            team_id=team_id,
            team_domain=team_domain,
            enterprise_id=enterprise_id,
            api_app_id=api_app_id,
            verification_token=verification_token,
            clock=clock,
            user_names=user_names,
        )
        self.base_url = base_url.rstrip("/")
        self.path = path
        self.signing_secret = signing_secret
        self.verifier = SignatureVerifier(signing_secret)
        self.timeout = timeout

    # ------------------------------------------------------------------ signing / sending

    def prepare(
        self,
        body: str,
        content_type: str,
        *,
        forged: bool = False,
        stale: bool = False,
        unsigned: bool = False,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> PreparedRequest:
        """Headers Slack would send with `body`; forged/stale/unsigned break the signature."""
        timestamp = str(int(self.clock()) - (STALE_AGE_SECONDS if stale else 0))
        headers = {
            "Content-Type": content_type,
            "User-Agent": SLACK_USER_AGENT,
            "Accept": "application/json,*/*",
            "Accept-Encoding": "gzip,deflate",
        }
        if not unsigned:
            signer = SignatureVerifier(f"not-{self.signing_secret}") if forged else self.verifier
            signature = signer.generate_signature(timestamp=timestamp, body=body)
            headers["X-Slack-Request-Timestamp"] = timestamp
            headers["X-Slack-Signature"] = signature or ""
        if retry_num is not None:
            # Events API redeliveries say so; apps are expected to dedupe on event_id.
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        return PreparedRequest(body=body, headers=headers)

    def send(
        self,
        body: str,
        content_type: str,
        *,
        forged: bool = False,
        stale: bool = False,
        unsigned: bool = False,
        retry_num: int | None = None,
        timeout: float | None = None,
    ) -> DriverResponse:
        prepared = self.prepare(
            body,
            content_type,
            forged=forged,
            stale=stale,
            unsigned=unsigned,
            retry_num=retry_num,
        )
        return self.send_prepared(prepared, timeout=timeout)

    def send_prepared(
        self, prepared: PreparedRequest, *, timeout: float | None = None
    ) -> DriverResponse:
        split = urlsplit(self.base_url)
        conn_cls = (
            http.client.HTTPSConnection if split.scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_cls(split.netloc, timeout=timeout or self.timeout)
        data = prepared.body.encode("utf-8")
        headers = {**prepared.headers, "Content-Length": str(len(data))}
        started = time.perf_counter()
        try:
            conn.request("POST", f"{split.path}{self.path}", body=data, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            elapsed = time.perf_counter() - started
            return DriverResponse(
                status=resp.status,
                headers={k.lower(): v for k, v in resp.getheaders()},
                body=payload,
                elapsed=elapsed,
            )
        finally:
            conn.close()

    def send_interaction(self, payload: JSONDict, **options: Any) -> DriverResponse:
        """Any interactivity payload (block_actions, view_submission, ...) as Slack posts it."""
        body = f"payload={quote(json.dumps(payload))}"
        return self.send(body, "application/x-www-form-urlencoded", **options)

    def send_event(
        self, event: JSONDict, *, event_id: str | None = None, **options: Any
    ) -> DriverResponse:
        """Wrap `event` in an Events API `event_callback` envelope and post it as JSON."""
        return self.send(
            json.dumps(self.event_envelope(event, event_id=event_id)), "application/json", **options
        )

    # ------------------------------------------------------------------ the requests

    def slash_command(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str,
        command: str = "/models",
        response_url: str | None = None,
        trigger_id: str | None = None,
        channel_name: str = "general",
        forged: bool = False,
        stale: bool = False,
        unsigned: bool = False,
        timeout: float | None = None,
    ) -> DriverResponse:
        body = self.slash_command_body(
            text,
            user_id=user_id,
            channel_id=channel_id,
            command=command,
            response_url=response_url,
            trigger_id=trigger_id,
            channel_name=channel_name,
        )
        return self.send(
            body,
            "application/x-www-form-urlencoded",
            forged=forged,
            stale=stale,
            unsigned=unsigned,
            timeout=timeout,
        )

    def block_action(
        self,
        action_id: str,
        value: str | None,
        *,
        user_id: str,
        channel_id: str,
        message_ts: str,
        message: JSONDict | None = None,
        response_url: str | None = None,
        block_id: str | None = None,
        trigger_id: str | None = None,
        action_type: str = "button",
        is_ephemeral: bool = False,
        forged: bool = False,
        stale: bool = False,
        unsigned: bool = False,
        timeout: float | None = None,
    ) -> DriverResponse:
        payload = self.block_actions_payload(
            action_id,
            value,
            user_id=user_id,
            channel_id=channel_id,
            message_ts=message_ts,
            message=message,
            response_url=response_url,
            block_id=block_id,
            trigger_id=trigger_id,
            action_type=action_type,
            is_ephemeral=is_ephemeral,
        )
        return self.send_interaction(
            payload, forged=forged, stale=stale, unsigned=unsigned, timeout=timeout
        )

    def view_submission(
        self,
        callback_id: str,
        state_values: JSONDict,
        *,
        user_id: str,
        private_metadata: str = "",
        view_id: str = "V0MODAL01",
        blocks: list[JSONDict] | None = None,
        response_urls: list[JSONDict] | None = None,
        forged: bool = False,
        stale: bool = False,
        unsigned: bool = False,
        timeout: float | None = None,
    ) -> DriverResponse:
        payload = self.view_submission_payload(
            callback_id,
            state_values,
            user_id=user_id,
            private_metadata=private_metadata,
            view_id=view_id,
            blocks=blocks,
            response_urls=response_urls,
        )
        return self.send_interaction(
            payload, forged=forged, stale=stale, unsigned=unsigned, timeout=timeout
        )

    def app_home_opened(
        self,
        user_id: str,
        *,
        tab: str = "home",
        channel_id: str | None = None,
        view: JSONDict | None = None,
        event_id: str | None = None,
        retry_num: int | None = None,
        forged: bool = False,
        stale: bool = False,
        unsigned: bool = False,
        timeout: float | None = None,
    ) -> DriverResponse:
        event: JSONDict = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": channel_id or f"D{user_id[1:]}",
            "tab": tab,
            "event_ts": f"{self.clock():.6f}",
        }
        if view is not None:
            # Slack includes the current Home view only once one was published.
            event["view"] = view
        return self.send_event(
            event,
            event_id=event_id,
            retry_num=retry_num,
            forged=forged,
            stale=stale,
            unsigned=unsigned,
            timeout=timeout,
        )

    def url_verification(
        self,
        challenge: str | None = None,
        *,
        forged: bool = False,
        stale: bool = False,
        unsigned: bool = False,
    ) -> DriverResponse:
        body = json.dumps(
            {
                "token": self.verification_token,
                "challenge": challenge or uuid.uuid4().hex,
                "type": "url_verification",
            }
        )
        return self.send(body, "application/json", forged=forged, stale=stale, unsigned=unsigned)


def state_value(
    block_id: str, action_id: str, value: str, kind: str = "plain_text_input"
) -> JSONDict:
    """One entry of a view's `state.values`, as Slack sends it for a text input."""
    return {block_id: {action_id: {"type": kind, "value": value}}}


def merge_state(*entries: JSONDict) -> JSONDict:
    """Combine state_value() entries into one `state.values` mapping."""
    merged: JSONDict = {}
    for entry in entries:
        for block_id, actions in entry.items():
            merged.setdefault(block_id, {}).update(actions)
    return merged


__all__ = [
    "STALE_AGE_SECONDS",
    "DriverResponse",
    "PreparedRequest",
    "SlackDriver",
    "merge_state",
    "state_value",
]
