"""Two approvers racing on one request: exactly one wins, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import func, select

from governance.core.db import transaction
from governance.core.errors import Conflict, GovernanceError
from governance.flows.decide_with_policy import approve
from governance.registry.decisions import reject
from governance.registry.models import Approval, AuditEvent, IntendedUse
from governance.registry.requests import request_approval
from governance.wiring.services import Services

REPO = "mistralai/Mistral-7B-v0.1"


def _race(workers: list[Callable[[], object]]) -> list[object]:
    """Run ``workers`` at the same moment on their own threads and sessions."""
    barrier = threading.Barrier(len(workers))
    results: list[object] = [None] * len(workers)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = workers[index]()
        except GovernanceError as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_approvers_racing_exactly_one_wins(services: Services) -> None:
    with transaction(services.session_factory) as session:
        approval_id = request_approval(
            session,
            repo_id=REPO,
            use=IntendedUse.INTERNAL,
            reason="",
            requester="carol",
            clock=services.clock,
        ).id

    def decide(actor: str, verb: str) -> Callable[[], object]:
        def work() -> object:
            with transaction(services.session_factory) as session:
                if verb == "approve":
                    return approve(
                        session,
                        ref=str(approval_id),
                        actor=actor,
                        approvers=services.approvers,
                        clock=services.clock,
                    ).state
                return reject(
                    session,
                    ref=str(approval_id),
                    actor=actor,
                    approvers=services.approvers,
                    reason="no",
                    clock=services.clock,
                ).state

        return work

    for _round in range(3):
        results = _race([decide("alice", "approve"), decide("bob", "reject")])
        winners = [r for r in results if not isinstance(r, Exception)]
        losers = [r for r in results if isinstance(r, Conflict)]
        if _round == 0:
            assert len(winners) == 1 and len(losers) == 1, results
            assert "already" in losers[0].message
        else:  # later rounds: already decided, both refused
            assert len(losers) == 2, results
    with transaction(services.session_factory) as session:
        decisions = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action.in_(["approved", "rejected"]))
        )
        assert decisions == 1
        assert session.get(Approval, approval_id).decided_by in {"alice", "bob"}  # type: ignore[union-attr]


def test_two_identical_requests_racing_create_one(services: Services) -> None:
    def ask(user: str) -> Callable[[], object]:
        def work() -> object:
            with transaction(services.session_factory) as session:
                return request_approval(
                    session,
                    repo_id=REPO,
                    use=IntendedUse.COMMERCIAL,
                    reason="",
                    requester=user,
                    clock=services.clock,
                ).id

        return work

    results = _race([ask("carol"), ask("dave")])
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    with transaction(services.session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Approval)) == 1
