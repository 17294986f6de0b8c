"""Assistant figures, all in one run over the evaluation's seeded registry (a temporary SQLite):

1. latency (p50/p95) of exact answers (no model; target < 20 ms) and of free-form answers
   (the bundled model selecting source sentences; target p50 <= ~4 s here);
2. generation overhead: the runtime's generation (queue, prompt, grammar, sampling) and the
   whole free-form answer (plus retrieval, ranking and assembly) against raw llama-cpp-python
   making the very same call (same messages, grammar and sampling,
   ``LlamaCppRuntime.completion_kwargs``) on its own ``Llama``, interleaved over the
   free-form questions in the same process (target for generation: ratio <= 1.05);
3. p99 latency of ``/models list`` (the grammar, in-process) while an answer is generating
   (target < 300 ms);
4. the false-statement count of the generated evaluation set (``tests/eval/generated.py``),
   answered with the same model (skip with ``--no-generated``).

Run: ``python -m bench.assistant [--rounds 20] [--free-rounds 2] [--no-generated]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.llm_raw import N_CTX, _llama_settings
from bot.grammar.dispatch import build_table, run_text
from bot.grammar.spec.invocation import Invocation
from governance.assistant.factory import generation_threads
from governance.assistant.runtime import (
    ChatMessage,
    Generation,
    JsonSchema,
    LlamaCppRuntime,
    QueuedRuntime,
    available_cpus,
    locate_bundled_model,
)
from governance.assistant.service import answer
from governance.wiring.services import Services
from tests.eval.generated import false_statement_figures
from tests.eval.run import load_questions, seeded_services

FREE_QUESTION = "Which deployment needs the moderation filter?"


class Recording:
    """The assistant's runtime, recording each prompt and generation (for the raw replay)."""

    def __init__(self, inner: LlamaCppRuntime) -> None:
        self.inner = inner
        self.last: tuple[list[ChatMessage], JsonSchema | None, Generation] | None = None
        self.seconds = 0.0  # the last generate call, as the queue's worker ran it

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def generate(self, messages: list[ChatMessage], **kwargs: Any) -> Generation:
        start = time.perf_counter()
        result = self.inner.generate(messages, **kwargs)
        self.seconds = time.perf_counter() - start
        self.last = (messages, kwargs.get("json_schema"), result)
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


@dataclass
class Overhead:
    """Seconds per free-form question: the whole answer, its generation, raw llama-cpp."""

    through: list[float] = field(default_factory=list)
    generation: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


def overhead(
    services: Services, runtime: QueuedRuntime, recording: Recording, llm: Any, rounds: int
) -> Overhead:
    """Interleaved over the free-form questions: the assistant's whole answer (and the
    runtime's generation within it), then raw llama-cpp-python on the very call it made.

    Questions alternate, so each side evaluates a new prompt each time (its KV cache holds
    the previous question's); both pay the same prompt evaluation.
    """
    free = [q.question for q in load_questions() if q.kind == "generated"]
    measured = Overhead()
    max_tokens = services.settings.model_max_tokens
    for _ in range(rounds):
        for question in free:
            recording.last = None
            whole = _ask(services, runtime, question)
            if recording.last is None:
                continue  # answered without the model: nothing to compare
            measured.through.append(whole)
            measured.generation.append(recording.seconds)
            messages, schema, _ = recording.last
            kwargs = recording.inner.completion_kwargs(
                messages, max_tokens=max_tokens, json_schema=schema
            )
            start = time.perf_counter()
            result = llm.create_chat_completion(**kwargs)
            measured.raw.append(time.perf_counter() - start)
            measured.outputs.append(result["choices"][0]["message"]["content"])
    return measured


def print_false_statements(runtime: QueuedRuntime, out: Callable[[str], None]) -> None:
    """The generated evaluation set's false-statement count, with the same model."""
    figures = false_statement_figures(runtime=runtime, answer_timeout_seconds=600)
    out(
        f"generated set: FALSE STATEMENTS {figures['false_statements']} (target 0) in "
        f"{figures['sentences']} answer sentences; exact {figures['exact_passed']}/"
        f"{figures['exact_total']}; declined {figures['declined']}/{figures['decline_total']}; "
        f"{figures['model_questions']} questions for the model, "
        f"{figures['model_answered_by_model']} answered from its selection"
    )


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


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=20, help="rounds over the exact questions")
    parser.add_argument("--free-rounds", type=int, default=2)
    parser.add_argument("--overhead-rounds", type=int, default=2)
    parser.add_argument("--ack-samples", type=int, default=200)
    parser.add_argument("--no-generated", action="store_true", help="skip the generated set")
    args = parser.parse_args(argv)
    out(f"load average before the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    from llama_cpp import Llama

    with tempfile.TemporaryDirectory() as tmp:
        services = seeded_services(
            f"sqlite:///{tmp}/bench.db", model_n_ctx=N_CTX, answer_timeout_seconds=600
        )
        threads = generation_threads(services.settings)  # what the bot would use
        max_tokens = services.settings.model_max_tokens
        recording = Recording(
            LlamaCppRuntime(
                n_ctx=N_CTX, max_tokens=max_tokens, seed=1, eager=True, n_threads=threads
            )
        )
        runtime = QueuedRuntime(recording)  # type: ignore[arg-type]
        llm = Llama(model_path=str(locate_bundled_model()), **_llama_settings(1, threads))
        try:
            out(
                f"model: {recording.name}, threads: {threads} of {available_cpus()} CPUs, "
                f"n_ctx {N_CTX}"
            )
            out("exact answers (no model):   " + _ms(exact_latency(services, args.rounds)))
            _ask(services, runtime, FREE_QUESTION)  # warm-up: first decode allocates buffers
            llm.create_chat_completion(messages=[{"role": "user", "content": "hi"}], max_tokens=2)
            out(
                "free-form answers (model):  "
                + _ms(free_latency(services, runtime, args.free_rounds))
            )
            measured = overhead(services, runtime, recording, llm, args.overhead_rounds)
            raw, n = sum(measured.raw), len(measured.raw)
            out(
                f"raw llama-cpp-python, same call: {raw / n:.3f} s mean (n={n}; raw outputs: "
                f"{sorted(set(measured.outputs))[:3]})"
            )
            out(
                f"generation through the runtime: {sum(measured.generation) / n:.3f} s mean; "
                f"overhead ratio (runtime / raw): {sum(measured.generation) / raw:.3f} "
                "(target <= 1.05)"
            )
            out(
                f"whole free-form answer (retrieval, ranking, generation, assembly): "
                f"{sum(measured.through) / n:.3f} s mean; ratio to raw: "
                f"{sum(measured.through) / raw:.3f}"
            )
            latencies, answers = ack_latency_while_generating(services, runtime, args.ack_samples)
            out(
                f"/models list while generating ({answers} answers ran meanwhile; grammar "
                f"in-process, not over Slack HTTP): " + _ms(latencies) + " (target p99 < 300 ms)"
            )
            if not args.no_generated:
                print_false_statements(runtime, out)
            out(f"load average after the run: {os.getloadavg()[0]:.2f}")
        finally:
            runtime.close()
            llm.close()
            services.close()


if __name__ == "__main__":
    main()
