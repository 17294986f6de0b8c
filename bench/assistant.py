"""Assistant figures, all in one run over the evaluation's seeded registry (a temporary SQLite):

1. latency (p50/p95) of exact answers (no model) and of free-form answers (default model);
2. generation tokens/s through the assistant vs raw llama-cpp-python on the same grounded
   prompt, interleaved in the same process (target overhead ratio <= 1.10);
3. p99 latency of ``/models list`` (the grammar, in-process) while an answer is generating
   (target < 300 ms).

Run: ``python -m bench.assistant [--rounds 20] [--free-rounds 2] [--max-tokens 64]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from bench.llm_raw import N_CTX, Measurement, _llama_settings, measure_raw
from bot.commands import Invocation, build_table, run_text
from governance.app import Services
from governance.assistant.runtime import (
    ChatMessage,
    Generation,
    LlamaCppRuntime,
    QueuedRuntime,
    available_cpus,
    locate_bundled_model,
)
from governance.assistant.service import answer
from governance.assistant.wiring import generation_threads
from tests.eval.run import load_questions, seeded_services

FREE_QUESTION = "Which deployment needs the moderation filter?"


class Recording:
    """The assistant's runtime, recording each prompt and generation (for the raw replay)."""

    def __init__(self, inner: LlamaCppRuntime) -> None:
        self.inner = inner
        self.last: tuple[list[ChatMessage], Generation] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def generate(self, messages: list[ChatMessage], **kwargs: Any) -> Generation:
        result = self.inner.generate(messages, **kwargs)
        self.last = (messages, result)
        return result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _ask(services: Services, runtime: QueuedRuntime | None, question: str) -> float:
    start = time.perf_counter()
    answer(
        question,
        session_factory=services.session_factory,
        clock=services.clock,
        runtime=runtime,
        settings=services.settings,
    )
    return time.perf_counter() - start


def exact_latency(services: Services, rounds: int) -> list[float]:
    exact = [q.question for q in load_questions() if q.kind in ("exact", "clarify")]
    _ask(services, None, exact[0])  # warm-up: imports, knowledge base, connection
    return [_ask(services, None, q) for _ in range(rounds) for q in exact]


def free_latency(services: Services, runtime: QueuedRuntime, rounds: int) -> list[float]:
    free = [q.question for q in load_questions() if q.kind == "generated"]
    return [_ask(services, runtime, q) for _ in range(rounds) for q in free]


def overhead(
    services: Services, runtime: QueuedRuntime, recording: Recording, llm: Any, runs: int
) -> tuple[list[Measurement], list[Measurement]]:
    """Interleaved: the assistant answering, then raw llama-cpp on the very prompt it built."""
    raw: list[Measurement] = []
    through: list[Measurement] = []
    max_tokens = services.settings.model_max_tokens
    # Warm-up on both sides: each Llama then holds this prompt in its KV cache, so both runs
    # below measure generation, not a first prompt evaluation only one of them pays.
    _ask(services, runtime, FREE_QUESTION)
    assert recording.last is not None
    measure_raw(llm, recording.last[0], max_tokens=max_tokens, seed=1)
    for _ in range(runs):
        seconds = _ask(services, runtime, FREE_QUESTION)
        assert recording.last is not None
        messages, generation = recording.last
        through.append(Measurement("assistant", generation.completion_tokens, seconds))
        raw.append(measure_raw(llm, messages, max_tokens=max_tokens, seed=1))
    return raw, through


def ack_latency_while_generating(
    services: Services, runtime: QueuedRuntime, samples: int
) -> tuple[list[float], int]:
    """``/models list`` through the grammar, timed, while free-form answers keep generating."""
    table = build_table()
    invocation = Invocation(services=services, user="carol")
    stop = threading.Event()
    generated = [0]

    def keep_generating() -> None:
        while not stop.is_set():
            _ask(services, runtime, FREE_QUESTION)
            generated[0] += 1

    worker = threading.Thread(target=keep_generating, daemon=True)
    worker.start()
    while not runtime.is_busy():
        time.sleep(0.01)
    latencies = []
    for _ in range(samples):
        start = time.perf_counter()
        run_text("/models list", invocation, table)
        latencies.append(time.perf_counter() - start)
        time.sleep(0.02)
    stop.set()
    worker.join()
    return latencies, generated[0]


def _ms(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50) * 1000:.1f} ms, p95 {percentile(values, 95) * 1000:.1f} ms,"
        f" p99 {percentile(values, 99) * 1000:.1f} ms (n={len(values)})"
    )


def _rate(measurements: list[Measurement]) -> float:
    return sum(m.tokens for m in measurements) / sum(m.seconds for m in measurements)


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=20, help="rounds over the exact questions")
    parser.add_argument("--free-rounds", type=int, default=2)
    parser.add_argument("--overhead-runs", type=int, default=5)
    parser.add_argument("--ack-samples", type=int, default=200)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args(argv)
    out(f"load average before the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    from llama_cpp import Llama

    with tempfile.TemporaryDirectory() as tmp:
        services = seeded_services(
            f"sqlite:///{tmp}/bench.db",
            model_max_tokens=args.max_tokens,
            model_n_ctx=N_CTX,
            answer_timeout_seconds=600,
        )
        threads = generation_threads(services.settings)  # what the bot would use
        recording = Recording(
            LlamaCppRuntime(
                n_ctx=N_CTX, max_tokens=args.max_tokens, seed=1, eager=True, n_threads=threads
            )
        )
        runtime = QueuedRuntime(recording)  # type: ignore[arg-type]
        llm = Llama(model_path=str(locate_bundled_model()), **_llama_settings(1, threads))
        try:
            out(
                f"model: {recording.name}, threads: {threads} of {available_cpus()} CPUs, "
                f"n_ctx {N_CTX}, "
                f"max_tokens {args.max_tokens}"
            )
            out("exact answers (no model):   " + _ms(exact_latency(services, args.rounds)))
            _ask(services, runtime, FREE_QUESTION)  # warm-up: first decode allocates buffers
            out(
                "free-form answers (model):  "
                + _ms(free_latency(services, runtime, args.free_rounds))
            )
            raw, through = overhead(services, runtime, recording, llm, args.overhead_runs)
            out(
                f"tokens/s raw llama-cpp-python: {_rate(raw):.1f} "
                f"(runs: {[round(m.tokens_per_second, 1) for m in raw]})"
            )
            out(
                f"tokens/s through the assistant: {_rate(through):.1f} "
                f"(runs: {[round(m.tokens_per_second, 1) for m in through]}; retrieval, prompt, "
                "queue and grounding included)"
            )
            out(
                f"overhead ratio (raw / assistant): {_rate(raw) / _rate(through):.3f} "
                "(target <= 1.10)"
            )
            latencies, answers = ack_latency_while_generating(services, runtime, args.ack_samples)
            out(
                f"/models list while generating ({answers} answers ran meanwhile; grammar "
                f"in-process, not over Slack HTTP): " + _ms(latencies) + " (target p99 < 300 ms)"
            )
            out(
                f"median tokens/s of the assistant runs: "
                f"{statistics.median(m.tokens_per_second for m in through):.1f}"
            )
        finally:
            runtime.close()
            llm.close()
            services.close()


if __name__ == "__main__":
    main()
