"""A corrupted download is a failed check: never a change, never an alert, never stored.

The scenario measured on the landed main: a whitespace-only LICENSE edit upstream (a new blob,
the same normalized text), then ``/resolve/<sha>/LICENSE`` answering 200 with the wrong bytes.
Before the fix, every such body became a ``license_text_changed``, put the approval in review
and was stored as the license text. Each corruption here runs against the Hub stand-in on
both databases, followed by the good check and a real edit that must still be detected.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from governance.core.db import transaction
from governance.registry.models import ApprovalState
from governance.upstream.models import Check, LicenseText, Snapshot
from tests.support.hub_faults import CORRUPTIONS, Corruption
from tests.support.license_fixtures import MIT_TEXT, REAL
from tests.support.watch_fixtures import Watched

REPO = "meta-llama/Llama-3.1-8B-Instruct"
REAL_LICENSE = REAL / "llama3_1.LICENSE.txt"
LICENSE = REAL_LICENSE.read_text() if REAL_LICENSE.is_file() else MIT_TEXT


def whitespace_edit(text: str) -> str:
    """The same license with cosmetic changes only: CRLF line ends, trailing spaces."""
    return text.replace("\n", "  \r\n")


def real_edit(text: str) -> str:
    return text + "\nThe licensee must not use the model to operate weapons systems.\n"


@dataclass(frozen=True)
class Stored:
    """What the database holds: counted before and after a check to prove nothing changed."""

    snapshots: int
    texts: frozenset[str]
    changes: tuple[tuple[str, str], ...]
    alerts: int

    @classmethod
    def of(cls, w: Watched) -> Stored:
        with transaction(w.services.session_factory) as session:
            snapshots = session.scalar(select(func.count()).select_from(Snapshot)) or 0
            texts = frozenset(session.scalars(select(LicenseText.text)))
        return cls(snapshots, texts, tuple(w.changes()), len(w.alerts()))


def last_check(w: Watched) -> Check:
    with transaction(w.services.session_factory) as session:
        check = session.scalars(select(Check).order_by(Check.id.desc()).limit(1)).first()
        assert check is not None
        return check


def _approved_and_checked(w: Watched) -> int:
    w.hub.add_model(REPO, license="llama3.1", files={"LICENSE": LICENSE, "config.json": "{}"})
    w.watch(REPO)
    approval_id = w.approve(REPO)
    assert w.cycle().first == 1
    return approval_id


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_a_corrupted_license_download_changes_nothing(
    watched: Watched, corruption: Corruption
) -> None:
    approval_id = _approved_and_checked(watched)
    watched.hub.commit(REPO, files={"LICENSE": whitespace_edit(LICENSE)})
    before = Stored.of(watched)

    watched.hub.corrupt_download(REPO, corruption, path="LICENSE")
    report = watched.cycle()

    assert (report.failed, report.changed, report.unchanged) == (1, 0, 0)
    assert Stored.of(watched) == before  # no snapshot, no text, no change, no alert
    assert watched.approval(approval_id).state is ApprovalState.APPROVED
    check = last_check(watched)
    assert check.outcome == "failed" and check.snapshot_id is None
    assert "did not match the hash the file list announced" in (check.error or "")
    assert "LICENSE: got " in (check.error or "")

    # The next good check records the whitespace edit for what it is: a new revision, same terms.
    report = watched.cycle()
    assert report.failed == 0
    kinds = [kind for kind, _ in watched.changes()[len(before.changes) :]]
    assert kinds == ["revision_changed"]
    assert watched.approval(approval_id).state is ApprovalState.APPROVED

    # A real edit, corrupted once more, then read properly: detected, and only then.
    watched.hub.commit(REPO, files={"LICENSE": real_edit(LICENSE)})
    watched.hub.corrupt_download(REPO, corruption, path="LICENSE")
    assert watched.cycle().failed == 1
    assert watched.approval(approval_id).state is ApprovalState.APPROVED
    watched.cycle()
    kinds = [kind for kind, _ in watched.changes()]
    assert kinds.count("license_text_changed") == 1
    assert watched.approval(approval_id).state is ApprovalState.NEEDS_REVIEW
    stored = Stored.of(watched).texts
    assert any("operate weapons systems" in text for text in stored)
    assert not any("502 Bad Gateway" in text or text == "" for text in stored)


def test_three_corrupted_checks_in_a_row_count_as_unreachable_like_timeouts(
    watched: Watched,
) -> None:
    approval_id = _approved_and_checked(watched)
    watched.hub.commit(REPO, files={"LICENSE": real_edit(LICENSE)})
    for _ in range(3):
        watched.hub.corrupt_download(REPO, "html_error_page", path="LICENSE")
        assert watched.cycle().failed == 1
    kinds = [a.kind for a in watched.alerts()]
    assert kinds == ["upstream_unreachable"]
    assert watched.approval(approval_id).state is ApprovalState.APPROVED
    watched.cycle()
    kinds = [a.kind for a in watched.alerts()]
    assert "upstream_recovered" in kinds and "license_text_changed" in kinds
    assert watched.approval(approval_id).state is ApprovalState.NEEDS_REVIEW


def test_a_license_file_listed_without_a_blob_id_fails_the_check(watched: Watched) -> None:
    approval_id = _approved_and_checked(watched)
    watched.hub.commit(REPO, files={"LICENSE": real_edit(LICENSE)})
    watched.hub.hide_blob_id(REPO, "LICENSE")
    before = Stored.of(watched)
    report = watched.cycle()
    assert report.failed == 1 and Stored.of(watched) == before
    assert "listed without a blob id" in (last_check(watched).error or "")
    assert watched.approval(approval_id).state is ApprovalState.APPROVED


def test_a_corrupted_first_check_stores_nothing(watched: Watched) -> None:
    watched.hub.add_model(REPO, license="llama3.1", files={"LICENSE": LICENSE})
    watched.watch(REPO)
    watched.hub.corrupt_download(REPO, "truncated", path="LICENSE")
    report = watched.cycle()
    assert (report.failed, report.first) == (1, 0)
    stored = Stored.of(watched)
    assert (stored.snapshots, stored.texts, stored.alerts) == (0, frozenset(), 0)
    assert watched.cycle().first == 1
