"""Record what the local model writes for the generated set's free-form questions.

Run: ``python -m tests.eval.record [--seed 2026] [--output FILE]`` (default file:
``tests/eval/recorded/smollm2-seed<N>.json``).
Each record holds the question, the numbered sources the model was shown (parsed from the
prompt: number, title, ref, text), and the model's raw text before any cleanup. The records let
tests run the verifier / assembler on real model output and count, with the checker, the false
statements that survive (``recorded_outputs`` loads them).
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.assistant.service import answer
from tests.eval.checker import Context, SentenceVerdict, check_answer
from tests.eval.gen_questions import GenQuestion, generate_questions
from tests.eval.generated import DEFAULT_SEED
from tests.eval.generator import generated_services, plan
from tests.eval.truth import Truth

RECORDED = Path(__file__).with_name("recorded")
_SOURCE = re.compile(r'<source id="(\d+)" title="([^"]*)" ref="([^"]*)">\n(.*?)\n</source>', re.S)


@dataclass(frozen=True)
class RecordedSource:
    number: int
    title: str
    ref: str
    text: str


@dataclass(frozen=True)
class RecordedOutput:
    """One generation: the question, the sources in the prompt, and what the model wrote."""

    seed: int
    question_id: str
    question: str
    sources: tuple[RecordedSource, ...]
    raw: str
    context: Context = field(default_factory=Context)


class _RecordingQueue:
    """Wraps the queued runtime: keeps each prompt and the future of its generation."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[list[dict[str, str]], Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def submit(self, messages: list[dict[str, str]], **kwargs: Any) -> Any:
        future = self.inner.submit(messages, **kwargs)
        self.calls.append((messages, future))
        return future


def sources_in(messages: list[dict[str, str]]) -> tuple[RecordedSource, ...]:
    """The numbered sources of the last user message (the real question, not the example)."""
    user = [m["content"] for m in messages if m.get("role") == "user"]
    found = _SOURCE.findall(user[-1]) if user else []
    return tuple(RecordedSource(int(n), t, r, body) for n, t, r, body in found)


def record(seed: int, output: Path) -> int:
    """Ask the model-route questions of ``seed`` through the bundled model; write the records.

    Returns how many generations were recorded.
    """
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        services, truth = generated_services(
            f"sqlite:///{tmp}/record.db", seed, model_n_ctx=2048, answer_timeout_seconds=600
        )
        try:
            queue = _RecordingQueue(services.assistant.runtime())
            questions: list[GenQuestion] = [
                q for q in generate_questions(truth) if q.route == "model"
            ]
            for question in questions:
                before = len(queue.calls)
                answer(
                    question.text,
                    session_factory=services.session_factory,
                    clock=services.clock,
                    runtime=queue,  # type: ignore[arg-type]
                    settings=services.settings,
                )
                for messages, future in queue.calls[before:]:
                    records.append(
                        {
                            "seed": seed,
                            "question_id": question.id,
                            "question": question.text,
                            "sources": [vars(s) for s in sources_in(messages)],
                            "raw": future.result().text,
                            "context": context_json(question.context),
                        }
                    )
        finally:
            services.close()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(records)


def context_json(context: Context) -> dict[str, Any]:
    return {
        "models": list(context.models),
        "licenses": list(context.licenses),
        "verdicts": sorted(context.verdicts) if context.verdicts is not None else None,
    }


def _context(raw: dict[str, Any] | None) -> Context:
    if not raw:
        return Context()
    verdicts = raw.get("verdicts")
    return Context(
        tuple(raw.get("models", ())),
        tuple(raw.get("licenses", ())),
        frozenset(verdicts) if verdicts is not None else None,
    )


def recorded_outputs(path: Path | None = None) -> list[RecordedOutput]:
    """The recorded generations (default: every file under tests/eval/recorded/)."""
    paths = [path] if path is not None else sorted(RECORDED.glob("*.json"))
    found: list[RecordedOutput] = []
    for each in paths:
        for item in json.loads(each.read_text(encoding="utf-8")):
            found.append(
                RecordedOutput(
                    seed=item["seed"],
                    question_id=item["question_id"],
                    question=item["question"],
                    sources=tuple(RecordedSource(**s) for s in item["sources"]),
                    raw=item["raw"],
                    context=_context(item.get("context")),
                )
            )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description="Record the model's free-form answers.")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    output = args.output or RECORDED / f"smollm2-seed{args.seed}.json"
    print(f"recorded {record(args.seed, output)} generations in {output}")


if __name__ == "__main__":
    main()


def source_ids(sources: tuple[RecordedSource, ...]) -> list[str]:
    """Source ids the checker understands, from the recorded titles ("Request #12 (...)")."""
    ids = []
    for source in sorted(sources, key=lambda s: s.number):
        match = re.match(r"Request #(\d+)\b", source.title)
        ids.append(f"approval:{match.group(1)}" if match else "")
    return ids


Transform = Callable[[RecordedOutput], "str | tuple[str, list[str]]"]


def false_in_recorded(
    outputs: list[RecordedOutput], transform: Transform | None = None
) -> list[tuple[RecordedOutput, SentenceVerdict]]:
    """The false sentences in each recorded output, after ``transform`` (e.g. a verifier that
    turns the raw text and its sources into the answer a user would see; it may return the new
    text with its own source ids, ``approval:12`` ..., when it renumbers); raw text if None."""
    return [(o, v) for o, v in verdicts_in_recorded(outputs, transform) if v.false]


def verdicts_in_recorded(
    outputs: list[RecordedOutput], transform: Transform | None = None
) -> list[tuple[RecordedOutput, SentenceVerdict]]:
    """Every sentence's verdict, like ``false_in_recorded``."""
    truths: dict[int, Truth] = {}
    found: list[tuple[RecordedOutput, SentenceVerdict]] = []
    for output in outputs:
        if output.seed not in truths:
            truths[output.seed] = plan(output.seed).truth
        result = transform(output) if transform is not None else output.raw
        text, ids = result if isinstance(result, tuple) else (result, source_ids(output.sources))
        verdicts = check_answer(text, truths[output.seed], output.context, source_ids=ids)
        found += [(output, v) for v in verdicts]
    return found
