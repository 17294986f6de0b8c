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
- ``list_author_models`` (newest repos, for family detection) and ``iter_author_statuses``
  (every repo with the status fields, page by page): its own loop over ``GET /api/models?author=``
  pages following the ``Link: rel="next"`` header, because ``HfApi.list_models`` retries 429/5xx
  internally with real sleeps and takes no timeout (bypassing the budget, able to hang a cycle).
  The list endpoint accepts fewer ``expand`` values than ``model_info`` (``LISTING_EXPAND``).
- For derivatives and hardware fit (``governance.upstream.variants`` / ``sizing``):
  ``iter_listing`` (the same page loop for any listing: ``filter=base_model:quantized:<id>``),
  ``fetch_info`` (``model_info(expand=...)``: ``safetensors``, ``gguf``), ``fetch_file_list``
  (one ``blobs=true`` request: file sizes, nothing downloaded) and ``fetch_file`` (one small
  file such as ``config.json``; not verified against a hash, and never stored).

Every request first takes a slot from a shared ``RequestBudget``. A 429 pauses the budget (all
callers) until the reset the Hub announced (``RateLimit`` ``t=``, else ``Retry-After``), then the
same request is retried at most ``max_rate_limit_retries`` times. Nothing else is retried here:
the next cycle is the retry.

Integrity: every downloaded license file must hash to what the file list announced (its git blob
id, or ``lfs.sha256`` for an LFS file; ``governance.upstream.integrity``). Anything else (a proxy
error page, a truncated or empty body, another text) is ``TransientHubError("corrupt")``: the
whole check fails and nothing of it is stored. A license-like file listed without a blob id
cannot be verified, so it fails the check the same way (the Hub always sends ``blobId`` with
``blobs=true``; an answer without it is malformed). LFS license files up to
``max_license_bytes`` are downloaded too and checked against their sha256.

Errors: ``RepoUnavailable`` is permanent upstream state (the watcher records a change);
``TransientHubError`` is a failed check (never a change). ``InvalidInput`` for a malformed id.

License-like files (``is_license_file``): a file at *any folder depth* whose name, ignoring case,
starts with LICENSE, LICENCE, USE_POLICY or NOTICE, or contains "license"/"licence" and ends in
``.md``/``.txt``. Any depth, because vendors put the binding text next to the weights in
subfolders (``original/LICENSE``) and a missed copy is worse than one request too many.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx2
from huggingface_hub import HfApi, hf_hub_url
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    RemoteEntryNotFoundError,
)
from huggingface_hub.hf_api import ExpandModelProperty_T, ModelInfo
from huggingface_hub.utils import (
    build_hf_headers,
    get_session,
    hf_raise_for_status,
    parse_ratelimit_headers,
)

from governance.core.errors import InvalidInput
from governance.licenses.normalize import content_hash, normalize_text
from governance.upstream.hub_metrics import count_no_answer, watch_session
from governance.upstream.hub_parse import (
    is_sha,
    listed_model,
    map_http_error,
    parse_time,
    status_from_info,
)
from governance.upstream.hub_types import (
    AuthorModel,
    GatedMode,
    LicenseFile,
    LicenseTextStatus,
    ListedModel,
    RepoFile,
    RepoFiles,
    RepoStatus,
    RepoUnavailable,
    TransientHubError,
    is_license_file,
    is_weight_file,
)
from governance.upstream.integrity import integrity_problem
from governance.upstream.ratelimit import RequestBudget

__all__ = [
    "STATUS_EXPAND",
    "AuthorModel",
    "GatedMode",
    "HubClient",
    "LicenseFile",
    "ListedModel",
    "RepoFile",
    "RepoFiles",
    "RepoStatus",
    "RepoUnavailable",
    "TransientHubError",
    "is_license_file",
    "is_weight_file",
]

T = TypeVar("T")

# The only fields a status check needs; everything else (siblings, downloads...) is left out.
STATUS_EXPAND: tuple[ExpandModelProperty_T, ...] = (
    "sha",
    "lastModified",
    "createdAt",
    "private",
    "disabled",
    "gated",
    "tags",
    "cardData",
)
# The same fields from the list endpoint, whose expand values are ``ExpandModelProperty_T`` less
# ``baseModels``, ``childrenModelCount`` and ``usedStorage`` (``HfApi.list_models``'s docstring).
LISTING_EXPAND: tuple[ExpandModelProperty_T, ...] = STATUS_EXPAND
LIBRARY_NAME = "modelgov"
PAGE_LIMIT = 1000  # the largest page asked for; the server may send fewer (follow Link)
# Status pages carry each repo's cardData: 100 a page bounds what one answer holds in memory.
STATUS_PAGE_LIMIT = 100


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
                timeout=self._timeout,
            ),
        )
        return status_from_info(repo_id, info)

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
        if info.siblings is None or not is_sha(info.sha):
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
        params = self._listing_params(author, min(limit, PAGE_LIMIT), ("createdAt",))
        out: list[AuthorModel] = []
        for page in self._pages(author, params):
            out.extend(AuthorModel(item["id"], parse_time(item.get("createdAt"))) for item in page)
            if len(out) >= limit:
                break
        return out[:limit]

    def iter_author_statuses(self, author: str) -> Iterator[list[ListedModel]]:
        """Yield the author's whole catalogue, newest first, one page (one request) at a time,
        each repo with the fields of ``fetch_status`` (``status`` None when they are malformed).

        Raises ``TransientHubError`` for the page that failed (earlier pages stay valid).
        """
        params = self._listing_params(author, STATUS_PAGE_LIMIT, LISTING_EXPAND)
        for page in self._pages(author, params):
            yield [listed_model(item) for item in page]

    def fetch_info(self, repo_id: str, expand: Collection[ExpandModelProperty_T]) -> ModelInfo:
        """The model info fields ``expand`` names (``safetensors``, ``gguf``, ...): one request.

        Raises ``RepoUnavailable``, ``TransientHubError`` or ``InvalidInput``.
        """
        return self._call(
            repo_id,
            lambda: self._api.model_info(repo_id, expand=list(expand), timeout=self._timeout),
        )

    def fetch_file_list(self, repo_id: str, revision: str = "main") -> tuple[RepoFile, ...]:
        """Every file of ``revision`` with its size and blob ids (one ``blobs=true`` request);
        nothing is downloaded. Raises what ``fetch_info`` raises."""
        info = self._call(
            repo_id,
            lambda: self._api.model_info(
                repo_id, revision=revision, files_metadata=True, timeout=self._timeout
            ),
        )
        if info.siblings is None:
            raise TransientHubError("malformed", detail="files answer without siblings")
        return tuple(
            RepoFile(s.rfilename, s.size, s.blob_id, s.lfs.sha256 if s.lfs else None)
            for s in info.siblings
        )

    def fetch_file(self, repo_id: str, revision: str, path: str) -> bytes | None:
        """The bytes of one small file of ``revision`` (``config.json``): one download; None
        when the revision has no such file. Raises what ``fetch_info`` raises (a gated repo
        without access is ``RepoUnavailable("gated_no_access")``)."""
        try:
            return self._call(
                repo_id,
                lambda: self._download(repo_id, revision, path),
                passthrough=(RemoteEntryNotFoundError,),
            )
        except RemoteEntryNotFoundError:
            return None

    def iter_listing(
        self, params: Sequence[tuple[str, str]], *, what: str
    ) -> Iterator[list[dict[str, Any]]]:
        """Each page (one request) of ``GET /api/models`` with ``params`` (``filter``,
        ``search``, ``sort``, ``limit``, ``expand``...), following ``Link: rel="next"``; ``what``
        names the listing in errors. Raises ``TransientHubError`` for the page that failed."""
        return self._pages(what, tuple(params))

    # -- internals -------------------------------------------------------------------------

    @staticmethod
    def _listing_params(
        author: str, page_limit: int, expand: Collection[str]
    ) -> tuple[tuple[str, str], ...]:
        return (
            ("author", author),
            ("sort", "createdAt"),
            ("direction", "-1"),
            ("limit", str(page_limit)),
            *(("expand", e) for e in expand),
        )

    def _pages(
        self, author: str, params: tuple[tuple[str, str], ...]
    ) -> Iterator[list[dict[str, Any]]]:
        """Each page of the listing ``params`` asks for, following ``Link: rel="next"``."""
        url: str | None = f"{self.endpoint}/api/models"
        first = True
        while url is not None:
            # The next link already carries every query parameter.
            send = functools.partial(self._get_page, url, params if first else None)
            items, url = self._call(author, send)
            first = False
            if not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
                raise TransientHubError("malformed", detail="listing item without id")
            if url is not None and not self._same_origin(url):
                # Never send our token to a host the Link header names.
                raise TransientHubError("malformed", detail=f"next page on another host: {url}")
            yield items

    def _headers(self) -> dict[str, str]:
        return build_hf_headers(token=self._token, library_name=LIBRARY_NAME)

    def _same_origin(self, url: str) -> bool:
        a, b = urlsplit(url), urlsplit(self.endpoint)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)

    def _get_page(
        self, url: str, params: tuple[tuple[str, str], ...] | None
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
        """The license-like file ``f`` of ``sha``: its verified text, or why there is none.

        Raises ``TransientHubError("corrupt")`` when the bytes do not hash to the blob id or LFS
        sha256 of the file list, ``TransientHubError("malformed")`` when the list gave neither
        (the text could not be verified), and what ``_call`` raises for the download.
        """

        def result(status: LicenseTextStatus) -> LicenseFile:
            return LicenseFile(f.path, f.blob_id, f.size, status)

        if f.blob_id is not None and f.blob_id in known_blobs:
            return result("known")
        if (f.size or 0) > self._max_license_bytes:
            return result("too_large")
        if f.blob_id is None and f.lfs_sha256 is None:
            raise TransientHubError(
                "malformed", detail=f"{f.path} is listed without a blob id to verify it against"
            )
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
        problem = integrity_problem(data, blob_id=f.blob_id, lfs_sha256=f.lfs_sha256, size=f.size)
        if problem is not None:
            raise TransientHubError("corrupt", detail=f"{f.path}: {problem}")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return result("not_text")
        if "\x00" in text:  # binary that happens to decode; PostgreSQL text cannot hold NUL
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
            watch_session(get_session())  # counts the answer (modelgov_hub_requests_total)
            with self._lock:
                self._sent += 1
            try:
                return send()
            except passthrough:
                raise
            except HfHubHTTPError as err:
                status = err.response.status_code if err.response is not None else None
                if status != 429:
                    raise map_http_error(repo_id, err, status) from err
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
                count_no_answer(err, "timeout")
                raise TransientHubError("timeout", detail=str(err)) from err
            except httpx2.HTTPError as err:
                # Connection refused/reset, dropped connection, too many redirects.
                count_no_answer(err, "connection")
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
