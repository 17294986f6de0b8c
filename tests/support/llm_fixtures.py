"""The real bundled model for tests, loaded once per session, and a loopback OpenAI-style server.

Bind them in a test module: ``bundled_runtime = llm_fixtures.bundled_runtime``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from governance.assistant.runtime import LlamaCppRuntime

# Small on purpose: enough for plumbing, cheap enough to keep the suite fast.
TEST_N_CTX = 1024
TEST_MAX_TOKENS = 48


@pytest.fixture(scope="session")
def bundled_runtime() -> Iterator[LlamaCppRuntime]:
    runtime = LlamaCppRuntime(n_ctx=TEST_N_CTX, max_tokens=256, seed=7, eager=True)
    yield runtime
    runtime.close()


@dataclass
class SSEScript:
    """What the loopback server answers; tests edit it before calling."""

    pieces: list[str] = field(default_factory=lambda: ["Apache", "-2.0", " allows", " it", " [1]."])
    status: int = 200
    error_body: str = ""
    delay_after: int | None = None  # stall (until released) after this many pieces
    include_usage: bool = True
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    script: SSEScript

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def do_POST(self) -> None:
        script = self.server.script  # type: ignore[attr-defined]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        script.requests.append(body)
        script.headers.append(dict(self.headers.items()))
        if self.path != "/v1/chat/completions":
            self._json(404, {"error": {"message": f"no route {self.path}", "code": 404}})
            return
        if script.status != 200:
            self._json(script.status, json.loads(script.error_body or '{"error": {}}'))
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": body["model"]}
        self._event({**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]})
        try:
            for n, piece in enumerate(script.pieces):
                if script.delay_after is not None and n == script.delay_after:
                    script.release.wait(10)
                delta = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                self._event({**base, "choices": [delta]})
            done = {"index": 0, "delta": {}, "finish_reason": "stop"}
            self._event({**base, "choices": [done]})
            if script.include_usage:
                usage = {"prompt_tokens": 11, "completion_tokens": len(script.pieces)}
                self._event({**base, "choices": [], "usage": usage})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up (deadline): what a real server sees too

    def _event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
        self.wfile.flush()

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@dataclass
class SSEServer:
    url: str
    script: SSEScript


@pytest.fixture
def sse_server() -> Iterator[SSEServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.script = SSEScript()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield SSEServer(f"http://{host}:{port}", server.script)  # type: ignore[attr-defined]
    finally:
        server.script.release.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
