"""The kinds of upstream changes and of alerts.

Both the watcher (which detects changes) and the alerts (which route them) name these kinds, so
they live below both. The values are what the database and the wire carry; never rename one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeAlias


class ChangeKind(StrEnum):
    """What changed upstream; an alert raised for a change has the change's kind."""

    LICENSE_CHANGED = "license_changed"
    LICENSE_TEXT_CHANGED = "license_text_changed"
    LICENSE_FILE_ADDED = "license_file_added"
    LICENSE_FILE_REMOVED = "license_file_removed"
    GATING_CHANGED = "gating_changed"
    REVISION_CHANGED = "revision_changed"
    RENAMED = "renamed"
    UNAVAILABLE = "unavailable"
    DISABLED = "disabled"
    SUPERSEDED = "superseded"
    NEW_RELEASE_IN_FAMILY = "new_release_in_family"
    # A derivative's base changed its terms (the base's terms bind the derivative).
    BASE_TERMS_CHANGED = "base_terms_changed"


class NoticeKind(StrEnum):
    """Alerts that no upstream change caused."""

    UPSTREAM_UNREACHABLE = "upstream_unreachable"
    UPSTREAM_RECOVERED = "upstream_recovered"
    APPROVAL_EXPIRED = "approval_expired"
    POLICY_VIOLATION = "policy_violation"
    DIGEST = "digest"


AlertKind: TypeAlias = ChangeKind | NoticeKind

# Every alert kind, in the order users see them listed.
ALERT_KINDS: tuple[AlertKind, ...] = (*ChangeKind, *NoticeKind)
