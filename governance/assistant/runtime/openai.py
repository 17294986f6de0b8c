"""Generation through an OpenAI-compatible ``/v1/chat/completions`` server (llama.cpp server,
vLLM) with SSE streaming, for teams that run the model outside the bot process.

A JSON schema goes as ``response_format: {"type": "json_schema", ...}``, which llama.cpp's
server turns into a grammar and vLLM into guided decoding. A server that refuses the field
(400) is asked again without it; one that ignores it may write prose, which the answers
pipeline then verifies sentence by sentence (``verify``) instead of trusting.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx2

from governance.assistant.runtime.base import (
    STOP_SEQUENCES,
    ChatMessage,
    Generation,
    JsonSchema,
    ModelServerError,
    TokenCallback,
)

CONNECT_TIMEOUT = 5.0
# Without a deadline a stalled server must still not hold the worker forever.
DEFAULT_READ_TIMEOUT = 120.0
# The OpenAI API's own repetition control (llama.cpp's server and vLLM take it too).
FREQUENCY_PENALTY = 0.3


class _SchemaRefused(Exception):
    """The server answered 400 to a request carrying ``response_format``."""


def chat_completions_url(base_url: str) -> str:
    """Accept both ``http://host:8080`` and ``http://host:8080/v1`` as the base URL."""
    base = base_url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    if not base.endswith("/v1"):
        base += "/v1"
    return base + "/chat/completions"


class OpenAICompatibleRuntime:
    """The ``ModelRuntime`` interface over HTTP. Thread-safe (the HTTP client is)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        name: str | None = None,
        context_window: int | None = None,
        temperature: float = 0.2,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        self.url = chat_completions_url(base_url)
        self.model = model
        self._name = name or f"{model} (via {base_url.rstrip('/')})"
        self._context_window = context_window
        self.temperature = temperature
        self.read_timeout = read_timeout
        self._clock = clock
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx2.Client(headers=headers, transport=transport, trust_env=False)

    @property
    def name(self) -> str:
        return self._name

    @property
    def context_window(self) -> int | None:
        return self._context_window

    def count_tokens(self, text: str) -> int | None:
        return None  # /tokenize is not part of the OpenAI API; callers estimate

    def generate(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        deadline: float | None = None,
        on_token: TokenCallback | None = None,
        json_schema: JsonSchema | None = None,
    ) -> Generation:
        start = self._clock()
        if deadline is not None and start >= deadline:
            return Generation("", 0, 0.0, True, self.name, finish_reason="deadline")
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": self.temperature,
            "frequency_penalty": FREQUENCY_PENALTY,
            "stop": list(STOP_SEQUENCES),
            "stream": True,
            # Servers that support it send exact usage in a last chunk; others ignore it.
            "stream_options": {"include_usage": True},
        }
        if json_schema is not None:
            payload["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "selection", "schema": json_schema, "strict": True},
            }
            try:
                return self._stream(payload, start, deadline, on_token)
            except _SchemaRefused:
                del payload["response_format"]
        return self._stream(payload, start, deadline, on_token)

    def _stream(
        self,
        payload: dict[str, Any],
        start: float,
        deadline: float | None,
        on_token: TokenCallback | None,
    ) -> Generation:
        read_timeout = self.read_timeout
        if deadline is not None:
            # A stalled server is noticed at the deadline, not read_timeout later.
            read_timeout = max(0.05, min(read_timeout, deadline - start))
        timeout = httpx2.Timeout(read_timeout, connect=CONNECT_TIMEOUT)

        pieces: list[str] = []
        chunks = 0
        usage_tokens: int | None = None
        prompt_tokens: int | None = None
        finish: str | None = None
        timed_out = False
        try:
            with self._client.sse(self.url, method="POST", json=payload, timeout=timeout) as events:
                response = events.response
                if response.status_code != 200:
                    response.read()
                    if response.status_code == 400 and "response_format" in payload:
                        raise _SchemaRefused(response.text)
                    raise ModelServerError(
                        f"The model server at {self.url} answered {response.status_code}: "
                        f"{_error_detail(response.text)}"
                    )
                for event in events:
                    if event.data.strip() == "[DONE]":
                        break
                    data = _parse_event(event.data)
                    if "error" in data:
                        raise ModelServerError(
                            f"The model server reported an error: {_error_detail(event.data)}"
                        )
                    usage = data.get("usage")
                    if isinstance(usage, dict):
                        usage_tokens = usage.get("completion_tokens", usage_tokens)
                        prompt_tokens = usage.get("prompt_tokens", prompt_tokens)
                    for choice in data.get("choices") or []:
                        piece = (choice.get("delta") or {}).get("content")
                        if piece:
                            chunks += 1
                            pieces.append(piece)
                            if on_token is not None:
                                on_token(piece)
                        if choice.get("finish_reason"):
                            finish = choice["finish_reason"]
                    if finish is None and deadline is not None and self._clock() >= deadline:
                        timed_out = True
                        finish = "deadline"
                        break  # leaving the block closes the connection: the server stops
        except httpx2.TimeoutException as exc:
            if deadline is not None and self._clock() >= deadline - 0.01:
                timed_out, finish = True, "deadline"
            else:
                raise ModelServerError(
                    f"The model server at {self.url} did not answer in time ({exc})."
                ) from exc
        except httpx2.SSEError as exc:
            raise ModelServerError(f"The model server at {self.url} did not stream: {exc}") from exc
        except httpx2.HTTPError as exc:
            raise ModelServerError(
                f"The model server at {self.url} could not be reached: {type(exc).__name__}: {exc}"
            ) from exc
        return Generation(
            text="".join(pieces),
            # Without usage, each streamed delta is one token on llama.cpp server and vLLM.
            completion_tokens=usage_tokens if usage_tokens is not None else chunks,
            elapsed=self._clock() - start,
            timed_out=timed_out,
            model_name=self.name,
            finish_reason=finish,
            prompt_tokens=prompt_tokens,
        )

    def close(self) -> None:
        self._client.close()


def _parse_event(data: str) -> dict[str, Any]:
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ModelServerError(f"The model server sent malformed JSON: {data[:200]!r}") from exc
    if not isinstance(parsed, dict):
        raise ModelServerError(f"The model server sent an unexpected event: {data[:200]!r}")
    return parsed


def _error_detail(body: str) -> str:
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        return body[:300] or "(empty body)"
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:300]
    return body[:300]
