"""What each alert kind is called where people read it ("License text changed", not
``license_text_changed``). Every ``ChangeKind`` and ``NoticeKind`` has a name here; a test
walks both enums, so a new kind cannot reach a channel with its raw value."""

from __future__ import annotations

from governance.core.kinds import ChangeKind, NoticeKind

KIND_NAMES: dict[str, str] = {
    ChangeKind.LICENSE_CHANGED: "License changed",
    ChangeKind.LICENSE_TEXT_CHANGED: "License text changed",
    ChangeKind.LICENSE_FILE_ADDED: "License file added",
    ChangeKind.LICENSE_FILE_REMOVED: "License file removed",
    ChangeKind.GATING_CHANGED: "Gating changed",
    ChangeKind.REVISION_CHANGED: "New revision",
    ChangeKind.RENAMED: "Renamed",
    ChangeKind.UNAVAILABLE: "Availability changed",
    ChangeKind.DISABLED: "Disabled on the Hub",
    ChangeKind.SUPERSEDED: "Superseded by a newer version",
    ChangeKind.NEW_RELEASE_IN_FAMILY: "New release in the family",
    ChangeKind.BASE_TERMS_CHANGED: "Base model's terms changed",
    NoticeKind.UPSTREAM_UNREACHABLE: "Hub unreachable",
    NoticeKind.UPSTREAM_RECOVERED: "Hub reachable again",
    NoticeKind.APPROVAL_EXPIRED: "Approval expired",
    NoticeKind.POLICY_VIOLATION: "Team policy violated",
    NoticeKind.DIGEST: "Daily digest",
}

# Short names people type after ``--kinds`` (``license,gating``): each stands for these kinds.
KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "license": (
        ChangeKind.LICENSE_CHANGED,
        ChangeKind.LICENSE_TEXT_CHANGED,
        ChangeKind.LICENSE_FILE_ADDED,
        ChangeKind.LICENSE_FILE_REMOVED,
        ChangeKind.BASE_TERMS_CHANGED,
    ),
    "gating": (ChangeKind.GATING_CHANGED,),
    "revision": (ChangeKind.REVISION_CHANGED,),
    "availability": (ChangeKind.UNAVAILABLE, ChangeKind.DISABLED, ChangeKind.RENAMED),
    "release": (ChangeKind.NEW_RELEASE_IN_FAMILY, ChangeKind.SUPERSEDED),
    "upstream": (NoticeKind.UPSTREAM_UNREACHABLE, NoticeKind.UPSTREAM_RECOVERED),
    "expiry": (NoticeKind.APPROVAL_EXPIRED,),
    "policy": (NoticeKind.POLICY_VIOLATION,),
}


def kind_name(kind: str) -> str:
    """The name people read for ``kind``; an unknown value (a row written by a newer version)
    reads as its words, never as the raw identifier."""
    return KIND_NAMES.get(kind) or kind.replace("_", " ").capitalize()
