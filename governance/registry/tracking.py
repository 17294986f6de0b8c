"""Tracked models: finding one by id or earlier id, and adding one (audited)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from governance.core.clock import Clock
from governance.core.errors import NotFound
from governance.registry import audit
from governance.registry.models import ModelAlias, TrackedModel
from governance.registry.validation import validate_repo_id


def find_model(session: Session, repo: str) -> TrackedModel | None:
    """The tracked model named ``repo`` (case-insensitive), also by an earlier id (alias).

    Returns None when no tracked model has that id or alias.
    """
    key = repo.strip().lower()
    model = session.scalar(select(TrackedModel).where(TrackedModel.repo_key == key))
    if model is None:
        model = session.scalar(
            select(TrackedModel).join(ModelAlias).where(ModelAlias.alias_key == key)
        )
    return model


def get_model(session: Session, repo: str) -> TrackedModel:
    """Like ``find_model`` but never None.

    Raises:
        InvalidInput: ``repo`` is not a Hub model id.
        NotFound: it is not tracked (the message says how to request it).
    """
    validate_repo_id(repo)
    model = find_model(session, repo)
    if model is None:
        raise NotFound(
            f"{repo} is not tracked yet; request it with `/models request {repo} --use <use>`."
        )
    return model


def track_model(session: Session, *, repo_id: str, actor: str, clock: Clock) -> TrackedModel:
    """Return the tracked model for ``repo_id``, adding it (audited) if it is new.

    Raises:
        InvalidInput: ``repo_id`` is not a Hub model id.
    """
    validate_repo_id(repo_id)
    existing = find_model(session, repo_id)
    if existing is not None:
        return existing
    model = TrackedModel(
        repo_id=repo_id,
        repo_key=repo_id.lower(),
        display_name=repo_id.split("/", 1)[1],
        added_by=actor,
        added_at=clock.now(),
        watched=True,
    )
    try:
        with session.begin_nested():
            session.add(model)
            session.flush()
    except IntegrityError:
        # Someone tracked it at the same moment; theirs stands (the unique key decided).
        raced = find_model(session, repo_id)
        if raced is None:
            raise
        return raced
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="model_tracked",
        model=model,
        after={"repo_id": repo_id},
    )
    return model
