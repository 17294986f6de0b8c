"""The Hub client the watcher uses: a repo id in, typed upstream facts out. No database code.

How it uses huggingface_hub 2.x (``HfApi(endpoint=..., token=...)`` built explicitly, so
``HF_ENDPOINT`` is never consulted):

- ``fetch_status``: ``HfApi.model_info(expand=STATUS_EXPAND)``, exactly one
  ``GET /api/models/{id}?expand=...`` for an unchanged model. The library's shared session follows
  a 307 rename by itself; the JSON's ``id`` is then the new canonical id, which is how a rename is
  detected (an id that differs from the requested one other than by case).
- ``fetch_files``: ``HfApi.model_info(revision=sha, files_metadata=True)``: one
  ``GET /api/models/{id}/revision/{sha}?blobs=true`` (``expand`` cannot be combined with
  ``blobs``), then one ``GET /{id}/resolve/{sha}/{path}`` per license-like file whose blob id the
  caller does not already hold, through the library's session and ``hf_raise_for_status``
  (``hf_hub_download`` would add a HEAD per file and write to a disk cache).
- ``list_author_models``: its own loop over ``GET /api/models?author=...`` pages (following the
  ``Link: rel="next"`` header), because ``HfApi.list_models`` retries 429/5xx internally with real
  sleeps and takes no timeout, which would bypass the budget and could hang a cycle.

Every request first takes a slot from a shared ``RequestBudget``. A 429 pauses the budget (all
callers) until the reset the Hub announced (``RateLimit`` ``t=``, else ``Retry-After``), then the
same request is retried at most ``max_rate_limit_retries`` times. Nothing else is retried here:
the next cycle is the retry.

Errors: ``RepoUnavailable`` is permanent upstream state (the watcher records a change);
``TransientHubError`` is a failed check (never a change). ``InvalidInput`` for a malformed id.

License-like files (``is_license_file``): a file at *any folder depth* whose name, ignoring case,
starts with LICENSE, LICENCE, USE_POLICY or NOTICE, or contains "license"/"licence" and ends in
``.md``/``.txt``. Any depth, because vendors put the binding text next to the weights in
subfolders (``original/LICENSE``) and a missed copy is worse than one request too many.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import httpx2
from huggingface_hub import HfApi, hf_hub_url
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import ModelInfo
from huggingface_hub.utils import (
    build_hf_headers,
    get_session,
    hf_raise_for_status,
    parse_ratelimit_headers,
)

from governance.errors import GovernanceError, InvalidInput, UpstreamError
from governance.licenses.normalize import content_hash, normalize_text
from governance.upstream.ratelimit import RequestBudget

__all__ = [
    "STATUS_EXPAND",
    "AuthorModel",
    "GatedMode",
    "HubClient",
    "LicenseFile",
    "RepoFile",
    "RepoFiles",
    "RepoStatus",
    "RepoUnavailable",
    "TransientHubError",
    "is_license_file",
    "is_weight_file",
]

T = TypeVar("T")
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
]
LicenseTextStatus = Literal[
    "fetched", "known", "gated_no_access", "missing", "too_large", "not_text"
]

# The only fields a status check needs; everything else (siblings, downloads...) is left out.
STATUS_EXPAND: tuple[str, ...] = (
    "sha",
    "lastModified",
    "createdAt",
    "private",
    "disabled",
    "gated",
    "tags",
    "cardData",
)
LIBRARY_NAME = "modelgov"
PAGE_LIMIT = 1000  # the Hub's largest listing page
_SHA = re.compile(r"[0-9a-f]{40}")
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


@dataclass(frozen=True)
class RepoFile:
    """One file of a revision: path, size in bytes, git blob id, LFS sha256 when stored in LFS."""

    path: str
    size: int | None
    blob_id: str | None
    lfs_sha256: str | None

    @property
    def is_weight(self) -> bool:
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


def is_license_file(path: str) -> bool:
    """True for LICENSE*, LICENCE*, USE_POLICY*, NOTICE* and *license*.md/.txt at any depth."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.startswith(_LICENSE_PREFIXES):
        return True
    return ("license" in name or "licence" in name) and name.endswith((".md", ".txt"))


def is_weight_file(path: str) -> bool:
    """True for files that hold model weights (by extension)."""
    return path.lower().endswith(_WEIGHT_SUFFIXES)


class HubClient:
    """Thread-safe client for the Hub (or a stand-in at ``endpoint``); share one per process.

    ``timeout`` applies to each HTTP request. ``budget`` paces every request (default: 500 per
    300 s). ``max_license_bytes`` caps the license files downloaded as text.
    """

    def __init__(
        self,
        endpoint: str,
        token: str | None,
        *,
        timeout: float = 10.0,
        budget: RequestBudget | None = None,
        max_rate_limit_retries: int = 2,
        default_retry_after: float = 60.0,
        max_license_bytes: int = 1_000_000,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        # token=False, not None: None would let the library pick up a token saved on this machine.
        self._token: str | bool = token or False
        self._api = HfApi(endpoint=self.endpoint, token=self._token, library_name=LIBRARY_NAME)
        self._timeout = timeout
        self.budget = budget or RequestBudget()
        self._max_retries = max_rate_limit_retries
        self._default_retry_after = default_retry_after
        self._max_license_bytes = max_license_bytes
        self._lock = threading.Lock()
        self._sent = 0

    @property
    def requests_sent(self) -> int:
        """HTTP requests this client sent (a followed 307 counts once)."""
        with self._lock:
            return self._sent

    # -- public API ------------------------------------------------------------------------

    def fetch_status(self, repo_id: str) -> RepoStatus:
        """Return the model's current status with one API request (two when renamed).

        Raises ``RepoUnavailable`` (not_found, gated_no_access, disabled), ``TransientHubError``,
        or ``InvalidInput`` for a malformed repo id.
        """
        info = self._call(
            repo_id,
            lambda: self._api.model_info(
                repo_id,
                expand=list(STATUS_EXPAND),
                timeout=self._timeout,  # type: ignore[arg-type]
            ),
        )
        return _status_from_info(repo_id, info)

    def fetch_files(
        self, repo_id: str, revision: str, *, known_blobs: Collection[str] = frozenset()
    ) -> RepoFiles:
        """Return the files of ``revision`` (a sha, ideally) and the texts of license-like files.

        One API request, plus one download per license-like file whose blob id is not in
        ``known_blobs``. A gated repo without access yields ``status="gated_no_access"`` files,
        not an error. Raises ``RepoUnavailable``, ``TransientHubError`` (also when the revision
        vanished: a race with a force-push, retried next cycle) or ``InvalidInput``.
        """
        info = self._call(
            repo_id,
            lambda: self._api.model_info(
                repo_id, revision=revision, files_metadata=True, timeout=self._timeout
            ),
        )
        if info.siblings is None or not _is_sha(info.sha):
            raise TransientHubError("malformed", detail="files answer without siblings or sha")
        sha = str(info.sha)
        files = tuple(
            RepoFile(
                path=s.rfilename,
                size=s.size,
                blob_id=s.blob_id,
                lfs_sha256=s.lfs.sha256 if s.lfs else None,
            )
            for s in info.siblings
        )
        license_files = tuple(
            self._license_file(info.id, sha, f, known_blobs)
            for f in files
            if is_license_file(f.path)
        )
        return RepoFiles(repo_id=info.id, revision=sha, files=files, license_files=license_files)

    def list_author_models(self, author: str, *, limit: int = 100) -> list[AuthorModel]:
        """Return up to ``limit`` of the author's models, newest first (one request per page).

        Raises ``TransientHubError``; an unknown author is an empty list, as on the Hub.
        """
        if limit < 1:
            return []
        page_limit = min(limit, PAGE_LIMIT)
        params: list[tuple[str, str]] = [
            ("author", author),
            ("sort", "createdAt"),
            ("direction", "-1"),
            ("limit", str(page_limit)),
            ("expand", "createdAt"),
        ]
        url: str | None = f"{self.endpoint}/api/models"
        first = True
        out: list[AuthorModel] = []
        while url is not None and len(out) < limit:
            # The next link already carries every query parameter.
            send = functools.partial(self._get_page, url, params if first else None)
            items, url = self._call(author, send)
            first = False
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    raise TransientHubError("malformed", detail="listing item without id")
                out.append(AuthorModel(item["id"], _parse_time(item.get("createdAt"))))
            if url is not None and not self._same_origin(url):
                # Never send our token to a host the Link header names.
                raise TransientHubError("malformed", detail=f"next page on another host: {url}")
        return out[:limit]

    # -- internals -------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return build_hf_headers(token=self._token, library_name=LIBRARY_NAME)

    def _same_origin(self, url: str) -> bool:
        a, b = urlsplit(url), urlsplit(self.endpoint)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)

    def _get_page(
        self, url: str, params: list[tuple[str, str]] | None
    ) -> tuple[list[Any], str | None]:
        response = get_session().get(
            url, params=params, headers=self._headers(), timeout=self._timeout
        )
        hf_raise_for_status(response)
        data = response.json()
        if not isinstance(data, list):
            raise ValueError("listing is not a JSON array")
        return data, response.links.get("next", {}).get("url")

    def _download(self, repo_id: str, sha: str, path: str) -> bytes:
        url = hf_hub_url(repo_id, path, revision=sha, endpoint=self.endpoint)
        response = get_session().get(url, headers=self._headers(), timeout=self._timeout)
        hf_raise_for_status(response)
        return response.content

    def _license_file(
        self, repo_id: str, sha: str, f: RepoFile, known_blobs: Collection[str]
    ) -> LicenseFile:
        def result(status: LicenseTextStatus) -> LicenseFile:
            return LicenseFile(f.path, f.blob_id, f.size, status)

        if f.blob_id is not None and f.blob_id in known_blobs:
            return result("known")
        if f.lfs_sha256 is not None or (f.size or 0) > self._max_license_bytes:
            return result("too_large")
        try:
            data = self._call(
                repo_id,
                lambda: self._download(repo_id, sha, f.path),
                passthrough=(GatedRepoError, RemoteEntryNotFoundError),
            )
        except GatedRepoError:
            return result("gated_no_access")
        except RemoteEntryNotFoundError:
            return result("missing")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return result("not_text")
        normalized = normalize_text(text)
        return LicenseFile(
            f.path, f.blob_id, f.size, "fetched", normalized, content_hash(normalized)
        )

    def _call(
        self,
        repo_id: str,
        send: Callable[[], T],
        *,
        passthrough: tuple[type[Exception], ...] = (),
    ) -> T:
        """Send one request through the budget and map every failure to a typed error.

        ``passthrough`` exceptions are re-raised as is for the caller to interpret.
        """
        attempt = 0
        while True:
            self.budget.acquire()
            with self._lock:
                self._sent += 1
            try:
                return send()
            except passthrough:
                raise
            except HfHubHTTPError as err:
                status = err.response.status_code if err.response is not None else None
                if status != 429:
                    raise _map_http_error(repo_id, err, status) from err
                wait = self._retry_after(err.response)
                self.budget.pause(wait)
                if attempt >= self._max_retries:
                    raise TransientHubError(
                        "rate_limited", retry_after=wait, status=429, detail=str(err)
                    ) from err
                attempt += 1
            except HFValidationError as err:
                raise InvalidInput(f"{repo_id!r} is not a valid Hub repo id.") from err
            except httpx2.TimeoutException as err:
                raise TransientHubError("timeout", detail=str(err)) from err
            except httpx2.HTTPError as err:
                # Connection refused/reset, dropped connection, too many redirects.
                raise TransientHubError("connection", detail=str(err)) from err
            except (ValueError, TypeError, KeyError, AttributeError) as err:
                # JSON that does not decode or does not have the Hub's shape.
                raise TransientHubError("malformed", detail=str(err)) from err

    def _retry_after(self, response: httpx2.Response | None) -> float:
        """Seconds until the Hub's window resets: ``RateLimit`` t= first, then Retry-After."""
        if response is None:
            return self._default_retry_after
        info = parse_ratelimit_headers(response.headers)
        if info is not None and info.remaining == 0:
            return float(info.reset_in_seconds) + 1.0  # +1: t= is rounded down
        header = response.headers.get("Retry-After", "")
        if header.strip().isdigit():
            return float(header.strip())
        return self._default_retry_after


def _map_http_error(repo_id: str, err: HfHubHTTPError, status: int | None) -> GovernanceError:
    # GatedRepoError subclasses RepositoryNotFoundError: test it first.
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


def _is_sha(value: object) -> bool:
    return isinstance(value, str) and _SHA.fullmatch(value) is not None


def _parse_time(value: object) -> datetime | None:
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


def _status_from_info(requested_id: str, info: ModelInfo) -> RepoStatus:
    """Build a RepoStatus; a field the Hub must send but did not is a malformed answer."""
    if not _is_sha(info.sha):
        raise TransientHubError("malformed", detail=f"no commit sha in the answer: {info.sha!r}")
    if info.gated not in (False, "auto", "manual"):
        raise TransientHubError("malformed", detail=f"unexpected gated value: {info.gated!r}")
    gated: GatedMode = "false" if info.gated is False else info.gated
    card: dict[str, Any] = info.card_data.to_dict() if info.card_data is not None else {}
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
    )
