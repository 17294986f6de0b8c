"""The model runtime: one interface over a local GGUF (llama-cpp-python) or an OpenAI-compatible
server, and the single-worker queue that owns it.

A runtime turns chat messages into text. It knows nothing about governance: the answers pipeline
builds the messages (``prompting``) and decides what the text means. Deadlines are absolute
``time.monotonic()`` values so that time spent waiting in the queue counts against the budget.
"""

from __future__ import annotations

from governance.assistant.runtime.base import (
    BUNDLED_MODEL_NAME,
    ChatMessage,
    Generation,
    JsonSchema,
    ModelRuntime,
    ModelServerError,
    ModelUnavailable,
    PromptTooLong,
    RuntimeClosed,
    TokenCallback,
    available_cpus,
    deadline_in,
    locate_bundled_model,
)
from governance.assistant.runtime.llama import LlamaCppRuntime
from governance.assistant.runtime.openai import OpenAICompatibleRuntime
from governance.assistant.runtime.queue import QueuedRuntime

__all__ = [
    "BUNDLED_MODEL_NAME",
    "ChatMessage",
    "Generation",
    "JsonSchema",
    "LlamaCppRuntime",
    "ModelRuntime",
    "ModelServerError",
    "ModelUnavailable",
    "OpenAICompatibleRuntime",
    "PromptTooLong",
    "QueuedRuntime",
    "RuntimeClosed",
    "TokenCallback",
    "available_cpus",
    "deadline_in",
    "locate_bundled_model",
]
