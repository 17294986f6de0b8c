"""The generated evaluation: a registry from a seed, 200+ questions over it, every sentence of
every answer checked against the generated truth.

``evaluate_generated(seed=..., runtime=...)`` builds the registry in a temporary SQLite
database (or ``database_url``), asks every question through ``governance.assistant.service``,
and returns a ``GeneratedReport``: per-intent accuracy, the share of registry questions
answered exactly, declines, and the false-statement count. ``report_lines`` prints it.
bench/assistant.py calls ``evaluate_generated`` for its false-statement figure.
"""

from __future__ import annotations

import statistics
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from governance.assistant.service import Answer, answer
from governance.licenses.knowledge import load_knowledge_base
from tests.eval.checker import SentenceVerdict, Vocabulary, check_answer
from tests.eval.gen_questions import GenQuestion, generate_questions
from tests.eval.generator import generated_services
from tests.eval.truth import Truth

DEFAULT_SEED = 2026
_DECLINE = ("don't know", "do not know", "not cover", "cannot answer", "can't answer", "outside")


@dataclass(frozen=True)
class GeneratedOutcome:
    question: GenQuestion
    answer: Answer
    verdicts: tuple[SentenceVerdict, ...]
    problems: tuple[str, ...]

    @property
    def false(self) -> list[SentenceVerdict]:
        return [v for v in self.verdicts if v.false]

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass
class GeneratedReport:
    seed: int
    with_model: bool
    outcomes: list[GeneratedOutcome] = field(default_factory=list)

    @property
    def false_statements(self) -> int:
        """Sentences that no record of the truth (or the knowledge base) bears out."""
        return sum(len(o.false) for o in self.outcomes)

    @property
    def sentences(self) -> int:
        return sum(len(o.verdicts) for o in self.outcomes)

    @property
    def checked_sentences(self) -> int:
        return sum(1 for o in self.outcomes for v in o.verdicts if v.checked)

    def by_intent(self) -> dict[str, tuple[int, int]]:
        """Intent -> (passed, asked)."""
        groups: dict[str, list[GeneratedOutcome]] = defaultdict(list)
        for outcome in self.outcomes:
            groups[outcome.question.intent].append(outcome)
        return {k: (sum(o.passed for o in v), len(v)) for k, v in sorted(groups.items())}

    def share(self, route: str) -> tuple[int, int]:
        group = [o for o in self.outcomes if o.question.route == route]
        return sum(o.passed for o in group), len(group)

    def figures(self) -> dict[str, Any]:
        """The headline numbers as a dict (for bench/assistant.py)."""
        exact_passed, exact_total = self.share("exact")
        declined, decline_total = self.share("decline")
        model = [o for o in self.outcomes if o.question.route == "model"]
        return {
            "seed": self.seed,
            "questions": len(self.outcomes),
            "false_statements": self.false_statements,
            "sentences": self.sentences,
            "checked_sentences": self.checked_sentences,
            "exact_passed": exact_passed,
            "exact_total": exact_total,
            "declined": declined,
            "decline_total": decline_total,
            "model_questions": len(model),
            "model_answered_by_model": sum(1 for o in model if o.answer.kind == "generated"),
            "by_intent": self.by_intent(),
        }


def problems(
    question: GenQuestion, result: Answer, verdicts: list[SentenceVerdict], *, with_model: bool
) -> list[str]:
    """Why ``result`` fails ``question`` (empty when it passes)."""
    found = [f"false: {v.sentence!r} ({v.why})" for v in verdicts if v.false]
    body = result.text.lower()
    grounded = (
        body + " " + " ".join(f"{s.title} {s.ref} {s.source_id}".lower() for s in result.sources)
    )
    if question.route == "exact":
        if result.kind != "exact":
            found.append(f"kind {result.kind!r} (intent {result.intent}), expected an exact answer")
        haystack = body
    elif question.route == "decline":
        if result.kind != "unknown" or not any(p in body for p in _DECLINE):
            found.append(f"not declined (kind {result.kind!r})")
        haystack = body
    else:
        if with_model and result.kind not in ("generated", "exact", "unknown"):
            found.append(f"kind {result.kind!r}")
        haystack = grounded  # the 135M model's wording is not trusted; its grounding is
    for group in question.expect:
        if not any(g.lower() in haystack for g in group if g):
            found.append(f"missing {' / '.join(group)!r}")
    for phrase in question.reject:
        if phrase.lower() in body:
            found.append(f"contains {phrase!r}")
    return found


def evaluate_generated(
    *,
    seed: int = DEFAULT_SEED,
    runtime: Any = None,
    database_url: str | None = None,
    on_result: Callable[[GeneratedOutcome], None] | None = None,
    runtime_factory: Callable[[Any], Any] | None = None,
    **overrides: Any,
) -> GeneratedReport:
    """Build the registry for ``seed``, ask its questions, check every sentence.

    ``runtime`` is a QueuedRuntime (free-form questions answered by the model) or None;
    ``runtime_factory(services)`` makes one from the generated registry's services instead.
    ``overrides`` are Settings fields (e.g. ``model_max_tokens``).
    """
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{tmp}/generated.db"
        services, truth = generated_services(url, seed, **overrides)
        try:
            if runtime_factory is not None:
                runtime = runtime_factory(services)
            return _ask_all(services, truth, runtime, on_result)
        finally:
            services.close()


def _ask_all(
    services: Any, truth: Truth, runtime: Any, on_result: Callable[[GeneratedOutcome], None] | None
) -> GeneratedReport:
    kb = load_knowledge_base()
    vocab = Vocabulary.build(truth, kb)
    report = GeneratedReport(truth.seed, runtime is not None)
    for question in generate_questions(truth):
        result = answer(
            question.text,
            session_factory=services.session_factory,
            clock=services.clock,
            runtime=runtime,
            settings=services.settings,
        )
        verdicts = check_answer(
            result.text,
            truth,
            question.context,
            source_ids=[s.source_id for s in result.sources],
            kb=kb,
            vocab=vocab,
        )
        found = problems(question, result, verdicts, with_model=runtime is not None)
        outcome = GeneratedOutcome(question, result, tuple(verdicts), tuple(found))
        report.outcomes.append(outcome)
        if on_result is not None:
            on_result(outcome)
    return report


def report_lines(report: GeneratedReport) -> list[str]:
    """Accuracy per intent, the exact share, declines and the false-statement count."""
    lines = [
        f"generated set (seed {report.seed}): {len(report.outcomes)} questions",
        f"{'intent':24s} {'passed':>8s} {'accuracy':>9s} {'p50 ms':>8s}",
    ]
    groups: dict[str, list[GeneratedOutcome]] = defaultdict(list)
    for outcome in report.outcomes:
        groups[outcome.question.intent].append(outcome)
    for intent, group in sorted(groups.items()):
        passed = sum(o.passed for o in group)
        p50 = statistics.median(o.answer.elapsed for o in group) * 1000
        lines.append(
            f"{intent:24s} {passed:>3d}/{len(group):<4d} {passed / len(group):>8.0%} {p50:>8.1f}"
        )
    figures = report.figures()
    exact = figures["exact_total"] or 1
    lines.append(
        "registry and knowledge-base questions answered exactly: "
        f"{figures['exact_passed']}/{figures['exact_total']} "
        f"({figures['exact_passed'] / exact:.1%}; target >= 95%)"
    )
    lines.append(
        f"out-of-scope questions declined: {figures['declined']}/{figures['decline_total']}"
    )
    lines.append(
        f"free-form questions: {figures['model_questions']} "
        f"({figures['model_answered_by_model']} answered by the model)"
    )
    lines.append(
        f"sentences: {figures['sentences']}, "
        f"checked against the truth: {figures['checked_sentences']}"
    )
    lines.append(f"FALSE STATEMENTS: {figures['false_statements']} (target 0)")
    return lines


def false_statement_figures(
    *, runtime: Any = None, seed: int = DEFAULT_SEED, **overrides: Any
) -> dict[str, Any]:
    """The generated set's figures for a benchmark: ``false_statements``, ``sentences``,
    ``checked_sentences``, ``exact_passed``/``exact_total``, ``declined``/``decline_total``,
    ``model_questions``, ``model_answered_by_model`` and ``by_intent`` (intent -> (passed,
    asked)). ``runtime`` is the QueuedRuntime to answer free-form questions with, or None.
    """
    return evaluate_generated(seed=seed, runtime=runtime, **overrides).figures()
