"""Slack's Block Kit rules, as the stand-in enforces them on messages, modals and Home tabs.

Limits are Slack's documented ones (and slack_sdk.models' constants); a complaint is worded as
Slack words it, with a JSON pointer: "no more than 50 items allowed [json-pointer:/blocks]".
"""

from __future__ import annotations

from tests.support.slack_standin_wire import JSONDict

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
    """Walks blocks and collects Slack's complaints (``errors``) instead of stopping at one."""

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
