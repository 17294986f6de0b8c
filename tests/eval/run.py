"""The assistant's evaluation: questions with expected facts over the seeded registry.

Run: ``python -m tests.eval.run`` (no model: exact intents and declines; free-form questions
are checked for routing and retrieved sources only) or ``python -m tests.eval.run --model``
(free-form questions answered by the bundled model, or the one MODELGOV_MODEL_* configure).
Prints accuracy per category for the fixed set (questions.yaml over seed.py), then for the
generated set (``--seed N``, see tests/eval/generated.py): accuracy per intent, the share of
registry questions answered exactly, declines and the false-statement count. ``--set fixed``
or ``--set generated`` runs one of them.

A question passes when the answer has the expected ``kind``, contains every ``expect`` phrase
(case-insensitive) and none of the ``reject`` phrases, and its sources include every ``cites``
fragment (matched against source ids, titles and refs). Generated answers must also cite only
sources that exist; a free-form question's expected facts are checked in the sources the
answer was grounded on (the bundled 135M model's wording is not trusted, its grounding is).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from governance.assistant.prompting import extract_citations
from governance.assistant.service import Answer, answer
from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.wiring.services import Services, build_services
from tests.eval.generated import (
    DEFAULT_SEED,
    GeneratedOutcome,
    evaluate_generated,
    report_lines,
)
from tests.eval.seed import NOW, seed

QUESTIONS = Path(__file__).with_name("questions.yaml")
EXACT_CATEGORIES = frozenset(
    {"approval_status", "approver", "license", "changes", "approved_for_use", "pending", "clarify"}
)
MODEL_FREE_CATEGORIES = EXACT_CATEGORIES | {"decline", "injection"}


@dataclass(frozen=True)
class Question:
    id: str
    category: str
    question: str
    kind: str
    expect: tuple[str, ...] = ()
    reject: tuple[str, ...] = ()
    cites: tuple[str, ...] = ()


@functools.cache
def load_questions(path: Path = QUESTIONS) -> tuple[Question, ...]:
    """The evaluation questions (validated: unique ids, known kinds)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = tuple(
        Question(
            id=item["id"],
            category=item["category"],
            question=item["q"],
            kind=item["kind"],
            expect=tuple(item.get("expect", ())),
            reject=tuple(item.get("reject", ())),
            cites=tuple(item.get("cites", ())),
        )
        for item in raw["questions"]
    )
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate question ids in questions.yaml")
    if any(q.kind not in {"exact", "generated", "unknown", "clarify"} for q in questions):
        raise ValueError("unknown kind in questions.yaml")
    return questions


def problems(question: Question, result: Answer, *, with_model: bool = True) -> list[str]:
    """Why ``result`` fails ``question`` (empty when it passes).

    Without a model a free-form question passes when it is routed to the free-form path and
    retrieval finds the expected sources (what the model would be given).
    """
    found: list[str] = []
    if question.kind == "generated" and not with_model:
        if result.intent != "free_form":
            found.append(f"intent {result.intent!r}, expected free-form")
    elif result.kind != question.kind:
        found.append(f"kind {result.kind!r}, expected {question.kind!r}")
    body = result.text.lower()
    grounded = body
    if result.kind == "generated" or question.kind == "generated":
        grounded = " ".join(s.title.lower() + " " + s.ref.lower() for s in result.sources)
        if with_model and (not result.advisory or (result.model_name or "") not in result.advisory):
            found.append("generated answer without the advisory label naming the model")
        cited = extract_citations(result.text, 99)
        if any(n > len(result.sources) for n in cited):
            found.append(f"cites a source that is not listed: {cited}")
    for phrase in question.expect:
        if phrase.lower() not in body and phrase.lower() not in grounded:
            found.append(f"missing {phrase!r}")
    for phrase in question.reject:
        if phrase.lower() in body:
            found.append(f"contains {phrase!r}")
    refs = [f"{s.source_id} {s.title} {s.ref}".lower() for s in result.sources]
    for fragment in question.cites:
        if not any(fragment.lower() in ref for ref in refs):
            found.append(f"no source matching {fragment!r}")
    return found


@dataclass(frozen=True)
class Outcome:
    question: Question
    answer: Answer
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def seeded_services(database_url: str, **overrides: Any) -> Services:
    """Services over ``database_url`` (migrated, empty), seeded, with the clock at NOW."""
    from governance.core import migrate

    migrate.upgrade(database_url)
    values: dict[str, Any] = {"database_url": database_url, "approvers": ["alice", "bob"]}
    values.update(overrides)
    services = build_services(Settings(_env_file=None, **values), clock=FrozenClock(NOW))  # type: ignore[call-arg]
    seed(services.session_factory)
    return services


def evaluate(
    services: Services,
    questions: Iterable[Question],
    *,
    runtime: Any = None,
    on_result: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Ask every question; ``runtime`` is a QueuedRuntime or None (no free-form answers)."""
    outcomes = []
    for question in questions:
        result = answer(
            question.question,
            session_factory=services.session_factory,
            clock=services.clock,
            runtime=runtime,
            settings=services.settings,
        )
        found = problems(question, result, with_model=runtime is not None)
        outcome = Outcome(question, result, tuple(found))
        outcomes.append(outcome)
        if on_result is not None:
            on_result(outcome)
    return outcomes


def report(outcomes: list[Outcome]) -> str:
    """Accuracy per category and overall, as printed lines."""
    by_category: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_category[outcome.question.category].append(outcome)
    lines = [f"{'category':18s} {'passed':>8s} {'accuracy':>9s} {'p50 ms':>8s}"]
    for category in sorted(by_category):
        group = by_category[category]
        passed = sum(o.passed for o in group)
        p50 = statistics.median(o.answer.elapsed for o in group) * 1000
        lines.append(
            f"{category:18s} {passed:>3d}/{len(group):<4d} {passed / len(group):>8.0%} {p50:>8.1f}"
        )
    generated = [o for o in outcomes if o.answer.kind == "generated"]
    if generated:
        own = sum(1 for o in generated if (o.answer.advisory or "").startswith("Written by"))
        lines.append(
            f"generated answers in the model's own cited words: {own}/{len(generated)} "
            "(the rest: model text untraceable to a source, closest source sentence quoted)"
        )
    total = sum(o.passed for o in outcomes)
    lines.append(f"{'all':18s} {total:>3d}/{len(outcomes):<4d} {total / len(outcomes):>8.0%}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Evaluate the assistant on the seeded registry.")
    parser.add_argument("--model", action="store_true", help="also run free-form questions")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--verbose", "-v", action="store_true")
    parser.add_argument("--set", choices=("all", "fixed", "generated"), default="all")
    parser.add_argument(
        "--seed",
        default=str(DEFAULT_SEED),
        help="generated registry seed, or several: 1,2,3 or 1-10 (one summary line each)",
    )
    args = parser.parse_args()
    if args.set in ("all", "fixed"):
        _run_fixed(args)
    if args.set in ("all", "generated"):
        _run_generated(args)


def _runtime(services: Services, with_model: bool) -> Any:
    if not with_model:
        return None
    return services.assistant.runtime()


def _seeds(value: str) -> list[int]:
    """``7``, ``1,2,3`` or ``1-5``."""
    seeds: list[int] = []
    for part in value.split(","):
        low, _, high = part.partition("-")
        seeds += list(range(int(low), int(high or low) + 1))
    return seeds


def _run_generated(args: argparse.Namespace) -> None:
    seeds = _seeds(args.seed)
    if len(seeds) > 1:
        _run_seeds(args, seeds)
        return

    def show(outcome: GeneratedOutcome) -> None:
        if args.verbose or not outcome.passed:
            mark = "ok  " if outcome.passed else "FAIL"
            print(f"{mark} {outcome.question.id}: {outcome.question.text}")
            if not outcome.passed:
                print("     " + "; ".join(outcome.problems))
                print("     " + outcome.answer.text.replace("\n", "\n     "))

    report = evaluate_generated(
        seed=seeds[0],
        runtime_factory=lambda services: _runtime(services, args.model),
        on_result=show,
        model_max_tokens=args.max_tokens,
        model_n_ctx=2048,
    )
    if not args.model:
        print("(no model: free-form questions are answered with runtime=None)")
    print("\n".join(report_lines(report)))


def _run_seeds(args: argparse.Namespace, seeds: list[int]) -> None:
    totals = [0, 0, 0, 0]
    for number in seeds:
        report = evaluate_generated(
            seed=number,
            runtime_factory=lambda services: _runtime(services, args.model),
            model_max_tokens=args.max_tokens,
            model_n_ctx=2048,
        )
        figures = report.figures()
        passed, total = figures["exact_passed"], figures["exact_total"]
        wrong = sorted({o.question.intent for o in report.outcomes if not o.passed})
        print(
            f"seed {number}: {figures['questions']} questions, exact {passed}/{total}, declined "
            f"{figures['declined']}/{figures['decline_total']}, false statements "
            f"{figures['false_statements']}" + (f"; failing: {', '.join(wrong)}" if wrong else "")
        )
        totals = [
            totals[0] + passed,
            totals[1] + total,
            totals[2] + figures["false_statements"],
            totals[3] + figures["questions"],
        ]
    print(
        f"all {len(seeds)} seeds: {totals[3]} questions, exact {totals[0]}/{totals[1]} "
        f"({totals[0] / max(totals[1], 1):.1%}), FALSE STATEMENTS: {totals[2]}"
    )


def _run_fixed(args: argparse.Namespace) -> None:
    questions = load_questions()
    with tempfile.TemporaryDirectory() as tmp:
        services = seeded_services(
            f"sqlite:///{tmp}/eval.db", model_max_tokens=args.max_tokens, model_n_ctx=2048
        )
        runtime = _runtime(services, args.model)

        def show(outcome: Outcome) -> None:
            if args.verbose or not outcome.passed:
                mark = "ok  " if outcome.passed else "FAIL"
                print(f"{mark} {outcome.question.id}: {outcome.question.question}")
                if not outcome.passed:
                    print("     " + "; ".join(outcome.problems))
                    print("     " + outcome.answer.text.replace("\n", "\n     "))

        outcomes = evaluate(services, questions, runtime=runtime, on_result=show)
        services.close()
    if not args.model:
        print("(no model: free_form checks routing to the free-form path and its sources)")
    print(report(outcomes))


if __name__ == "__main__":
    main()
