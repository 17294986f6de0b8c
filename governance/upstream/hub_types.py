"""What the Hub client returns and raises: typed upstream facts, errors, file classification.

Value types only (no I/O); ``governance.upstream.hub`` re-exports every public name here, so
callers keep importing them from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from governance.core.errors import GovernanceError, UpstreamError

GatedMode = Literal["false", "auto", "manual"]
UnavailableReason = Literal["not_found", "gated_no_access", "disabled"]
TransientReason = Literal[
    "timeout",
    "connection",
    "server_error",
    "rate_limited",
    "malformed",
    "revision_not_found",
    "http_error",
    "corrupt",
]
LicenseTextStatus = Literal[
    "fetched", "known", "gated_no_access", "missing", "too_large", "not_text"
]

_LICENSE_PREFIXES = ("license", "licence", "use_policy", "notice")
_WEIGHT_SUFFIXES = (
    ".safetensors",
    ".bin",
    ".gguf",
    ".pt",
    ".pth",
    ".onnx",
    ".h5",
    ".msgpack",
    ".ckpt",
    ".pkl",
    ".tflite",
    ".mlmodel",
    ".nemo",
)


class RepoUnavailable(GovernanceError):
    """The repo cannot be read for a lasting reason: ``not_found`` (deleted, private, or a 401
    without access), ``gated_no_access``, or ``disabled``. The watcher treats it as a change."""

    code = "repo_unavailable"

    def __init__(self, repo_id: str, reason: UnavailableReason, detail: str = "") -> None:
        super().__init__(f"{repo_id} is not available on the Hub ({reason.replace('_', ' ')}).")
        self.repo_id = repo_id
        self.reason: UnavailableReason = reason
        self.detail = detail


_TRANSIENT_WORDS = {
    "timeout": "the request timed out",
    "connection": "the connection failed",
    "server_error": "it had a server error",
    "rate_limited": "it is rate-limiting us",
    "malformed": "its answer was malformed",
    "revision_not_found": "the revision vanished while we read it",
    "http_error": "it refused the request",
    "corrupt": "a download did not match the hash the file list announced",
}


class TransientHubError(UpstreamError):
    """The Hub could not answer now (timeout, connection, 5xx, 429, malformed answer). Never a
    change: record a failed check and try again next cycle. ``retry_after`` is in seconds."""

    code = "upstream_transient"

    def __init__(
        self,
        reason: TransientReason,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        detail: str = "",
    ) -> None:
        suffix = f" (HTTP {status})" if status else ""
        what = _TRANSIENT_WORDS.get(reason, reason.replace("_", " "))
        super().__init__(f"The Hub could not answer now: {what}{suffix}; try again later.")
        self.reason: TransientReason = reason
        self.retry_after = retry_after
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class RepoStatus:
    """One model's metadata as the Hub reports it now (one API request)."""

    requested_id: str
    repo_id: str  # canonical id, after following a rename
    sha: str
    last_modified: datetime | None
    created_at: datetime | None
    gated: GatedMode
    disabled: bool
    private: bool
    license: str | None  # the card's ``license``; a list in the card is joined with ","
    license_name: str | None
    license_link: str | None
    license_tags: tuple[str, ...]  # values of the ``license:`` tags, prefix stripped
    base_model: tuple[str, ...]
    new_version: str | None
    gating_prompt: Mapping[str, Any] = field(default_factory=dict)  # card's extra_gated_* keys
    tags: tuple[str, ...] = ()
    renamed_from: str | None = None  # the requested id when the Hub redirected elsewhere
    base_model_relation: str | None = None  # the card's base_model_relation, as written


@dataclass(frozen=True)
class RepoFile:
    """One file of a revision: path, size in bytes, git blob id, LFS sha256 when stored in LFS."""

    path: str
    size: int | None
    blob_id: str | None
    lfs_sha256: str | None

    @property
    def is_weight(self) -> bool:
        """Whether the file holds model weights (by its name)."""
        return is_weight_file(self.path)


@dataclass(frozen=True)
class LicenseFile:
    """A license-like file and, when ``status == "fetched"``, its normalized text and hash.

    ``known``: the caller already holds the text for this blob id, so it was not downloaded;
    ``gated_no_access``: the repo is gated and our token has no access; ``missing``: listed but
    the download answered EntryNotFound; ``too_large`` / ``not_text``: not stored as text.
    """

    path: str
    blob_id: str | None
    size: int | None
    status: LicenseTextStatus
    text: str | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class RepoFiles:
    """The file list of one revision plus its license-like files."""

    repo_id: str
    revision: str
    files: tuple[RepoFile, ...]
    license_files: tuple[LicenseFile, ...]


@dataclass(frozen=True)
class AuthorModel:
    """A repo in an author's listing."""

    repo_id: str
    created_at: datetime | None


@dataclass(frozen=True)
class ListedModel:
    """A repo in an author's status listing: the fields ``fetch_status`` would return, or None
    (with ``problem``) when the item lacked one (then only a per-model check can tell)."""

    model: AuthorModel
    status: RepoStatus | None
    disabled: bool = False
    problem: str | None = None


def is_license_file(path: str) -> bool:
    """True for LICENSE*, LICENCE*, USE_POLICY*, NOTICE* and *license*.md/.txt at any depth."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.startswith(_LICENSE_PREFIXES):
        return True
    return ("license" in name or "licence" in name) and name.endswith((".md", ".txt"))


def is_weight_file(path: str) -> bool:
    """True for files that hold model weights (by extension)."""
    return path.lower().endswith(_WEIGHT_SUFFIXES)
