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
from urllib.parse import quote, urlencode, urlsplit

from slack_sdk.signature import SignatureVerifier

JSONDict = dict[str, Any]

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


class SlackDriver:
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
        self.base_url = base_url.rstrip("/")
        self.path = path
        self.signing_secret = signing_secret
        self.verifier = SignatureVerifier(signing_secret)
        self.team_id = team_id
        self.team_domain = team_domain
        self.enterprise_id = enterprise_id
        self.api_app_id = api_app_id
        self.verification_token = verification_token
        self.timeout = timeout
        self.clock = clock
        self.user_names: dict[str, str] = dict(user_names or {})

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

    # ------------------------------------------------------------------ payload builders

    def _team(self) -> JSONDict:
        team: JSONDict = {"id": self.team_id, "domain": self.team_domain}
        if self.enterprise_id:
            team.update({"enterprise_id": self.enterprise_id, "enterprise_name": "Org"})
        return team

    def _user(self, user_id: str) -> JSONDict:
        name = self.user_names.get(user_id, user_id.lower())
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    @staticmethod
    def new_trigger_id() -> str:
        return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"

    def default_response_url(self, kind: str = "commands") -> str:
        # Shaped like Slack's, but unroutable on purpose: tests that need one pass the stand-in's.
        return f"https://hooks.slack.invalid/{kind}/{self.team_id}/{uuid.uuid4().int % 10**13}/x"

    def slash_command_body(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str,
        command: str = "/models",
        response_url: str | None = None,
        trigger_id: str | None = None,
        channel_name: str = "general",
        user_name: str | None = None,
    ) -> str:
        fields: list[tuple[str, str]] = [
            ("token", self.verification_token),
            ("team_id", self.team_id),
            ("team_domain", self.team_domain),
        ]
        if self.enterprise_id:
            fields += [("enterprise_id", self.enterprise_id), ("enterprise_name", "Org")]
        fields += [
            ("channel_id", channel_id),
            ("channel_name", channel_name),
            ("user_id", user_id),
            ("user_name", user_name or self.user_names.get(user_id, user_id.lower())),
            ("command", command),
            ("text", text),
            ("api_app_id", self.api_app_id),
            ("is_enterprise_install", "false"),
            ("response_url", response_url or self.default_response_url()),
            ("trigger_id", trigger_id or self.new_trigger_id()),
        ]
        return urlencode(fields)

    def block_actions_payload(
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
        button_text: str = "Button",
        is_ephemeral: bool = False,
        state_values: JSONDict | None = None,
    ) -> JSONDict:
        action: JSONDict = {
            "action_id": action_id,
            "block_id": block_id or _find_block_id(message, action_id) or "actions",
            "type": action_type,
            "action_ts": f"{time.time():.6f}",
        }
        if action_type == "button":
            action["text"] = {"type": "plain_text", "text": button_text, "emoji": True}
            if value is not None:
                action["value"] = value
        elif value is not None:
            action["selected_option"] = {
                "text": {"type": "plain_text", "text": value},
                "value": value,
            }
        msg = dict(message) if message else {"type": "message", "text": "", "ts": message_ts}
        msg.setdefault("ts", message_ts)
        return {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": is_ephemeral,
            },
            "trigger_id": trigger_id or self.new_trigger_id(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": "general"},
            "message": msg,
            "state": {"values": state_values or {}},
            "response_url": response_url or self.default_response_url("actions"),
            "actions": [action],
        }

    def view_submission_payload(
        self,
        callback_id: str,
        state_values: JSONDict,
        *,
        user_id: str,
        private_metadata: str = "",
        view_id: str = "V0MODAL01",
        blocks: list[JSONDict] | None = None,
        title: str = "modelgov",
        trigger_id: str | None = None,
        response_urls: list[JSONDict] | None = None,
        view_hash: str | None = None,
    ) -> JSONDict:
        return {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": trigger_id or self.new_trigger_id(),
            "view": {
                "id": view_id,
                "team_id": self.team_id,
                "type": "modal",
                "blocks": blocks or [],
                "private_metadata": private_metadata,
                "callback_id": callback_id,
                "state": {"values": state_values},
                "hash": view_hash or f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
                "title": {"type": "plain_text", "text": title, "emoji": True},
                "clear_on_close": False,
                "notify_on_close": False,
                "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
                "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
                "previous_view_id": None,
                "root_view_id": view_id,
                "app_id": self.api_app_id,
                "external_id": "",
                "app_installed_team_id": self.team_id,
                "bot_id": "B0MODELBOT",
            },
            "response_urls": response_urls or [],
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def event_envelope(self, event: JSONDict, *, event_id: str | None = None) -> JSONDict:
        now = int(self.clock())
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "enterprise_id": self.enterprise_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": now,
            "authorizations": [
                {
                    "enterprise_id": self.enterprise_id,
                    "team_id": self.team_id,
                    "user_id": "U0MODELBOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }

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


def _find_block_id(message: JSONDict | None, action_id: str) -> str | None:
    """The block_id Slack would report: the block that holds the clicked element."""
    if not message:
        return None
    for block in message.get("blocks") or []:
        elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        if any(isinstance(e, dict) and e.get("action_id") == action_id for e in elements):
            return block.get("block_id")
    return None


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
