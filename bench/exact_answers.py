"""Latency of the assistant's exact answers on a registry of 100 models and 200 requests.

Builds the registry through the registry service in a temporary SQLite (the catalog's real Hub
ids plus filler models; approvals, rejections, revocations, conditions and expiries; one
snapshot per model), then asks one question per exact intent and prints each question's median
over ``--rounds`` runs, after one warm-up run of each.

Run from the repository root: ``python -m bench.exact_answers [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, date, datetime

from governance.assistant.service import answer
from governance.core import migrate
from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.core.db import transaction
from governance.flows.decide_with_policy import approve
from governance.registry.approvers import ApproverDirectory
from governance.registry.decisions import reject, revoke
from governance.registry.models import IntendedUse
from governance.registry.requests import request_approval
from governance.wiring.services import Services, build_services
from tests.eval import catalog
from tests.support.exact_registry import add_snapshot

MODELS = 100
APPROVERS = ApproverDirectory(configured=frozenset({"ravi", "tamar"}))
QUESTIONS = (
    "Why was gemma 2 2b rejected?",
    "What happened to deepseek r1?",
    "Which models did tamar decide on?",
    f"What did {catalog.PEOPLE[3]} request?",
    "list everything that was revoked",
    "what is in review",
    "what expires before July",
    "what did we approve for commercial use this year",
    "May outputs of a Llama 2 model be used to improve another LLM?",
    "Compare the llama 3.1 and gemma licenses",
    "How open is olmo 2?",
    "Explain the difference between open weights and open source.",
    "who rejected phi 4?",
    "Is sdxl approved for internal use?",
    "what license does deepseek r1 have?",
    "which models are approved for commercial use?",
    "what is pending?",
    "tell me a joke",
    "how many models do we track?",
)


def build(url: str) -> Services:
    """A migrated registry of MODELS models at ``url``; returns services with the clock set."""
    migrate.upgrade(url)
    clock = FrozenClock(datetime(2026, 1, 5, tzinfo=UTC))
    people = catalog.PEOPLE[:30]
    licenses = {m.repo_id: m.license for m in catalog.MODELS}
    repos = [m.repo_id for m in catalog.MODELS]
    repos += [f"team{i}/model-{i}b-instruct" for i in range(MODELS - len(repos))]
    settings = Settings(_env_file=None, database_url=url, approvers=["ravi", "tamar"])  # type: ignore[call-arg]
    with transaction(build_services(settings, clock=clock).session_factory) as s:
        for i, repo in enumerate(repos):
            for j, use in enumerate((IntendedUse.INTERNAL, IntendedUse.COMMERCIAL)):
                made = request_approval(
                    s, repo_id=repo, use=use, reason=f"reason {i}", requester=people[(i + j) % 30],
                    clock=clock,
                )  # fmt: skip
                ref = f"#{made.id}"
                clock.advance(hours=3)
                kind = (i + j) % 4
                if kind == 0:
                    approve(
                        s, ref=ref, actor="ravi", approvers=APPROVERS, clock=clock,
                        conditions="Only internal", expires_on=date(2027, 3, 1),
                    )  # fmt: skip
                elif kind == 1:
                    reject(
                        s, ref=ref, actor="tamar", approvers=APPROVERS, clock=clock,
                        reason="Not evaluated",
                    )  # fmt: skip
                elif kind == 2:
                    approve(s, ref=ref, actor="tamar", approvers=APPROVERS, clock=clock)
                    clock.advance(hours=5)
                    revoke(
                        s, ref=ref, actor="ravi", approvers=APPROVERS, clock=clock,
                        reason="Superseded",
                    )  # fmt: skip
            s.flush()
            add_snapshot(s, repo, licenses.get(repo, "apache-2.0"))
    return build_services(settings, clock=FrozenClock(datetime(2026, 11, 27, 9, tzinfo=UTC)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        services = build(f"sqlite:///{tmp}/bench.db")

        def ask(question: str) -> tuple[float, str]:
            started = time.perf_counter()
            result = answer(
                question,
                session_factory=services.session_factory,
                clock=services.clock,
                runtime=None,
                settings=services.settings,
            )
            return (time.perf_counter() - started) * 1000, f"{result.kind}/{result.intent}"

        for question in QUESTIONS:
            ask(question)  # warm-up: knowledge base, concepts, compiled patterns
        medians = []
        for question in QUESTIONS:
            runs = [ask(question) for _ in range(args.rounds)]
            median = statistics.median(ms for ms, _ in runs)
            medians.append(median)
            print(f"{median:7.1f} ms  {runs[-1][1]:30s} {question}")
        print(
            f"exact answers on {MODELS} models: median {statistics.median(medians):.1f} ms, "
            f"max {max(medians):.1f} ms over {len(medians)} questions (target < 20 ms)"
        )
        services.close()


if __name__ == "__main__":
    main()
