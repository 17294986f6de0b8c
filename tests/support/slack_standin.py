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
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl, urlsplit

from tests.support.slack_standin_history import HistoryMethods, manifest_scopes

JSONDict = dict[str, Any]

# Slack's limits outside Block Kit proper.
MESSAGE_TEXT_MAX = 40_000
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60
TRIGGER_ID_TTL_SECONDS = 3.0

# What Slack answers on a response_url that is used up or past its 30 minutes: a plain-text
# 404. (Slack documents the limits, not the exact body; `expired_url` is what it is seen to send.)
RESPONSE_URL_GONE_STATUS = 404
RESPONSE_URL_GONE_BODY = "expired_url"

# Slack's outage page is HTML, not JSON: a client that json-decodes a 5xx blindly must notice.
_SERVER_ERROR_PAGE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
    "<title>Server Error | Slack</title></head>\n<body><h1>Server Error</h1>"
    "<p>It seems like there's a problem connecting to our servers.</p></body>\n</html>"
)

# Methods whose structured arguments arrive as JSON strings when the body is form-encoded.
_JSON_STRING_FIELDS = ("blocks", "attachments", "view", "metadata")


# ------------------------------------------------------------------ Block Kit validation
# Slack's documented limits (and slack_sdk.models' constants). Messages follow Slack's own
# wording: "no more than 50 items allowed [json-pointer:/blocks]".

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
MARKDOWN_BLOCK_MAX = 12_000
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
URL_MAX = 3000
ACTION_ID_MAX = 255
BLOCK_ID_MAX = 255
ACTIONS_ELEMENTS_MAX = 25
CONTEXT_ELEMENTS_MAX = 10
OPTIONS_MAX = 100
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
PLACEHOLDER_MAX = 150
LABEL_MAX = 2000
VIEW_TITLE_MAX = 24
VIEW_BUTTON_MAX = 24
PRIVATE_METADATA_MAX = 3000
CALLBACK_ID_MAX = 255

_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
_SELECTS = frozenset(
    {
        "static_select",
        "multi_static_select",
        "external_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
    }
)
_PICKERS = frozenset({"datepicker", "timepicker", "datetimepicker", "checkboxes", "radio_buttons"})
_TEXT_INPUTS = frozenset(
    {
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
        "file_input",
    }
)
_ACCESSORY_TYPES = frozenset(
    {"button", "image", "overflow", "workflow_button"} | _SELECTS | _PICKERS
)
_ACTIONS_TYPES = frozenset(
    {"button", "overflow", "workflow_button", "rich_text_input"} | _SELECTS | _PICKERS
)
_INPUT_TYPES = _TEXT_INPUTS | _SELECTS | _PICKERS


class _BlockChecker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, message: str, pointer: str) -> None:
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    def text(
        self,
        obj: object,
        ptr: str,
        *,
        max_len: int,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                parent, _, name = ptr.rpartition("/")
                self.err(f"missing required field: {name}", parent or "/")
            return
        if not isinstance(obj, dict):
            self.err("expected object", ptr)
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            expected = ", ".join(allowed)
            self.err(
                f"must be one of [{expected}]" if kind else "missing required field: type",
                f"{ptr}/type",
            )
        value = obj.get("text")
        if not isinstance(value, str):
            self.err("missing required field: text", ptr)
        elif not value:
            self.err("must be more than 0 characters", f"{ptr}/text")
        elif len(value) > max_len:
            self.err(f"must be less than {max_len + 1} characters", f"{ptr}/text")

    def string(self, value: object, ptr: str, *, max_len: int, required: bool = False) -> None:
        if value is None:
            if required:
                name = ptr.rsplit("/", 1)[-1]
                self.err(f"missing required field: {name}", ptr.rsplit("/", 1)[0] or "/")
            return
        if not isinstance(value, str):
            self.err("expected string", ptr)
        elif len(value) > max_len:
            self.err(f"must be less than {max_len + 1} characters", ptr)

    def element(self, el: object, ptr: str, allowed: frozenset[str], action_ids: set[str]) -> None:
        if not isinstance(el, dict):
            self.err("expected object", ptr)
            return
        kind = el.get("type")
        if kind is None:
            self.err("missing required field: type", ptr)
            return
        if kind not in allowed:
            self.err(f"unsupported type: {kind}", f"{ptr}/type")
            return
        action_id = el.get("action_id")
        self.string(action_id, f"{ptr}/action_id", max_len=ACTION_ID_MAX)
        if isinstance(action_id, str):
            if action_id in action_ids:
                self.err(f"duplicate action_id: {action_id}", f"{ptr}/action_id")
            action_ids.add(action_id)
        if kind == "button":
            self.text(el.get("text"), f"{ptr}/text", max_len=BUTTON_TEXT_MAX, plain_only=True)
            self.string(el.get("value"), f"{ptr}/value", max_len=BUTTON_VALUE_MAX)
            self.string(el.get("url"), f"{ptr}/url", max_len=URL_MAX)
            style = el.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.err("must be one of [primary, danger]", f"{ptr}/style")
        elif kind == "image":
            if not el.get("image_url") and not el.get("slack_file"):
                self.err("missing required field: image_url", ptr)
            self.string(el.get("alt_text"), f"{ptr}/alt_text", max_len=2000, required=True)
        if "placeholder" in el:
            self.text(
                el["placeholder"], f"{ptr}/placeholder", max_len=PLACEHOLDER_MAX, plain_only=True
            )
        if kind in (
            "static_select",
            "multi_static_select",
            "overflow",
            "checkboxes",
            "radio_buttons",
        ):
            options = el.get("options")
            if options is None and "option_groups" not in el:
                self.err("missing required field: options", ptr)
            elif isinstance(options, list):
                limit = 5 if kind == "overflow" else OPTIONS_MAX
                if len(options) > limit:
                    self.err(f"no more than {limit} items allowed", f"{ptr}/options")
                for i, option in enumerate(options):
                    self.option(option, f"{ptr}/options/{i}")

    def option(self, option: object, ptr: str) -> None:
        if not isinstance(option, dict):
            self.err("expected object", ptr)
            return
        self.text(option.get("text"), f"{ptr}/text", max_len=OPTION_TEXT_MAX)
        self.string(option.get("value"), f"{ptr}/value", max_len=OPTION_VALUE_MAX, required=True)

    def block(self, block: object, ptr: str, block_ids: set[str], action_ids: set[str]) -> None:
        if not isinstance(block, dict):
            self.err("expected object", ptr)
            return
        kind = block.get("type")
        if kind is None:
            self.err("missing required field: type", ptr)
            return
        if kind not in _BLOCK_TYPES:
            self.err(f"unsupported type: {kind}", f"{ptr}/type")
            return
        block_id = block.get("block_id")
        self.string(block_id, f"{ptr}/block_id", max_len=BLOCK_ID_MAX)
        if isinstance(block_id, str):
            if block_id in block_ids:
                self.err(f"duplicate block_id: {block_id}", f"{ptr}/block_id")
            block_ids.add(block_id)
        check = getattr(self, f"block_{kind}", None)
        if check is not None:
            check(block, ptr, action_ids)

    def block_section(self, block: JSONDict, ptr: str, action_ids: set[str]) -> None:
        fields = block.get("fields")
        if block.get("text") is None and fields is None:
            self.err("missing required field: text", ptr)
        if block.get("text") is not None:
            self.text(block["text"], f"{ptr}/text", max_len=SECTION_TEXT_MAX)
        if fields is not None:
            if not isinstance(fields, list) or not fields:
                self.err("must provide at least 1 item", f"{ptr}/fields")
            else:
                if len(fields) > SECTION_FIELDS_MAX:
                    self.err(f"no more than {SECTION_FIELDS_MAX} items allowed", f"{ptr}/fields")
                for i, item in enumerate(fields):
                    self.text(item, f"{ptr}/fields/{i}", max_len=SECTION_FIELD_TEXT_MAX)
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{ptr}/accessory", _ACCESSORY_TYPES, action_ids)

    def block_header(self, block: JSONDict, ptr: str, action_ids: set[str]) -> None:
        self.text(block.get("text"), f"{ptr}/text", max_len=HEADER_TEXT_MAX, plain_only=True)

    def block_markdown(self, block: JSONDict, ptr: str, action_ids: set[str]) -> None:
        self.string(block.get("text"), f"{ptr}/text", max_len=MARKDOWN_BLOCK_MAX, required=True)

    def block_context(self, block: JSONDict, ptr: str, action_ids: set[str]) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.err("must provide at least 1 item", f"{ptr}/elements")
            return
        if len(elements) > CONTEXT_ELEMENTS_MAX:
            self.err(f"no more than {CONTEXT_ELEMENTS_MAX} items allowed", f"{ptr}/elements")
        for i, el in enumerate(elements):
            eptr = f"{ptr}/elements/{i}"
            if isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn"):
                self.text(el, eptr, max_len=SECTION_TEXT_MAX)
            else:
                self.element(el, eptr, frozenset({"image"}), action_ids)

    def block_actions(self, block: JSONDict, ptr: str, action_ids: set[str]) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.err("must provide at least 1 item", f"{ptr}/elements")
            return
        if len(elements) > ACTIONS_ELEMENTS_MAX:
            self.err(f"no more than {ACTIONS_ELEMENTS_MAX} items allowed", f"{ptr}/elements")
        for i, el in enumerate(elements):
            self.element(el, f"{ptr}/elements/{i}", _ACTIONS_TYPES, action_ids)

    def block_input(self, block: JSONDict, ptr: str, action_ids: set[str]) -> None:
        self.text(block.get("label"), f"{ptr}/label", max_len=LABEL_MAX, plain_only=True)
        if block.get("hint") is not None:
            self.text(block["hint"], f"{ptr}/hint", max_len=LABEL_MAX, plain_only=True)
        if block.get("element") is None:
            self.err("missing required field: element", ptr)
        else:
            self.element(block["element"], f"{ptr}/element", _INPUT_TYPES, action_ids)

    def block_image(self, block: JSONDict, ptr: str, action_ids: set[str]) -> None:
        if not block.get("image_url") and not block.get("slack_file"):
            self.err("missing required field: image_url", ptr)
        self.string(block.get("alt_text"), f"{ptr}/alt_text", max_len=2000, required=True)

    def blocks(self, blocks: object, ptr: str, max_blocks: int) -> None:
        if not isinstance(blocks, list):
            self.err("expected array", ptr)
            return
        if len(blocks) > max_blocks:
            self.err(f"no more than {max_blocks} items allowed", ptr)
        block_ids: set[str] = set()
        action_ids: set[str] = set()
        for i, block in enumerate(blocks):
            # action_id only has to be unique within its block
            action_ids = set()
            self.block(block, f"{ptr}/{i}", block_ids, action_ids)


def validate_message_blocks(blocks: object) -> list[str]:
    """Slack's complaints about a message's `blocks` (empty when valid)."""
    checker = _BlockChecker()
    checker.blocks(blocks, "/blocks", MESSAGE_MAX_BLOCKS)
    return checker.errors


def validate_view(view: JSONDict) -> list[str]:
    """Slack's complaints about a modal or Home tab view (empty when valid)."""
    checker = _BlockChecker()
    if "blocks" not in view:
        checker.err("missing required field: blocks", "/view")
    else:
        checker.blocks(view["blocks"], "/view/blocks", VIEW_MAX_BLOCKS)
    if view.get("type") == "modal":
        checker.text(view.get("title"), "/view/title", max_len=VIEW_TITLE_MAX, plain_only=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                checker.text(view[key], f"/view/{key}", max_len=VIEW_BUTTON_MAX, plain_only=True)
        has_input = isinstance(view.get("blocks"), list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in view["blocks"]
        )
        if has_input and view.get("submit") is None:
            checker.err("must provide submit when using input blocks", "/view")
    checker.string(
        view.get("private_metadata"), "/view/private_metadata", max_len=PRIVATE_METADATA_MAX
    )
    checker.string(view.get("callback_id"), "/view/callback_id", max_len=CALLBACK_ID_MAX)
    checker.string(view.get("external_id"), "/view/external_id", max_len=255)
    return checker.errors


@dataclass(frozen=True)
class RecordedCall:
    """One request the stand-in received, and what it answered."""

    method: str
    payload: JSONDict
    token: str | None
    content_type: str
    status: int
    response: JSONDict | None

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response and self.response.get("ok"))


@dataclass(frozen=True)
class ResponseUrlPost:
    """One post to a response_url, and the status Slack would have given it."""

    url: str
    payload: JSONDict
    status: int
    body: str

    @property
    def replace_original(self) -> bool:
        return _truthy(self.payload.get("replace_original"))

    @property
    def delete_original(self) -> bool:
        return _truthy(self.payload.get("delete_original"))

    @property
    def response_type(self) -> str:
        return str(self.payload.get("response_type") or "ephemeral")


@dataclass
class SlackUser:
    id: str
    name: str
    real_name: str = ""
    tz: str = "Etc/UTC"
    tz_offset: int = 0
    is_bot: bool = False
    deleted: bool = False

    def to_api(self, team_id: str) -> JSONDict:
        real_name = self.real_name or self.name
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": self.tz_offset,
            "is_bot": self.is_bot,
            "is_admin": False,
            "is_owner": False,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "profile": {
                "real_name": real_name,
                "display_name": self.name,
                "real_name_normalized": real_name,
                "display_name_normalized": self.name,
                "team": team_id,
            },
        }


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    error: str | None
    delay: float


@dataclass
class _ResponseUrl:
    url: str
    created_at: float
    max_uses: int
    ttl: float
    channel: str | None
    message_ts: str | None
    user_id: str | None
    uses: int = 0


@dataclass
class _State:
    calls: list[RecordedCall] = field(default_factory=list)
    messages: dict[str, list[JSONDict]] = field(default_factory=dict)
    ephemerals: list[JSONDict] = field(default_factory=list)
    views: dict[str, JSONDict] = field(default_factory=dict)
    home_views: dict[str, JSONDict] = field(default_factory=dict)
    response_url_posts: list[ResponseUrlPost] = field(default_factory=list)
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    triggers: dict[str, float] = field(default_factory=dict)


class SlackApiRefusal(Exception):
    """Raised inside a method handler: becomes `{"ok": false, "error": ...}` at HTTP 200."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class SlackStandIn(HistoryMethods):
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
        self.token = token
        self.tokens = {token, *extra_tokens}
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.users: dict[str, SlackUser] = {u.id: u for u in users}
        self.usergroups: dict[str, list[str]] = dict(usergroups or {})
        # Empty means "any channel exists"; otherwise unknown ids get channel_not_found.
        self.channels: set[str] = set(channels)
        # When true, views.open only accepts trigger ids from new_trigger_id() younger than 3 s.
        self.strict_trigger_ids = strict_trigger_ids
        self.scopes = frozenset(manifest_scopes() if scopes is None else scopes)
        self.bot_member_of = None if bot_member_of is None else set(bot_member_of)
        self.channel_names: dict[str, str] = {}
        self._rates: dict[str, tuple[float, dict[str, float]]] = {}
        # Seconds every Web API call takes before it is carried out (a far-away Slack).
        self.latency = 0.0
        self._state = _State()
        self._lock = threading.Condition()
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)
        self._clock_offset = 0.0
        # Kept off _State so clear() does not invalidate URLs a running app still holds.
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        if self._server is None:
            raise RuntimeError("stand-in is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """Web API base for `WebClient(base_url=...)`; the trailing slash matters to urljoin."""
        return f"{self.root_url}/api/"

    # ---------------------------------------------------------------- configuration

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str = "",
        tz: str = "Etc/UTC",
        tz_offset: int = 0,
        is_bot: bool = False,
    ) -> SlackUser:
        user = SlackUser(user_id, name, real_name, tz, tz_offset, is_bot)
        with self._lock:
            self.users[user_id] = user
        return user

    def set_usergroup(self, usergroup_id: str, user_ids: Iterable[str]) -> None:
        with self._lock:
            self.usergroups[usergroup_id] = list(user_ids)

    def add_channel(self, channel_id: str) -> None:
        with self._lock:
            self.channels.add(channel_id)

    def now(self) -> float:
        """The stand-in's clock: real time plus whatever advance_clock() added."""
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the stand-in's clock forward (expires response_urls and trigger ids)."""
        with self._lock:
            self._clock_offset += seconds

    def new_trigger_id(self) -> str:
        trigger_id = f"{next(self._id_counter)}.{int(self.now())}.{uuid.uuid4().hex[:16]}"
        with self._lock:
            self._state.triggers[trigger_id] = self.now()
        return trigger_id

    # ---------------------------------------------------------------- failure injection

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
        failure = _Failure(status=status, retry_after=retry_after, error=error, delay=delay)
        with self._lock:
            self._state.failures.setdefault(method, []).extend([failure] * n)

    def answer_late(self, method: str, n: int = 1, *, delay: float) -> None:
        """Carry out the next `n` calls of `method` at once (a post lands in the channel) but
        send the answer only after `delay` seconds: past a client's timeout, the caller cannot
        tell whether the call was done."""
        failure = _Failure(status=-1, retry_after=None, error=None, delay=delay)
        with self._lock:
            self._state.failures.setdefault(method, []).extend([failure] * n)

    def limit_rate(self, method: str, per_second: float) -> None:
        """Answer calls of `method` beyond `per_second` per channel with HTTP 429 and a
        `Retry-After` of the seconds until the next call is allowed (Slack's special limit on
        chat.postMessage is about one per second per channel). 0 lifts the limit."""
        with self._lock:
            if per_second <= 0:
                self._rates.pop(method, None)
            else:
                self._rates[method] = (1.0 / per_second, {})

    def _rate_limited(self, method: str, payload: JSONDict) -> int | None:
        """Seconds to wait when this call is over its rate, else None (and it is counted)."""
        with self._lock:
            rate = self._rates.get(method)
            if rate is None:
                return None
            interval, last = rate
            key = self.channel_id(str(payload.get("channel") or ""))
            now = time.monotonic()
            previous = last.get(key)
            if previous is not None and now - previous < interval:
                return max(1, int(interval - (now - previous) + 0.999))
            last[key] = now
            return None

    def slow_next(self, method: str, n: int = 1, *, delay: float) -> None:
        """Answer the next `n` calls of `method` normally, but only after `delay` seconds."""
        failure = _Failure(status=0, retry_after=None, error=None, delay=delay)
        with self._lock:
            self._state.failures.setdefault(method, []).extend([failure] * n)

    # ---------------------------------------------------------------- response_url

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
        url = f"{self.root_url}/hooks/{kind}/{self.team_id}/{next(self._id_counter)}/" + (
            uuid.uuid4().hex
        )
        entry = _ResponseUrl(url, self.now(), max_uses, ttl, channel, message_ts, user_id)
        with self._lock:
            self._response_urls[urlsplit(url).path] = entry
        return url

    def response_url_posts(self, url: str | None = None) -> list[ResponseUrlPost]:
        with self._lock:
            posts = list(self._state.response_url_posts)
        return [p for p in posts if url is None or p.url == url]

    def response_url_uses(self, url: str) -> int:
        with self._lock:
            entry = self._response_urls.get(urlsplit(url).path)
            return entry.uses if entry else 0

    # ---------------------------------------------------------------- inspection

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        with self._lock:
            calls = list(self._state.calls)
        return [c for c in calls if method is None or c.method == method]

    def successful(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls(method) if c.ok]

    def last(self, method: str) -> RecordedCall:
        calls = self.calls(method)
        if not calls:
            seen = sorted({c.method for c in self.calls()})
            raise LookupError(f"no {method} call recorded (seen: {seen})")
        return calls[-1]

    def messages_in(self, channel: str) -> list[JSONDict]:
        """Messages currently in `channel` (as edited by chat.update), thread replies
        included, oldest first. Ephemeral messages are in ephemerals()."""
        channel = self.channel_id(channel)
        with self._lock:
            return [dict(m) for m in self._state.messages.get(channel, [])]

    def message(self, channel: str, ts: str) -> JSONDict:
        for msg in self.messages_in(channel):
            if msg["ts"] == ts:
                return msg
        raise LookupError(f"no message {ts} in {channel}")

    def thread_replies(self, channel: str, thread_ts: str) -> list[JSONDict]:
        return [
            m
            for m in self.messages_in(channel)
            if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts
        ]

    def ephemerals(self, *, channel: str | None = None, user: str | None = None) -> list[JSONDict]:
        with self._lock:
            items = [dict(e) for e in self._state.ephemerals]
        return [
            e
            for e in items
            if (channel is None or e["channel"] == channel) and (user is None or e["user"] == user)
        ]

    def home_view(self, user_id: str) -> JSONDict | None:
        with self._lock:
            return self._state.home_views.get(user_id)

    def view(self, view_id: str) -> JSONDict:
        with self._lock:
            return self._state.views[view_id]

    def opened_views(self) -> list[JSONDict]:
        with self._lock:
            return [v for v in self._state.views.values() if v.get("type") == "modal"]

    def wait_for(self, method: str, count: int = 1, *, timeout: float = 10.0) -> list[RecordedCall]:
        """Block until `count` calls of `method` were recorded (work an app does after its ack).
        Raises TimeoutError with what was seen; `method` may be "response_url"."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                calls = [c for c in self._state.calls if c.method == method]
                if len(calls) >= count:
                    return calls
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [c.method for c in self._state.calls]
                    raise TimeoutError(f"waited for {count} x {method}; saw {seen}")
                self._lock.wait(remaining)

    def clear(self) -> None:
        """Forget calls, messages, views and pending failures (users and channels stay)."""
        with self._lock:
            self._state = _State()

    # ---------------------------------------------------------------- internals

    def _record(self, call: RecordedCall) -> None:
        with self._lock:
            self._state.calls.append(call)
            self._lock.notify_all()

    def _take_failure(self, method: str) -> _Failure | None:
        with self._lock:
            queue = self._state.failures.get(method)
            if queue:
                return queue.pop(0)
        return None

    def _new_ts(self) -> str:
        # Unique and increasing, shaped like Slack's "seconds.micro" message ids.
        return f"{int(self.now())}.{next(self._ts_counter):06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._id_counter):08X}"

    # Web API methods. Each takes the parsed payload and returns the success body, or raises
    # SlackApiRefusal. They run under no lock; they take it around state changes.

    def _check_channel(self, channel: object, *, by_name: bool = True) -> str:
        """The channel id a method acts on. Like Slack, chat.postMessage and postEphemeral also
        take a ``#name`` (answering with the id), but chat.update takes ids only."""
        if not isinstance(channel, str) or not channel:
            raise SlackApiRefusal("channel_not_found")
        if channel.startswith("#"):
            if not by_name:
                raise SlackApiRefusal("channel_not_found")
            channel = self.channel_id(channel)
        if self.channels and channel not in self.channels and not channel.startswith("D"):
            raise SlackApiRefusal("channel_not_found")
        return channel

    def channel_id(self, name_or_id: str) -> str:
        """The stable id the stand-in gives ``#name`` (ids are returned as they are)."""
        if not name_or_id.startswith("#"):
            return name_or_id
        name = name_or_id[1:].lower()
        channel = "C" + uuid.uuid5(uuid.NAMESPACE_DNS, name).hex[:10].upper()
        with self._lock:
            self.channel_names.setdefault(name, channel)
        return channel

    def _messages_of(self, channel: str) -> list[JSONDict]:
        with self._lock:
            return [dict(m) for m in self._state.messages.get(channel, [])]

    def _refuse(self, error: str, **extra: Any) -> Exception:
        return SlackApiRefusal(error, **extra)

    def posts_by_key(self, event_type: str | None = None) -> dict[str, int]:
        """How many posts Slack accepted per metadata ``dedupe_key`` (every channel)."""
        counts: dict[str, int] = {}
        with self._lock:
            for messages in self._state.messages.values():
                for msg in messages:
                    meta = msg.get("metadata") or {}
                    if event_type is not None and meta.get("event_type") != event_type:
                        continue
                    key = (meta.get("event_payload") or {}).get("dedupe_key")
                    if key is not None:
                        counts[key] = counts.get(key, 0) + 1
        return counts

    def _check_message_content(self, payload: JSONDict, *, require: bool = True) -> None:
        text = payload.get("text")
        blocks = payload.get("blocks")
        attachments = payload.get("attachments")
        if require and not text and not blocks and not attachments:
            raise SlackApiRefusal("no_text")
        if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
            raise SlackApiRefusal("msg_too_long")
        if blocks is not None:
            errors = validate_message_blocks(blocks)
            if errors:
                raise _invalid_blocks(errors)

    def _message_from(self, payload: JSONDict, ts: str, channel: str) -> JSONDict:
        msg: JSONDict = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": payload.get("text") or "",
            "ts": ts,
            "channel": channel,
        }
        for key in ("blocks", "attachments", "metadata"):
            if payload.get(key) is not None:
                msg[key] = payload[key]
        return msg

    def api_auth_test(self, payload: JSONDict) -> JSONDict:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_domain,
            "user": "modelgov",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def api_api_test(self, payload: JSONDict) -> JSONDict:
        return {"args": {k: v for k, v in payload.items() if k != "token"}}

    def api_chat_post_message(self, payload: JSONDict) -> JSONDict:
        channel = self._check_channel(payload.get("channel"))
        self._check_message_content(payload)
        ts = self._new_ts()
        msg = self._message_from(payload, ts, channel)
        thread_ts = payload.get("thread_ts")
        if thread_ts:
            msg["thread_ts"] = str(thread_ts)
            msg["parent_user_id"] = self.bot_user_id
        with self._lock:
            self._state.messages.setdefault(channel, []).append(msg)
        return {"channel": channel, "ts": ts, "message": {k: v for k, v in msg.items()}}

    def api_chat_update(self, payload: JSONDict) -> JSONDict:
        channel = self._check_channel(payload.get("channel"), by_name=False)
        ts = payload.get("ts")
        if not ts:
            raise SlackApiRefusal("message_not_found")
        self._check_message_content(payload, require=False)
        with self._lock:
            for msg in self._state.messages.get(channel, []):
                if msg["ts"] == ts:
                    for key in ("text", "blocks", "attachments", "metadata"):
                        if key in payload and payload[key] is not None:
                            msg[key] = payload[key]
                    msg["edited"] = {"user": self.bot_user_id, "ts": self._new_ts()}
                    updated = dict(msg)
                    break
            else:
                raise SlackApiRefusal("message_not_found")
        return {"channel": channel, "ts": ts, "text": updated["text"], "message": updated}

    def api_chat_post_ephemeral(self, payload: JSONDict) -> JSONDict:
        channel = self._check_channel(payload.get("channel"))
        user = payload.get("user")
        if not user:
            raise SlackApiRefusal("user_not_found")
        if self.users and user not in self.users:
            raise SlackApiRefusal("user_not_in_channel")
        self._check_message_content(payload)
        ts = self._new_ts()
        msg = self._message_from(payload, ts, channel)
        msg["user"] = user  # the recipient; kept for ephemerals(user=...)
        if payload.get("thread_ts"):
            msg["thread_ts"] = str(payload["thread_ts"])
        with self._lock:
            self._state.ephemerals.append(msg)
        return {"message_ts": ts}

    def _check_trigger(self, trigger_id: object) -> None:
        if not isinstance(trigger_id, str) or not trigger_id:
            raise SlackApiRefusal("invalid_arguments")
        with self._lock:
            issued = self._state.triggers.get(trigger_id)
        if issued is None:
            if self.strict_trigger_ids:
                raise SlackApiRefusal("invalid_trigger_id")
            return
        if self.now() - issued > TRIGGER_ID_TTL_SECONDS:
            raise SlackApiRefusal("expired_trigger_id")

    def _store_view(self, view: JSONDict, *, view_id: str | None = None) -> JSONDict:
        view_id = view_id or self._new_id("V")
        stored: JSONDict = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self.now())}.{uuid.uuid4().hex[:8]}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        with self._lock:
            self._state.views[view_id] = stored
        return stored

    def _parse_view(self, payload: JSONDict, *, expected_type: str) -> JSONDict:
        view = payload.get("view")
        if not isinstance(view, dict):
            raise _invalid_arguments(["missing required field: view [json-pointer:/view]"])
        if view.get("type") != expected_type:
            raise _invalid_arguments(
                [f"must be one of [{expected_type}] [json-pointer:/view/type]"]
                if view.get("type")
                else ["missing required field: type [json-pointer:/view]"]
            )
        errors = validate_view(view)
        if errors:
            raise _invalid_arguments(errors)
        return view

    def api_views_open(self, payload: JSONDict) -> JSONDict:
        self._check_trigger(payload.get("trigger_id"))
        view = self._parse_view(payload, expected_type="modal")
        return {"view": self._store_view(view)}

    def api_views_push(self, payload: JSONDict) -> JSONDict:
        return self.api_views_open(payload)

    def api_views_update(self, payload: JSONDict) -> JSONDict:
        view_id = payload.get("view_id")
        external_id = payload.get("external_id")
        with self._lock:
            current = self._state.views.get(view_id) if view_id else None
            if current is None and external_id:
                current = next(
                    (v for v in self._state.views.values() if v["external_id"] == external_id),
                    None,
                )
        if not view_id and not external_id:
            raise _invalid_arguments(["view_id or external_id is required"])
        if current is None:
            raise SlackApiRefusal("not_found")
        if payload.get("hash") and payload["hash"] != current["hash"]:
            raise SlackApiRefusal("hash_conflict")
        view = payload.get("view")
        expected = view.get("type") if isinstance(view, dict) else "modal"
        view = self._parse_view(payload, expected_type=str(expected or "modal"))
        return {"view": self._store_view(view, view_id=current["id"])}

    def api_views_publish(self, payload: JSONDict) -> JSONDict:
        user_id = payload.get("user_id")
        if not user_id:
            raise _invalid_arguments(["missing required field: user_id"])
        if self.users and user_id not in self.users:
            raise SlackApiRefusal("user_not_found")
        view = self._parse_view(payload, expected_type="home")
        with self._lock:
            current = self._state.home_views.get(user_id)
        if current and payload.get("hash") and payload["hash"] != current["hash"]:
            raise SlackApiRefusal("hash_conflict")
        stored = self._store_view(view, view_id=current["id"] if current else None)
        with self._lock:
            self._state.home_views[user_id] = stored
        return {"view": stored}

    def api_conversations_open(self, payload: JSONDict) -> JSONDict:
        users_arg = payload.get("users")
        if not users_arg:
            if payload.get("channel"):
                return {"channel": {"id": payload["channel"]}}
            raise SlackApiRefusal("users_list_not_supplied")
        users = [u.strip() for u in str(users_arg).split(",") if u.strip()]
        if self.users and any(u not in self.users for u in users):
            raise SlackApiRefusal("user_not_found")
        # A stable DM id per user set, as Slack reuses the existing conversation.
        key = ",".join(sorted(users))
        dm_id = ("D" if len(users) == 1 else "G") + uuid.uuid5(uuid.NAMESPACE_OID, key).hex[
            :10
        ].upper()
        channel: JSONDict = {"id": dm_id}
        if _truthy(payload.get("return_im")):
            channel.update({"is_im": len(users) == 1, "user": users[0], "created": 1_700_000_000})
        return {"no_op": True, "already_open": True, "channel": channel}

    def api_users_info(self, payload: JSONDict) -> JSONDict:
        user = self.users.get(str(payload.get("user") or ""))
        if user is None:
            raise SlackApiRefusal("user_not_found")
        return {"user": user.to_api(self.team_id)}

    def api_usergroups_users_list(self, payload: JSONDict) -> JSONDict:
        group = str(payload.get("usergroup") or "")
        if not group:
            raise _invalid_arguments(["missing required field: usergroup"])
        with self._lock:
            members = self.usergroups.get(group)
        if members is None:
            raise SlackApiRefusal("no_such_subteam")
        return {"users": list(members)}

    _METHODS: ClassVar[dict[str, str]] = {
        "api.test": "api_api_test",
        "auth.test": "api_auth_test",
        "chat.postMessage": "api_chat_post_message",
        "chat.update": "api_chat_update",
        "chat.postEphemeral": "api_chat_post_ephemeral",
        "views.open": "api_views_open",
        "views.push": "api_views_push",
        "views.update": "api_views_update",
        "views.publish": "api_views_publish",
        "conversations.open": "api_conversations_open",
        "users.info": "api_users_info",
        "usergroups.users.list": "api_usergroups_users_list",
        **HistoryMethods.HISTORY_METHODS,
    }

    def _dispatch(self, method: str, payload: JSONDict) -> JSONDict:
        name = self._METHODS.get(method)
        if name is None:
            raise SlackApiRefusal("unknown_method", req_method=method)
        self.check_scope(method, payload)
        handler: Callable[[JSONDict], JSONDict] = getattr(self, name)
        return handler(payload)

    # response_url posts: JSON like WebhookClient sends, answered with plain text like Slack.

    def _handle_response_url(self, path: str, payload: JSONDict) -> tuple[int, str]:
        if not _truthy(payload.get("delete_original")):
            text = payload.get("text")
            blocks = payload.get("blocks")
            if not text and not blocks and not payload.get("attachments"):
                return 400, "no_text"
            if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
                return 400, "msg_too_long"
            if blocks is not None and validate_message_blocks(blocks):
                return 400, "invalid_blocks"
        # Check and count under one lock so concurrent posts cannot exceed max_uses.
        with self._lock:
            entry = self._response_urls.get(path)
            if entry is None:
                return 404, "no_service"
            if entry.uses >= entry.max_uses or self.now() - entry.created_at > entry.ttl:
                return RESPONSE_URL_GONE_STATUS, RESPONSE_URL_GONE_BODY
            entry.uses += 1
            if _truthy(payload.get("delete_original")):
                self._apply_delete(entry)
            else:
                self._apply_response(entry, payload)
        return 200, "ok"

    def _apply_delete(self, entry: _ResponseUrl) -> None:
        if entry.channel and entry.message_ts:
            with self._lock:
                msgs = self._state.messages.get(entry.channel, [])
                msgs[:] = [m for m in msgs if m["ts"] != entry.message_ts]

    def _apply_response(self, entry: _ResponseUrl, payload: JSONDict) -> None:
        if entry.channel is None:
            return
        if _truthy(payload.get("replace_original")) and entry.message_ts:
            with self._lock:
                for msg in self._state.messages.get(entry.channel, []):
                    if msg["ts"] == entry.message_ts:
                        msg["text"] = payload.get("text") or ""
                        msg["blocks"] = payload.get("blocks") or []
                        return
        ts = self._new_ts()
        msg = self._message_from(payload, ts, entry.channel)
        if payload.get("thread_ts"):
            msg["thread_ts"] = str(payload["thread_ts"])
        with self._lock:
            if payload.get("response_type") == "in_channel":
                self._state.messages.setdefault(entry.channel, []).append(msg)
            else:
                msg["user"] = entry.user_id
                self._state.ephemerals.append(msg)


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _invalid_blocks(errors: list[str]) -> SlackApiRefusal:
    return SlackApiRefusal(
        "invalid_blocks",
        errors=errors,
        response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
    )


def _invalid_arguments(errors: list[str]) -> SlackApiRefusal:
    return SlackApiRefusal(
        "invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
    )


def _parse_body(raw: bytes, content_type: str) -> tuple[JSONDict, bool]:
    """Parse a Web API body. Returns (payload, was_json). Raises ValueError on bad JSON."""
    if not raw:
        return {}, False
    if content_type.startswith("application/json"):
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        return data, True
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)), False


def _decode_json_fields(payload: JSONDict) -> None:
    for key in _JSON_STRING_FIELDS:
        value = payload.get(key)
        if isinstance(value, str) and value:
            try:
                payload[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                error = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
                raise SlackApiRefusal(error) from exc


def _make_handler(standin: SlackStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are separate writes; with Nagle on, each answer would wait ~40 ms
        # for the client's delayed ACK, which Slack does not add.
        disable_nagle_algorithm = True
        server_version = "Apache"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest output clean

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            content_type = (self.headers.get("Content-Type") or "").lower()
            if split.path.startswith("/api/"):
                self._web_api(split.path[len("/api/") :], split.query, raw, content_type)
            elif split.path.startswith("/hooks/"):
                self._response_url(split.path, raw, content_type)
            else:
                self._send(404, b"Not Found", "text/plain")

        def _web_api(self, method: str, query: str, raw: bytes, content_type: str) -> None:
            try:
                payload, was_json = _parse_body(raw, content_type)
            except (ValueError, UnicodeDecodeError):
                self._record_and_send(method, {}, None, content_type, {"error": "invalid_json"})
                return
            for key, value in parse_qsl(query, keep_blank_values=True):
                payload.setdefault(key, value)
            token = _bearer(self.headers.get("Authorization"))
            # Slack ignores a token inside a JSON body: JSON requests must use the header.
            if token is None and not was_json:
                token = payload.get("token") or None
            payload.pop("token", None)

            if standin.latency:
                time.sleep(standin.latency)
            failure = standin._take_failure(method)
            late = failure is not None and failure.status == -1
            if failure is not None and failure.delay and not late:
                time.sleep(failure.delay)
            if failure is not None and failure.status > 0:
                self._send_failure(method, payload, token, content_type, failure)
                return
            wait = standin._rate_limited(method, payload)
            if wait is not None:
                limited = _Failure(status=429, retry_after=wait, error=None, delay=0)
                self._send_failure(method, payload, token, content_type, limited)
                return

            if token is None:
                body: JSONDict = {"error": "not_authed"}
            elif token not in standin.tokens:
                body = {"error": "invalid_auth"}
            else:
                try:
                    _decode_json_fields(payload)
                    body = {"ok": True, **standin._dispatch(method, payload)}
                except SlackApiRefusal as refusal:
                    body = {"error": refusal.error, **refusal.extra}
            if late and failure is not None:
                self._record_and_send(
                    method, payload, token, content_type, body, delay=failure.delay
                )
                return
            self._record_and_send(method, payload, token, content_type, body)

        def _record_and_send(
            self,
            method: str,
            payload: JSONDict,
            token: str | None,
            content_type: str,
            body: JSONDict,
            *,
            delay: float = 0.0,
        ) -> None:
            if not body.get("ok"):
                body = {"ok": False, **body}
            standin._record(RecordedCall(method, payload, token, content_type, 200, body))
            if delay:
                time.sleep(delay)  # done and recorded; the answer comes after the client gave up
            # If the client hung up meanwhile, what was done stays done, as in Slack.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._send(200, json.dumps(body).encode(), "application/json; charset=utf-8")

        def _send_failure(
            self,
            method: str,
            payload: JSONDict,
            token: str | None,
            content_type: str,
            failure: _Failure,
        ) -> None:
            headers: dict[str, str] = {}
            if failure.status == 429:
                body: JSONDict | None = {"ok": False, "error": failure.error or "ratelimited"}
                headers["Retry-After"] = str(failure.retry_after if failure.retry_after else 0)
                data = json.dumps(body).encode()
                ctype = "application/json; charset=utf-8"
            elif failure.status >= 500:
                body = None
                data = _SERVER_ERROR_PAGE.encode()
                ctype = "text/html"
            else:
                body = {"ok": False, "error": failure.error or "ratelimited"}
                data = json.dumps(body).encode()
                ctype = "application/json; charset=utf-8"
            standin._record(
                RecordedCall(method, payload, token, content_type, failure.status, body)
            )
            self._send(failure.status, data, ctype, headers)

        def _response_url(self, path: str, raw: bytes, content_type: str) -> None:
            try:
                payload = (
                    json.loads(raw.decode("utf-8"))
                    if content_type.startswith("application/json")
                    else dict(parse_qsl(raw.decode("utf-8")))
                )
                if not isinstance(payload, dict):
                    raise ValueError("not an object")
                _decode_json_fields(payload)
            except (ValueError, UnicodeDecodeError, SlackApiRefusal):
                self._send(400, b"invalid_payload", "text/plain")
                return
            url = standin.root_url + path
            failure = standin._take_failure("response_url")
            if failure is not None and failure.delay:
                time.sleep(failure.delay)
            if failure is not None and failure.status != 0:
                status, text = failure.status, failure.error or "rollup_error"
                headers = {"Retry-After": str(failure.retry_after or 0)} if status == 429 else {}
            else:
                status, text = standin._handle_response_url(path, payload)
                headers = {}
            with standin._lock:
                standin._state.response_url_posts.append(
                    ResponseUrlPost(url, payload, status, text)
                )
            standin._record(
                RecordedCall(
                    "response_url", payload, None, content_type, status, {"ok": status == 200}
                )
            )
            self._send(
                status, text.encode(), "text/html" if status != 200 else "text/plain", headers
            )

        def _send(
            self,
            status: int,
            data: bytes,
            content_type: str,
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Slack-Req-Id", uuid.uuid4().hex)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            # A client that hung up (killed, timed out) misses the answer, as it would Slack's.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

    return Handler


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


@contextlib.contextmanager
def running_standin(**kwargs: Any) -> Iterator[SlackStandIn]:
    """`with running_standin(users=[...]) as slack:` — started, and stopped afterwards."""
    standin = SlackStandIn(**kwargs)
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()


__all__ = [
    "MESSAGE_MAX_BLOCKS",
    "MESSAGE_TEXT_MAX",
    "RESPONSE_URL_GONE_BODY",
    "RESPONSE_URL_GONE_STATUS",
    "RESPONSE_URL_MAX_USES",
    "RESPONSE_URL_TTL_SECONDS",
    "VIEW_MAX_BLOCKS",
    "RecordedCall",
    "ResponseUrlPost",
    "SlackStandIn",
    "SlackUser",
    "running_standin",
    "validate_message_blocks",
    "validate_view",
]
