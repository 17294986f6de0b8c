"""The recheck cycle against the Hub stand-in: every change kind, no false changes, approvals."""

from __future__ import annotations

import pytest

from governance.registry.models import ApprovalState
from tests.support.watch_fixtures import Watched

REPO = "meta-llama/Llama-3.1-8B-Instruct"
APACHE = "Apache License\nVersion 2.0, January 2004\n\nTERMS AND CONDITIONS\n1. Definitions.\n"
NEW_TEXT = APACHE + "\n2. Also: no use in weapons.\n"


def _setup(w: Watched, **kwargs: object) -> None:
    files = kwargs.pop(
        "files", {"LICENSE": APACHE, "model.safetensors": b"\x00" * 64, "config.json": "{}"}
    )
    w.hub.add_model(REPO, files=files, **kwargs)  # type: ignore[arg-type]
    w.watch(REPO)


def test_first_check_snapshots_and_pins_approvals(watched: Watched) -> None:
    _setup(watched)
    approval_id = watched.approve(REPO)
    report = watched.cycle()
    assert (report.checked, report.first, report.failed) == (1, 1, 0)
    approval = watched.approval(approval_id)
    assert approval.revision_sha == watched.hub.head_sha(REPO)
    assert approval.license_fingerprint is not None
    assert watched.changes() == []


def test_unchanged_model_costs_one_request_and_records_only_a_check(watched: Watched) -> None:
    _setup(watched)
    watched.cycle()
    watched.hub.reset_counts()
    report = watched.cycle()
    assert report.unchanged == 1
    # One request in all: the author's one-page status listing answers for its one model.
    assert watched.hub.count("/api/") == 1 and watched.hub.count("/api/models/") == 0
    assert watched.hub.count("/meta-llama/") == 0  # no file downloads
    assert watched.changes() == []


def test_license_id_change_moves_approvals_to_review_and_alerts_once(watched: Watched) -> None:
    _setup(watched)
    approval_id = watched.approve(REPO)
    watched.cycle()
    watched.hub.commit(REPO, card_data={"license": "llama3.1"})
    report = watched.cycle()
    kinds = [kind for kind, _ in watched.changes()]
    assert "license_changed" in kinds and "revision_changed" in kinds
    assert watched.approval(approval_id).state is ApprovalState.NEEDS_REVIEW
    alerts = [a for a in watched.alerts() if a.kind == "license_changed"]
    assert len(alerts) == 1
    assert alerts[0].payload["approvals_in_review"][0]["id"] == approval_id
    assert "apache-2.0 → llama3.1" in alerts[0].title
    assert report.changed == 1
    watched.cycle()  # a recheck finds nothing new and raises nothing new
    assert len([a for a in watched.alerts() if a.kind == "license_changed"]) == 1


def test_license_text_rewrite_is_diffed(watched: Watched) -> None:
    _setup(watched)
    approval_id = watched.approve(REPO)
    watched.cycle()
    watched.hub.commit(REPO, files={"LICENSE": NEW_TEXT})
    watched.cycle()
    kinds = dict(watched.changes())
    assert "license_text_changed" in kinds
    alert = next(a for a in watched.alerts() if a.kind == "license_text_changed")
    assert "+2. Also: no use in weapons." in alert.payload["diff_excerpt"]
    assert watched.approval(approval_id).state is ApprovalState.NEEDS_REVIEW


def test_license_file_added_and_removed(watched: Watched) -> None:
    _setup(watched)
    watched.cycle()
    watched.hub.commit(REPO, files={"USE_POLICY.md": "Do not do bad things."})
    watched.cycle()
    watched.hub.commit(REPO, remove=["LICENSE"])
    watched.cycle()
    kinds = [k for k, _ in watched.changes()]
    assert "license_file_added" in kinds and "license_file_removed" in kinds


def test_gating_on_is_a_terms_change(watched: Watched) -> None:
    _setup(watched)
    approval_id = watched.approve(REPO)
    watched.cycle()
    watched.hub.set_gated(REPO, "manual")
    watched.cycle()
    assert ("gating_changed", "Gating changed: false → manual.") in watched.changes()
    assert watched.approval(approval_id).state is ApprovalState.NEEDS_REVIEW


def test_new_revision_with_same_license_keeps_approval_pinned(watched: Watched) -> None:
    _setup(watched)
    approval_id = watched.approve(REPO)
    watched.cycle()
    pinned = watched.approval(approval_id).revision_sha
    watched.hub.commit(REPO, files={"model.safetensors": b"\x01" * 64})
    watched.cycle()
    ((kind, summary),) = watched.changes()
    assert kind == "revision_changed" and "weights changed" in summary
    approval = watched.approval(approval_id)
    assert approval.state is ApprovalState.APPROVED and approval.revision_sha == pinned
    alert = watched.alerts()[-1]
    assert alert.payload["pinned_approvals"] == [
        {"id": approval_id, "use": "commercial", "revision_sha": pinned}
    ]
    assert f"covers {pinned[:12]}" in alert.body


def test_rename_is_followed_and_recorded(watched: Watched) -> None:
    _setup(watched)
    watched.cycle()
    watched.hub.rename(REPO, "meta-llama/Llama-3.1-8B-Instruct-v2")
    watched.cycle()
    assert ("renamed", f"{REPO} was renamed to meta-llama/Llama-3.1-8B-Instruct-v2.") in (
        watched.changes()
    )
    watched.hub.reset_counts()
    report = watched.cycle()  # watched under the new id now: one request, no redirect
    assert report.unchanged == 1 and watched.hub.count("/api/") == 1
    from governance.core.db import transaction
    from governance.registry.tracking import get_model

    with transaction(watched.services.session_factory) as session:
        assert get_model(session, REPO).repo_id == "meta-llama/Llama-3.1-8B-Instruct-v2"


def test_deleted_disabled_and_back(watched: Watched) -> None:
    _setup(watched)
    watched.cycle()
    watched.hub.delete(REPO)
    watched.cycle()
    assert watched.changes()[-1][0] == "unavailable"
    watched.hub.add_model(REPO, files={"LICENSE": APACHE})
    watched.cycle()
    assert watched.changes()[-1] == ("unavailable", f"{REPO} is available on the Hub again.")
    other = "acme/disabled-model"
    watched.hub.add_model(other)
    watched.watch(other)
    watched.cycle(other)
    watched.hub.disable(other)
    watched.cycle(other)
    assert watched.changes()[-1][0] == "disabled"


def test_superseded_by_new_version(watched: Watched) -> None:
    _setup(watched)
    watched.cycle()
    watched.hub.commit(REPO, card_data={"new_version": "meta-llama/Llama-3.3-70B-Instruct"})
    watched.cycle()
    assert any(k == "superseded" for k, _ in watched.changes())


def test_new_release_in_family(watched: Watched) -> None:
    _setup(watched)
    watched.hub.add_model("meta-llama/Llama-2-7b")  # existed before: baseline, not news
    watched.cycle()
    assert watched.changes() == []
    watched.hub.add_model("meta-llama/Llama-3.2-1B")
    watched.hub.add_model("meta-llama/CodeShield")  # another family: not news
    watched.cycle()
    assert watched.changes() == [
        (
            "new_release_in_family",
            f"meta-llama/Llama-3.2-1B was published, in the family of {REPO}.",
        )
    ]
    watched.cycle()
    assert len(watched.changes()) == 1


@pytest.mark.parametrize(
    ("fault", "kwargs"),
    [
        ("status", {"status": 503}),
        ("status", {"status": 500}),
        ("status", {"status": 502}),
        ("malformed", {}),
        ("drop", {}),
        ("rate_limit", {"seconds": 30}),
    ],
)
def test_transient_trouble_is_never_a_change(watched: Watched, fault: str, kwargs: dict) -> None:  # type: ignore[type-arg]
    _setup(watched)
    approval_id = watched.approve(REPO)
    watched.cycle()
    watched.hub.inject(fault, times=10, path="/api/models", **kwargs)  # type: ignore[arg-type]
    report = watched.cycle()
    assert report.failed == 1 and report.changed == 0
    assert watched.changes() == []
    assert watched.approval(approval_id).state is ApprovalState.APPROVED
    watched.hub.clear_faults()
    assert watched.cycle().unchanged == 1


def test_timeout_is_a_failed_check(watched: Watched) -> None:
    _setup(watched)
    watched.cycle()
    watched.services.hub._timeout = 0.3  # type: ignore[attr-defined]
    # The listing times out, and so does the per-model request it falls back to.
    watched.hub.inject("hang", seconds=2, times=2, path="/api/models")
    report = watched.cycle()
    assert report.failed == 1 and watched.changes() == []


def test_unreachable_after_three_failed_cycles_then_recovered(watched: Watched) -> None:
    _setup(watched)
    watched.cycle()
    watched.hub.inject("status", status=503, times=100, path="/api/models")
    for _ in range(5):
        watched.cycle()
    kinds = [a.kind for a in watched.alerts()]
    assert kinds == ["upstream_unreachable"]
    watched.hub.clear_faults()
    watched.cycle()
    watched.cycle()
    assert [a.kind for a in watched.alerts()] == ["upstream_unreachable", "upstream_recovered"]


def test_subscriptions_route_alerts(watched: Watched) -> None:
    from governance.alerts.subscriptions import subscribe
    from governance.core.db import transaction

    s = watched.services
    with transaction(s.session_factory) as session:
        subscribe(
            session,
            destination="#legal",
            kinds=["license_changed"],
            actor="bob",
            clock=s.clock,
            approvers=s.approvers,
        )
        subscribe(
            session,
            destination="#ml",
            kinds=None,
            actor="bob",
            clock=s.clock,
            approvers=s.approvers,
        )
    _setup(watched)
    watched.cycle()
    watched.hub.commit(REPO, card_data={"license": "mit"})
    watched.cycle()
    routed = sorted((a.kind, a.destination) for a in watched.alerts())
    assert routed == [
        ("license_changed", "#legal"),
        ("license_changed", "#ml"),
        ("revision_changed", "#ml"),
    ]


def test_snapshots_are_immutable(watched: Watched) -> None:
    from governance.core.db import transaction
    from governance.upstream.models import Snapshot

    _setup(watched)
    watched.cycle()
    with pytest.raises(RuntimeError, match="immutable"):
        with transaction(watched.services.session_factory) as session:
            snapshot = session.query(Snapshot).one()
            snapshot.license = "mit"
