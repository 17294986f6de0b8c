"""Unsaved ``TrackedModel`` rows for name-resolution tests that need no database."""

from __future__ import annotations

from datetime import UTC, datetime

from governance.registry.models import TrackedModel


def unsaved_models(*repo_ids: str) -> list[TrackedModel]:
    """One ``TrackedModel`` per repo id, not attached to any session, without aliases."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        TrackedModel(
            repo_id=r, repo_key=r.lower(), display_name=r, added_by="a", added_at=now, aliases=[]
        )
        for r in repo_ids
    ]
