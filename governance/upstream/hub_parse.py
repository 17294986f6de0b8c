"""Reading the Hub's answers: ``model_info`` into a ``RepoStatus``, HTTP errors into typed ones.

Pure functions over huggingface_hub's objects; the client (``governance.upstream.hub``) sends
the requests.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import ModelInfo

from governance.core.errors import GovernanceError
from governance.upstream.hub_types import (
    AuthorModel,
    GatedMode,
    ListedModel,
    RepoStatus,
    RepoUnavailable,
    TransientHubError,
)

_SHA = re.compile(r"[0-9a-f]{40}")


def map_http_error(repo_id: str, err: HfHubHTTPError, status: int | None) -> GovernanceError:
    # GatedRepoError subclasses RepositoryNotFoundError: test it first.
    """The typed error for a Hub HTTP error: ``RepoUnavailable`` when the repo is gone, gated
    for us or disabled, else a ``TransientHubError`` (a failed check, never a change)."""
    if isinstance(err, GatedRepoError):
        return RepoUnavailable(repo_id, "gated_no_access", str(err))
    if isinstance(err, RepositoryNotFoundError):
        return RepoUnavailable(repo_id, "not_found", str(err))
    if isinstance(err, DisabledRepoError):
        return RepoUnavailable(repo_id, "disabled", str(err))
    if isinstance(err, RevisionNotFoundError):
        return TransientHubError("revision_not_found", status=status, detail=str(err))
    if status is not None and status >= 500:
        return TransientHubError("server_error", status=status, detail=str(err))
    # Anything else (400, a bare 404/403 without the Hub's error code) is not evidence that the
    # repo changed; it is reported as a failed check so a person can look.
    return TransientHubError("http_error", status=status, detail=str(err))


def is_sha(value: object) -> bool:
    """Whether ``value`` is a full 40-hex-digit commit sha."""
    return isinstance(value, str) and _SHA.fullmatch(value) is not None


def parse_time(value: object) -> datetime | None:
    """The datetime the Hub's ISO 8601 text names; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or None
    return str(value)


def _tuple_of_str(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return (str(value),)


def status_from_info(requested_id: str, info: ModelInfo) -> RepoStatus:
    """Build a RepoStatus; a field the Hub must send but did not is a malformed answer."""
    if not is_sha(info.sha):
        raise TransientHubError("malformed", detail=f"no commit sha in the answer: {info.sha!r}")
    if info.gated not in (False, "auto", "manual"):
        raise TransientHubError("malformed", detail=f"unexpected gated value: {info.gated!r}")
    gated: GatedMode = "false" if info.gated is False else info.gated
    card: dict[str, Any] = info.card_data.to_dict() if info.card_data is not None else {}  # type: ignore[no-untyped-call]  # huggingface_hub leaves CardData.to_dict unannotated (it returns a dict)
    tags = tuple(str(t) for t in (info.tags or []))
    canonical = str(info.id)
    return RepoStatus(
        requested_id=requested_id,
        repo_id=canonical,
        sha=str(info.sha),
        last_modified=info.last_modified,
        created_at=info.created_at,
        gated=gated,
        disabled=bool(info.disabled),
        private=bool(info.private),
        license=_str_or_none(card.get("license")),
        license_name=_str_or_none(card.get("license_name")),
        license_link=_str_or_none(card.get("license_link")),
        license_tags=tuple(t.removeprefix("license:") for t in tags if t.startswith("license:")),
        base_model=_tuple_of_str(card.get("base_model")),
        new_version=_str_or_none(card.get("new_version")),
        gating_prompt={k: v for k, v in sorted(card.items()) if k.startswith("extra_gated_")},
        tags=tags,
        # The Hub matches ids case-insensitively; only a different name is a rename.
        renamed_from=requested_id if canonical.lower() != requested_id.lower() else None,
        base_model_relation=_str_or_none(card.get("base_model_relation")),
    )


def listed_model(item: dict[str, Any]) -> ListedModel:
    """One item of a status listing (``expand=`` the status fields) read like ``model_info``.

    Never raises: an item without a sha or with an unknown gated value has ``status`` None and
    says why in ``problem``.
    """
    repo_id = str(item["id"])
    model = AuthorModel(repo_id, parse_time(item.get("createdAt")))
    disabled = item.get("disabled") is True
    try:
        info = ModelInfo(**item)  # type: ignore[no-untyped-call]  # huggingface_hub leaves ModelInfo.__init__ unannotated; list_models builds it the same way
        status = status_from_info(repo_id, info)
    except (TransientHubError, TypeError, ValueError, KeyError) as exc:
        return ListedModel(model, None, disabled, problem=str(exc))
    return ListedModel(model, status, disabled)
