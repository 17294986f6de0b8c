"""A small fixed registry for the exact-answer tests, built through the registry service.

Other people and other stories than tests/eval/seed.py: a rejection, a revocation, a review
after an upstream change, conditions, an expiry to come and one that has passed, a pending
request, and snapshots with licenses (one repository with open training code). The clock of
the answers is 2026-11-27 09:00 UTC (tests/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session, sessionmaker

from governance.core.clock import FrozenClock
from governance.core.db import transaction
from governance.flows import decide_with_policy
from governance.registry.approvers import ApproverDirectory
from governance.registry.decisions import find_approval, mark_needs_review, reject, revoke
from governance.registry.models import IntendedUse
from governance.registry.requests import request_approval
from governance.registry.tracking import find_model
from governance.upstream.facts import FileFact, SnapshotFacts, row_from_facts
from governance.upstream.models import WatchState

APPROVERS = ApproverDirectory(configured=frozenset({"ravi", "tamar"}))
GEMMA = "google/gemma-2-9b-it"
R1 = "deepseek-ai/DeepSeek-R1"
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"
LLAMA2 = "meta-llama/Llama-2-7b-chat-hf"
MISTRAL = "mistralai/Mistral-7B-v0.1"
PHI = "microsoft/phi-2"
OLMO = "allenai/OLMo-2-1124-7B"


def _at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def add_snapshot(
    session: Session,
    repo_id: str,
    license_id: str,
    *,
    files: tuple[str, ...] = ("config.json", "model.safetensors", "README.md"),
    tags: tuple[str, ...] = (),
) -> None:
    model = find_model(session, repo_id)
    assert model is not None
    facts = SnapshotFacts(
        repo_id=repo_id,
        sha=(repo_id.replace("/", "")[:8] + "0" * 40)[:40],
        license=license_id,
        tags=tags,
        files=tuple(FileFact(path, 10, f"blob{i}", None) for i, path in enumerate(files)),
        license_files=(),
    )
    row = row_from_facts(facts, model_id=model.id, taken_at=_at(11, 20))
    session.add(row)
    session.flush()
    session.add(WatchState(model_id=model.id, latest_snapshot_id=row.id))


def build(factory: sessionmaker[Session]) -> None:
    """Fill an empty, migrated registry (see the module docstring for what it holds)."""
    clock = FrozenClock(_at(9, 1))
    c, i, r = IntendedUse.COMMERCIAL, IntendedUse.INTERNAL, IntendedUse.RESEARCH

    def request(repo: str, use: IntendedUse, who: str, reason: str) -> int:
        return request_approval(
            s, repo_id=repo, use=use, reason=reason, requester=who, clock=clock
        ).id

    def approve(ref: int, who: str, **kwargs: object) -> None:
        decide_with_policy.approve(
            s,
            ref=f"#{ref}",
            actor=who,
            approvers=APPROVERS,
            clock=clock,
            **kwargs,  # type: ignore[arg-type]
        )

    with transaction(factory) as s:
        gemma = request(GEMMA, c, "ines", "customer chat widget")  # 2026-09-01
        clock.advance(days=2)
        reject(
            s,
            ref=f"#{gemma}",
            actor="tamar",
            approvers=APPROVERS,
            reason="Legal has not cleared the prohibited use policy",
            clock=clock,
        )  # 2026-09-03
        r1 = request(R1, i, "omar", "code review assistant")  # 2026-09-03
        clock.advance(days=1)
        approve(r1, "ravi")  # 2026-09-04
        clock.advance(days=30)
        revoke(
            s,
            ref=f"#{r1}",
            actor="tamar",
            approvers=APPROVERS,
            reason="Replaced by a distilled model",
            clock=clock,
        )  # 2026-10-04
        sdxl = request(SDXL, c, "ines", "catalogue images")  # 2026-10-04
        clock.advance(days=2)
        approve(
            sdxl, "ravi", conditions="Label every generated image", expires_on=date(2027, 5, 31)
        )  # 2026-10-06
        llama2 = request(LLAMA2, r, "omar", "dialogue study")  # 2026-10-06
        clock.advance(days=1)
        approve(llama2, "tamar", expires_on=date(2026, 12, 15))  # 2026-10-07
        phi = request(PHI, r, "zofia", "small model baseline")  # 2026-10-07
        clock.advance(days=1)
        approve(phi, "ravi", expires_on=date(2026, 11, 20))  # 2026-10-08
        clock.advance(days=20)
        request(MISTRAL, i, "ines", "ticket triage")  # 2026-10-28
        request(OLMO, r, "zofia", "open training recipe study")  # 2026-10-28
        s.flush()
        add_snapshot(s, GEMMA, "gemma")
        add_snapshot(s, R1, "mit")
        add_snapshot(s, SDXL, "openrail++")
        add_snapshot(s, LLAMA2, "llama2")
        add_snapshot(s, MISTRAL, "apache-2.0")
        add_snapshot(
            s,
            OLMO,
            "apache-2.0",
            files=("config.json", "model.safetensors", "README.md", "scripts/train.py"),
            tags=("arxiv:2501.00656", "dataset:allenai/olmo-mix-1124"),
        )
        clock.advance(days=16)  # 2026-11-13
        sdxl_row = find_approval(s, f"#{sdxl}", states=(), verb="review")
        mark_needs_review(
            s, approval=sdxl_row, reason="The text of LICENSE.md changed.", clock=clock
        )
