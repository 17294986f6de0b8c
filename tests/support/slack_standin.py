"""A loopback stand-in for the Slack Web API and for `response_url` endpoints.

It speaks the wire format slack_sdk speaks (form-encoded and JSON bodies, bearer tokens) and
answers the way Slack does where it matters: errors are HTTP 200 with `{"ok": false, ...}`,
a rate limit is HTTP 429 with `Retry-After`, a server error is an HTML page, Block Kit payloads
that break Slack's limits are refused (`invalid_blocks` for messages, `invalid_arguments` for
views, with Slack's `[ERROR] ... [json-pointer:...]` messages), and a `response_url` stops
working after 5 uses or 30 minutes.

    with SlackStandIn() as slack:
        client = WebClient(base_url=slack.base_url, token=slack.token)
        client.chat_postMessage(channel="C1", text="hi")
        assert slack.messages_in("C1")[0]["text"] == "hi"

One stand-in, its parts by concern in modules ``slack_standin_*``: the workspace it plays
(``_workspace``), the Web API method families (``_auth``, ``_chat``, ``_views``, ``_users``,
``_conversations``), Block Kit rules (``_blocks``), response_urls (``_response_urls``),
refusals, failures and rate limits (``_errors``), the record of calls (``_recording``), the
HTTP server (``_http``) and the wire formats it reads (``_wire``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any, Self

from tests.support.slack_standin_auth import AuthMethods, manifest_scopes
from tests.support.slack_standin_chat import ChatMethods
from tests.support.slack_standin_conversations import ConversationMethods
from tests.support.slack_standin_errors import LATE, SLOW, Failure, FaultPlan, SlackApiRefusal
from tests.support.slack_standin_http import SlackHttpServer
from tests.support.slack_standin_recording import CallLog, RecordedCall, ResponseUrlPost
from tests.support.slack_standin_response_urls import (
    RESPONSE_URL_MAX_USES,
    RESPONSE_URL_TTL_SECONDS,
    ResponseUrls,
)
from tests.support.slack_standin_users import UserMethods
from tests.support.slack_standin_views import ViewMethods
from tests.support.slack_standin_wire import JSONDict, WebApiMethod
from tests.support.slack_standin_workspace import SlackUser, SlackWorkspace


class SlackStandIn(SlackWorkspace):
    """Loopback Slack Web API. Start it (or use it as a context manager), point
    `WebClient(base_url=standin.base_url)` at it, then inspect what was called.

    ``scopes`` defaults to those bot/manifest.yml requests; ``bot_member_of`` None means the
    bot is in every channel, else only in those (history needs membership)."""

    def __init__(
        self,
        *,
        token: str = "xoxb-modelgov-test",
        extra_tokens: Iterable[str] = (),
        team_id: str = "T0MODELGOV",
        team_domain: str = "modelgov-test",
        bot_user_id: str = "U0MODELBOT",
        bot_id: str = "B0MODELBOT",
        app_id: str = "A0MODELGOV",
        users: Iterable[SlackUser] = (),
        usergroups: dict[str, list[str]] | None = None,
        channels: Iterable[str] = (),
        strict_trigger_ids: bool = False,
        scopes: Iterable[str] | None = None,
        bot_member_of: Iterable[str] | None = None,
    ) -> None:
        super().__init__(
            token=token,
            extra_tokens=extra_tokens,
            team_id=team_id,
            team_domain=team_domain,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
            users=users,
            usergroups=usergroups,
            channels=channels,
            strict_trigger_ids=strict_trigger_ids,
            scopes=manifest_scopes() if scopes is None else scopes,
            bot_member_of=bot_member_of,
        )
        self._faults = FaultPlan()
        self._log = CallLog()
        self._response_urls = ResponseUrls(self)
        self._auth = AuthMethods(self)
        self._views = ViewMethods(self)
        self._methods: dict[str, WebApiMethod] = {
            **self._auth.methods(),
            **ChatMethods(self).methods(),
            **self._views.methods(),
            **ConversationMethods(self).methods(),
            **UserMethods(self).methods(),
        }
        self._http = SlackHttpServer(
            self, self.call_method, self._faults, self._log, self._response_urls
        )

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``. Raises RuntimeError when the stand-in is not started."""
        return self._http.root_url

    @property
    def base_url(self) -> str:
        """Web API base for `WebClient(base_url=...)`; the trailing slash matters to urljoin."""
        return f"{self.root_url}/api/"

    def call_method(self, method: str, payload: JSONDict) -> JSONDict:
        """Carry out a Web API method. Returns its success body; raises SlackApiRefusal
        (`unknown_method`, `missing_scope`, or the method's own refusal)."""
        handler = self._methods.get(method)
        if handler is None:
            raise SlackApiRefusal("unknown_method", req_method=method)
        self._auth.check_scope(method, payload)
        return handler(payload)

    # ---------------------------------------------------------------- failure injection

    @property
    def latency(self) -> float:
        """Seconds every Web API call takes before it is carried out (a far-away Slack)."""
        return self._faults.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._faults.latency = seconds

    def fail_next(
        self,
        method: str,
        n: int = 1,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        error: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Make the next `n` calls of `method` fail.

        status=429 -> HTTP 429 with `Retry-After: retry_after` and `{"ok": false, "error":
        "ratelimited"}`; status>=500 -> Slack's HTML error page; status=200 -> `{"ok": false,
        "error": error or "ratelimited"}` (Slack's tier limits can also answer this way).
        `delay` seconds are slept before answering. `method` may be "response_url".
        """
        failure = Failure(status=status, retry_after=retry_after, error=error, delay=delay)
        self._faults.queue(method, failure, n)

    def answer_late(self, method: str, n: int = 1, *, delay: float) -> None:
        """Carry out the next `n` calls of `method` at once (a post lands in the channel) but
        send the answer only after `delay` seconds: past a client's timeout, the caller cannot
        tell whether the call was done."""
        self._faults.queue(
            method, Failure(status=LATE, retry_after=None, error=None, delay=delay), n
        )

    def slow_next(self, method: str, n: int = 1, *, delay: float) -> None:
        """Answer the next `n` calls of `method` normally, but only after `delay` seconds."""
        self._faults.queue(
            method, Failure(status=SLOW, retry_after=None, error=None, delay=delay), n
        )

    def limit_rate(self, method: str, per_second: float) -> None:
        """Answer calls of `method` beyond `per_second` per channel with HTTP 429 and a
        `Retry-After` of the seconds until the next call is allowed (Slack's special limit on
        chat.postMessage is about one per second per channel). 0 lifts the limit."""
        self._faults.limit_rate(method, per_second)

    # ---------------------------------------------------------------- interactions

    def new_trigger_id(self) -> str:
        """A trigger id as an interaction carries (views.open wants one younger than 3 s)."""
        return self._views.new_trigger_id()

    def new_response_url(
        self,
        *,
        channel: str | None = None,
        message_ts: str | None = None,
        user_id: str | None = None,
        kind: str = "commands",
        max_uses: int = RESPONSE_URL_MAX_USES,
        ttl: float = RESPONSE_URL_TTL_SECONDS,
    ) -> str:
        """A fresh response_url. Give `channel` (and `message_ts` for a block action's
        source message) so replace_original/delete_original/in_channel act on stored messages."""
        return self._response_urls.issue(
            self.root_url,
            channel=channel,
            message_ts=message_ts,
            user_id=user_id,
            kind=kind,
            max_uses=max_uses,
            ttl=ttl,
        )

    def response_url_posts(self, url: str | None = None) -> list[ResponseUrlPost]:
        return self._log.posts(url)

    def response_url_uses(self, url: str) -> int:
        return self._response_urls.uses(url)

    # ---------------------------------------------------------------- inspection

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        return self._log.calls(method)

    def successful(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls(method) if c.ok]

    def last(self, method: str) -> RecordedCall:
        """The latest call of `method`. Raises LookupError (naming what was seen) if none."""
        calls = self.calls(method)
        if not calls:
            seen = sorted({c.method for c in self.calls()})
            raise LookupError(f"no {method} call recorded (seen: {seen})")
        return calls[-1]

    def wait_for(self, method: str, count: int = 1, *, timeout: float = 10.0) -> list[RecordedCall]:
        """Block until `count` calls of `method` were recorded (work an app does after its ack).
        Raises TimeoutError with what was seen; `method` may be "response_url"."""
        return self._log.wait_for(method, count, timeout)

    def clear(self) -> None:
        """Forget calls, messages, views and pending failures (users and channels stay)."""
        self._log.clear()
        self._faults.clear_queued()
        self.clear_content()


@contextlib.contextmanager
def running_standin(**kwargs: Any) -> Iterator[SlackStandIn]:
    """`with running_standin(users=[...]) as slack:` — started, and stopped afterwards."""
    standin = SlackStandIn(**kwargs)
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()
