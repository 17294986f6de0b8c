"""Generation tokens/s: raw llama-cpp-python vs the same model through ``QueuedRuntime``.

Same model file, same prompt, same sampling (``LlamaCppRuntime.completion_kwargs``: the
temperature, seed, repeat penalty and stop sequences the assistant uses), same process, runs
interleaved so machine noise hits both sides alike. Raw is the non-streaming
``create_chat_completion`` call (what a bare script would do); the runtime path adds streaming,
the deadline checks, the queue hop and the future. Target ratio <= 1.05.
Run: ``python -m bench.llm_raw [--runs 5] [--max-tokens 128]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.assistant.runtime import (
    LlamaCppRuntime,
    QueuedRuntime,
    available_cpus,
    locate_bundled_model,
)

PROMPT: list[dict[str, str]] = [
    {"role": "system", "content": "You are a concise assistant."},
    {
        "role": "user",
        "content": "Explain the difference between open weights and open source AI models, "
        "covering weights, training data, training code and licenses.",
    },
]
N_CTX = 2048


@dataclass(frozen=True)
class Measurement:
    label: str
    tokens: int
    seconds: float

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


def _llama_settings(seed: int, threads: int | None = None) -> dict[str, Any]:
    threads = threads or available_cpus()
    return {
        "n_ctx": N_CTX,
        "n_threads": threads,
        "n_threads_batch": threads,
        "seed": seed,
        "verbose": False,
    }


def measure_raw(
    llm: Any, runtime: LlamaCppRuntime, messages: list[dict[str, str]], *, max_tokens: int
) -> Measurement:
    """One non-streaming generation on a bare ``Llama`` with the call ``runtime`` would make;
    tokens from its own usage report."""
    kwargs = runtime.completion_kwargs(messages, max_tokens=max_tokens)
    start = time.perf_counter()
    result = llm.create_chat_completion(**kwargs)
    seconds = time.perf_counter() - start
    return Measurement("raw llama-cpp-python", result["usage"]["completion_tokens"], seconds)


def measure_runtime(
    runtime: QueuedRuntime, messages: list[dict[str, str]], *, max_tokens: int
) -> Measurement:
    """One generation submitted through the queue, timed from submit to result."""
    start = time.perf_counter()
    generation = runtime.submit(messages, max_tokens=max_tokens).result()
    seconds = time.perf_counter() - start
    return Measurement("QueuedRuntime", generation.completion_tokens, seconds)


def compare(
    *,
    model_path: Path | None = None,
    runs: int = 5,
    max_tokens: int = 128,
    seed: int = 1,
) -> tuple[list[Measurement], list[Measurement]]:
    """Interleaved runs of both paths; each path gets its own ``Llama`` from the same file."""
    from llama_cpp import Llama

    path = model_path or locate_bundled_model()
    raw_llm = Llama(model_path=str(path), **_llama_settings(seed))
    inner = LlamaCppRuntime(path, n_ctx=N_CTX, max_tokens=max_tokens, seed=seed, eager=True)
    runtime = QueuedRuntime(inner)
    try:
        # Warm-up: first decode pays for buffer allocation on both sides.
        measure_raw(raw_llm, inner, PROMPT, max_tokens=8)
        measure_runtime(runtime, PROMPT, max_tokens=8)
        raw: list[Measurement] = []
        queued: list[Measurement] = []
        for _ in range(runs):
            raw.append(measure_raw(raw_llm, inner, PROMPT, max_tokens=max_tokens))
            queued.append(measure_runtime(runtime, PROMPT, max_tokens=max_tokens))
        return raw, queued
    finally:
        runtime.close()
        raw_llm.close()


def _rate(measurements: list[Measurement]) -> float:
    """Aggregate tokens/s (total tokens over total time), robust to runs of unequal length."""
    return sum(m.tokens for m in measurements) / sum(m.seconds for m in measurements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--model", type=Path, default=None, help="GGUF path (default: bundled)")
    args = parser.parse_args()
    raw, queued = compare(model_path=args.model, runs=args.runs, max_tokens=args.max_tokens)
    print(f"model: {args.model or locate_bundled_model().name}, threads: {available_cpus()}")
    for label, runs in (("raw llama-cpp-python", raw), ("QueuedRuntime", queued)):
        per_run = ", ".join(f"{m.tokens_per_second:.1f}" for m in runs)
        median = statistics.median(m.tokens_per_second for m in runs)
        print(
            f"{label:22s} {_rate(runs):7.1f} tok/s aggregate, median {median:.1f} "
            f"(runs: {per_run}; tokens/run: {[m.tokens for m in runs]})"
        )
    ratio = _rate(raw) / _rate(queued)
    print(f"overhead ratio (raw tok/s / runtime tok/s): {ratio:.3f} (target <= 1.05)")


if __name__ == "__main__":
    main()
