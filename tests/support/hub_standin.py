"""A loopback stand-in for the Hugging Face Hub, speaking the wire shapes huggingface_hub 2.x uses.

What it serves (all on ``http://127.0.0.1:<port>``):

- ``GET /api/models/{repo_id}`` and ``/api/models/{repo_id}/revision/{rev}``: model info JSON;
  repeatable ``expand=`` limits the fields (plus ``id`` and ``_id``); ``blobs=true`` adds
  ``size``/``blobId``/``lfs`` to ``siblings``; unknown expand values and ``expand`` with
  ``blobs`` answer 400, like the Hub.
- ``GET /api/models?author=&sort=&direction=&limit=&expand=``: listing, paginated with a
  ``Link: <...>; rel="next"`` header and an opaque ``cursor`` parameter.
- ``GET|HEAD /{repo_id}/resolve/{rev}/{path}``: file bytes with ``X-Repo-Commit``, ``ETag`` (git
  blob id, or the LFS sha256 for LFS files, which also get ``X-Linked-Etag``/``X-Linked-Size``),
  ``Content-Length``.
- Errors as the Hub sends them: ``X-Error-Code`` (``RepoNotFound``, ``GatedRepo``,
  ``RevisionNotFound``, ``EntryNotFound``) plus ``X-Error-Message`` and a JSON ``{"error": ...}``
  body; missing/private repos are 401 without a token and 404 with one; disabled repos are 403
  with "Access to this resource is disabled."; renamed repos answer 307 to the new id.
- Corrupted downloads (``corrupt_download``): a ``/resolve/`` answered 200 with the wrong bytes,
  as a misbehaving proxy or cache sends them: a truncated body, an HTML error page, a truncated
  JSON error, an empty body, a stale copy from the previous commit, or a plausible but altered
  text. Bodies a proxy made up carry the proxy's headers; bodies that look like the file keep the
  Hub's (``ETag``, ``X-Repo-Commit``), so only hashing the bytes can tell them apart.
- Rate limits: a fixed 300 s window per resource (``api`` for /api, ``resolvers`` for files); every
  answer carries ``RateLimit``/``RateLimit-Policy``; over quota: 429 with ``r=0`` and
  ``Retry-After``.

Drive it from tests::

    with HubStandin() as hub:
        hub.add_model("acme/m-7b", license="apache-2.0", files={"LICENSE": "Apache ..."})
        sha = hub.commit("acme/m-7b", files={"LICENSE": "new text"})
        hub.inject("status", status=503, times=2, path="/api/models/acme")
        hub.count(prefix="/api/models/")

The clock (``clock``: monotonic seconds) is injectable so a test can move the rate-limit window
along with a fake sleep.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import yaml

Gated = Literal[False, "auto", "manual"]
FaultKind = Literal["status", "rate_limit", "malformed", "hang", "drop", "corrupt"]
Corruption = Literal["truncated", "html_error_page", "json_error", "empty", "stale", "altered"]
CORRUPTIONS: tuple[Corruption, ...] = (
    "truncated",
    "html_error_page",
    "json_error",
    "empty",
    "stale",
    "altered",
)
# What nginx in front of an origin that reset the connection answers (here, wrongly, with 200).
HTML_ERROR_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
# An Envoy-style error cut mid-body.
TRUNCATED_JSON_ERROR = b'{"error":"upstream connect error or disconnect/reset before hea'


# The Hub's expandable model properties (huggingface_hub's ExpandModelProperty_T).
EXPANDABLE = frozenset(
    {
        "author",
        "baseModels",
        "cardData",
        "childrenModelCount",
        "config",
        "createdAt",
        "disabled",
        "downloads",
        "downloadsAllTime",
        "evalResults",
        "gated",
        "gguf",
        "inference",
        "inferenceProviderMapping",
        "lastModified",
        "library_name",
        "likes",
        "mask_token",
        "model-index",
        "pipeline_tag",
        "private",
        "resourceGroup",
        "safetensors",
        "sha",
        "siblings",
        "spaces",
        "tags",
        "transformersInfo",
        "trendingScore",
        "usedStorage",
        "widgetData",
    }
)
# Files stored through git-lfs on the Hub (by extension), as in its default .gitattributes.
LFS_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".onnx", ".h5", ".msgpack", ".ckpt")
LFS_MIN_SIZE = 10 * 1024 * 1024
# What a listing item carries when no expand is given.
_LIST_FIELDS = ("_id", "id", "modelId", "likes", "downloads", "private", "tags", "createdAt")
DISABLED_MESSAGE = "Access to this resource is disabled."
WINDOW_SECONDS = 300


def git_blob_id(data: bytes) -> str:
    """The git blob id of ``data``: sha1 of ``blob {len}\\0`` + content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _lfs_pointer(sha256: str, size: int) -> bytes:
    spec = "https://git-lfs.github.com/spec/v1"
    return f"version {spec}\noid sha256:{sha256}\nsize {size}\n".encode()


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class _Blob:
    data: bytes
    blob_id: str
    lfs_sha256: str | None  # set when the file is stored through LFS

    @classmethod
    def of(cls, path: str, content: str | bytes) -> _Blob:
        data = content.encode("utf-8") if isinstance(content, str) else content
        if path.lower().endswith(LFS_SUFFIXES) or len(data) >= LFS_MIN_SIZE:
            sha256 = hashlib.sha256(data).hexdigest()
            # Git stores the pointer file, so the blob id is the pointer's.
            return cls(data, git_blob_id(_lfs_pointer(sha256, len(data))), sha256)
        return cls(data, git_blob_id(data), None)

    @property
    def pointer_size(self) -> int:
        return len(_lfs_pointer(self.lfs_sha256 or "", len(self.data)))


@dataclass(frozen=True)
class _Revision:
    sha: str
    files: dict[str, _Blob]
    card_data: dict[str, Any]
    tags: tuple[str, ...]  # as served: derived from the card, then the extra ones
    extra_tags: tuple[str, ...]
    committed_at: datetime


@dataclass
class _Repo:
    repo_id: str
    object_id: str
    created_at: datetime
    head: _Revision
    revisions: dict[str, _Revision] = field(default_factory=dict)
    gated: Gated = False
    private: bool = False
    disabled: bool = False


class Request(NamedTuple):
    """One logged request."""

    method: str
    path: str  # unquoted path, without the query
    query: dict[str, list[str]]
    token: str | None


@dataclass
class _Fault:
    kind: FaultKind
    times: int
    path: str | None
    status: int
    seconds: float
    corruption: Corruption | None = None
    file_path: str = ""  # corrupt: only files whose path starts with this


class _Reply(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


class HubStandin:
    """A Hub on 127.0.0.1 with mutable state, request counting and failure injection."""

    def __init__(
        self,
        *,
        api_quota: int = 500,
        resolve_quota: int = 3000,
        page_size: int = 1000,
        latency: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_quota = api_quota
        self.resolve_quota = resolve_quota
        self.page_size = page_size
        self.latency = latency  # seconds added to every request (benchmarks)
        self._clock = clock
        self._lock = threading.RLock()
        self._repos: dict[str, _Repo] = {}  # keyed by lowercased id: the Hub ignores case
        self._redirects: dict[str, str] = {}  # lowercased old id -> new id
        self._grants: dict[str, set[str]] = {}  # token -> lowercased repo ids
        self._faults: list[_Fault] = []
        self._hidden_blob_ids: set[tuple[str, str]] = set()  # (lowercased repo id, path)
        self._log: list[Request] = []
        self._windows: dict[str, tuple[float, int]] = {}  # resource -> (window start, used)
        self._commit_counter = 0
        self._last_commit_at = datetime(2024, 1, 1, tzinfo=UTC)
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> HubStandin:
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        # A short poll interval so that stop() (and every test teardown) returns quickly.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hanging requests are released."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> HubStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- state: simulate upstream events ----------------------------------------------------

    def add_model(
        self,
        repo_id: str,
        *,
        license: str | None = "apache-2.0",
        license_name: str | None = None,
        license_link: str | None = None,
        files: Mapping[str, str | bytes] | None = None,
        gated: Gated = False,
        private: bool = False,
        card_data: Mapping[str, Any] | None = None,
        tags: Iterable[str] = (),
        created_at: datetime | None = None,
    ) -> str:
        """Create a model repo with one commit; return its sha. Replaces any redirect at the id."""
        card: dict[str, Any] = {}
        for key, value in (
            ("license", license),
            ("license_name", license_name),
            ("license_link", license_link),
        ):
            if value is not None:
                card[key] = value
        card.update(card_data or {})
        with self._lock:
            key = repo_id.lower()
            if key in self._repos:
                raise ValueError(f"{repo_id} exists")
            self._redirects.pop(key, None)
            now = self._next_commit_time()
            revision = self._make_revision(repo_id, None, dict(files or {}), card, tuple(tags), now)
            repo = _Repo(
                repo_id=repo_id,
                object_id=hashlib.sha1(f"_id:{repo_id}".encode()).hexdigest()[:24],
                created_at=created_at or now,
                head=revision,
                gated=gated,
                private=private,
            )
            repo.revisions[revision.sha] = revision
            self._repos[key] = repo
            return revision.sha

    def commit(
        self,
        repo_id: str,
        *,
        files: Mapping[str, str | bytes] | None = None,
        remove: Iterable[str] = (),
        card_data: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None,
    ) -> str:
        """Make a new commit on main; return its sha. Old revisions stay fetchable by sha.

        ``card_data`` is merged into the card (a ``None`` value deletes the key); the README.md
        is rewritten from the card. ``tags`` replaces the extra tags when given.
        """
        with self._lock:
            repo = self._repo(repo_id)
            parent = repo.head
            # README.md and .gitattributes are regenerated from the card for every commit.
            new_files: dict[str, str | bytes] = {
                path: blob.data
                for path, blob in parent.files.items()
                if path not in ("README.md", ".gitattributes")
            }
            for path in remove:
                new_files.pop(path)
            new_files.update(files or {})
            card = dict(parent.card_data)
            for key, value in (card_data or {}).items():
                if value is None:
                    card.pop(key, None)
                else:
                    card[key] = value
            extra_tags = parent.extra_tags if tags is None else tuple(tags)
            revision = self._make_revision(
                repo.repo_id, parent.sha, new_files, card, extra_tags, self._next_commit_time()
            )
            repo.revisions[revision.sha] = revision
            repo.head = revision
            return revision.sha

    def set_license(
        self, repo_id: str, license: str, *, name: str | None = None, link: str | None = None
    ) -> str:
        """Commit a card change of the license fields; return the new sha."""
        return self.commit(
            repo_id, card_data={"license": license, "license_name": name, "license_link": link}
        )

    def set_gated(self, repo_id: str, gated: Gated) -> None:
        """Change the gating setting (a repo setting: no new commit, like the Hub)."""
        with self._lock:
            self._repo(repo_id).gated = gated

    def set_private(self, repo_id: str, private: bool = True) -> None:
        with self._lock:
            self._repo(repo_id).private = private

    def disable(self, repo_id: str) -> None:
        """Disable the repo: every request for it answers 403 'Access ... disabled.'"""
        with self._lock:
            self._repo(repo_id).disabled = True

    def delete(self, repo_id: str) -> None:
        """Delete the repo (and drop redirects pointing at it)."""
        with self._lock:
            repo = self._repos.pop(repo_id.lower())
            self._redirects = {
                old: new
                for old, new in self._redirects.items()
                if new.lower() != repo.repo_id.lower()
            }

    def rename(self, old: str, new: str) -> None:
        """Rename ``old`` to ``new``; ``old`` then answers 307 to ``new``."""
        with self._lock:
            repo = self._repos.pop(old.lower())
            if new.lower() in self._repos:
                raise ValueError(f"{new} exists")
            repo.repo_id = new
            self._repos[new.lower()] = repo
            self._redirects[old.lower()] = new
            # Earlier aliases follow the repo to its new name in one hop.
            for alias, target in list(self._redirects.items()):
                if target.lower() == old.lower():
                    self._redirects[alias] = new

    def grant_access(self, token: str, repo_id: str) -> None:
        """Let ``token`` read a gated or private repo."""
        with self._lock:
            self._grants.setdefault(token, set()).add(repo_id.lower())

    def revoke_access(self, token: str, repo_id: str) -> None:
        with self._lock:
            self._grants.get(token, set()).discard(repo_id.lower())

    def head_sha(self, repo_id: str) -> str:
        with self._lock:
            return self._repo(repo_id).head.sha

    def card(self, repo_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._repo(repo_id).head.card_data)

    # -- failure injection -----------------------------------------------------------------

    def inject(
        self,
        kind: FaultKind,
        *,
        times: int = 1,
        path: str | None = None,
        status: int = 503,
        seconds: float = 30.0,
    ) -> None:
        """Make the next ``times`` requests (whose path starts with ``path``, if given) fail.

        ``status``: answer ``status`` with a JSON error body; ``rate_limit``: a 429 with
        ``RateLimit`` r=0 and t=``seconds``; ``malformed``: a 200 with truncated JSON;
        ``hang``: wait ``seconds`` then answer normally; ``drop``: close the connection without
        answering.
        """
        with self._lock:
            self._faults.append(_Fault(kind, times, path, status, seconds))

    def corrupt_download(
        self, repo_id: str, corruption: Corruption, *, path: str = "", times: int = 1
    ) -> None:
        """Answer the next ``times`` downloads of ``repo_id`` (files under ``path``) with 200
        and the wrong bytes (see ``Corruption``); the file list still announces the right ones.

        ``stale`` is the file's content at the parent commit (or, for a new file, an empty
        body); ``altered`` is the right text with one clause changed.
        """
        with self._lock:
            self._faults.append(
                _Fault("corrupt", times, f"/{repo_id}/resolve/", 200, 0.0, corruption, path)
            )

    def hide_blob_id(self, repo_id: str, path: str) -> None:
        """Leave ``blobId`` (and ``lfs``) out of ``path``'s entry in ``blobs=true`` file lists."""
        with self._lock:
            self._hidden_blob_ids.add((repo_id.lower(), path))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reset_rate_limits(self) -> None:
        with self._lock:
            self._windows.clear()

    # -- request log -----------------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._log)

    def count(self, prefix: str = "", *, method: str | None = None) -> int:
        """How many requests had a path starting with ``prefix`` (and this method)."""
        with self._lock:
            return sum(
                1
                for r in self._log
                if r.path.startswith(prefix) and (method is None or r.method == method)
            )

    def reset_counts(self) -> None:
        with self._lock:
            self._log.clear()

    # -- internals: state ------------------------------------------------------------------

    def _repo(self, repo_id: str) -> _Repo:
        return self._repos[repo_id.lower()]

    def _next_commit_time(self) -> datetime:
        # Strictly increasing, so lastModified orders commits even within one second.
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._last_commit_at = max(now, self._last_commit_at + timedelta(milliseconds=1))
        return self._last_commit_at

    def _make_revision(
        self,
        repo_id: str,
        parent: str | None,
        files: dict[str, str | bytes],
        card: dict[str, Any],
        extra_tags: tuple[str, ...],
        when: datetime,
    ) -> _Revision:
        readme = "---\n" + yaml.safe_dump(card, sort_keys=False) + "---\n\n# " + repo_id + "\n"
        blobs = {".gitattributes": _Blob.of(".gitattributes", "*.safetensors filter=lfs\n")}
        blobs["README.md"] = _Blob.of("README.md", readme)
        blobs.update({path: _Blob.of(path, content) for path, content in files.items()})
        self._commit_counter += 1
        tree = "\n".join(f"{p} {b.blob_id}" for p, b in sorted(blobs.items()))
        sha = hashlib.sha1(
            f"commit {self._commit_counter}\nparent {parent}\n{repo_id}\n{tree}".encode()
        ).hexdigest()
        return _Revision(sha, blobs, card, _derived_tags(card, extra_tags), extra_tags, when)

    def _resolve_revision(self, repo: _Repo, rev: str) -> _Revision | None:
        if rev == "main":
            return repo.head
        return repo.revisions.get(rev)

    # -- internals: requests ---------------------------------------------------------------

    def _record(self, request: Request) -> None:
        with self._lock:
            self._log.append(request)

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind == "corrupt" and not _file_path_of(path).startswith(fault.file_path):
                    continue
                if fault.path is None or path.startswith(fault.path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _rate_headers(self, resource: str, *, consume: bool) -> tuple[bool, dict[str, str]]:
        """Count one request against ``resource``; return (allowed, RateLimit headers)."""
        quota = self.api_quota if resource == "api" else self.resolve_quota
        with self._lock:
            now = self._clock()
            start, used = self._windows.get(resource, (now, 0))
            if now - start >= WINDOW_SECONDS:
                start, used = now, 0
            allowed = used < quota
            if consume and allowed:
                used += 1
            self._windows[resource] = (start, used)
            reset = max(1, int(start + WINDOW_SECONDS - now + 0.999))
        headers = {
            "RateLimit": f'"{resource}";r={max(0, quota - used)};t={reset}',
            "RateLimit-Policy": f'"fixed window";"{resource}";q={quota};w={WINDOW_SECONDS}',
        }
        return allowed, headers

    def _can_read(self, repo: _Repo, token: str | None) -> bool:
        return token is not None and repo.repo_id.lower() in self._grants.get(token, set())

    def handle(
        self, method: str, raw_path: str, query: dict[str, list[str]], token: str | None
    ) -> _Reply | Literal["drop"]:
        """Route one request; return the reply, or ``"drop"`` to close without answering."""
        path = unquote(raw_path)
        self._record(Request(method, path, query, token))
        if self.latency:
            self._stopping.wait(self.latency)
        fault = self._take_fault(path)
        resource = "api" if path.startswith("/api/") else "resolvers"
        if fault is not None:
            if fault.kind == "drop":
                return "drop"
            if fault.kind == "hang":
                self._stopping.wait(fault.seconds)
            elif fault.kind == "status":
                return _error(fault.status, {"error": f"Injected failure ({fault.status})"})
            elif fault.kind == "malformed":
                return _Reply(200, {"Content-Type": "application/json"}, b'{"id": "trunc')
            elif fault.kind == "rate_limit":
                reset = max(1, int(fault.seconds))
                quota = self.api_quota if resource == "api" else self.resolve_quota
                return _too_many(resource, quota, reset)
        allowed, rate_headers = self._rate_headers(resource, consume=True)
        if not allowed:
            reset = int(rate_headers["RateLimit"].rsplit("t=", 1)[1])
            quota = self.api_quota if resource == "api" else self.resolve_quota
            return _too_many(resource, quota, reset)
        with self._lock:
            reply = self._route(method, raw_path, path, query, token)
            if fault is not None and fault.kind == "corrupt" and reply.status == 200:
                assert fault.corruption is not None
                reply = self._corrupted(reply, path, fault.corruption)
        reply.headers.update(rate_headers)
        return reply

    def _corrupted(self, reply: _Reply, path: str, corruption: Corruption) -> _Reply:
        """``reply`` (a good download of ``path``) with the wrong body, still a 200."""
        if corruption == "html_error_page":
            return _Reply(200, {"Content-Type": "text/html"}, HTML_ERROR_PAGE)
        if corruption == "json_error":
            return _Reply(200, {"Content-Type": "application/json"}, TRUNCATED_JSON_ERROR)
        body = reply.body
        if corruption == "truncated":
            body = body[: len(body) // 2]
        elif corruption == "empty":
            body = b""
        elif corruption == "stale":
            body = self._parent_content(path, reply.headers.get("X-Repo-Commit", ""))
        elif corruption == "altered":
            body = _altered(body)
        return _Reply(200, dict(reply.headers), body)

    def _parent_content(self, path: str, sha: str) -> bytes:
        """The bytes ``path`` (a resolve path) had one commit before ``sha``, else empty."""
        file_path = _file_path_of(path)
        for repo in self._repos.values():
            if sha in repo.revisions:
                shas = list(repo.revisions)
                index = shas.index(sha)
                if index > 0:
                    blob = repo.revisions[shas[index - 1]].files.get(file_path)
                    if blob is not None:
                        return blob.data
        return b""

    def _route(
        self, method: str, raw_path: str, path: str, query: dict[str, list[str]], token: str | None
    ) -> _Reply:
        if method not in ("GET", "HEAD"):
            return _error(405, {"error": "Method not allowed"})
        if path == "/api/models":
            return self._list(query, token)
        if path.startswith("/api/models/"):
            parts = raw_path[len("/api/models/") :].split("/")
            rev = None
            if len(parts) >= 3 and parts[-2] == "revision":
                rev = unquote(parts[-1])
                parts = parts[:-2]
            if not 1 <= len(parts) <= 2:
                return _error(404, {"error": "Sorry, we can't find the page you are looking for."})
            rest = raw_path[len("/api/models/") :].split("/", len(parts))[len(parts) :]
            suffix = "/" + "/".join(rest) if rest else ""

            def relocate_api(new: str) -> str:
                return f"/api/models/{quote(new, safe='/')}{suffix}"

            return self._info(unquote("/".join(parts)), rev, relocate_api, query, token)
        parts = raw_path.lstrip("/").split("/")
        for idx in (2, 1):
            if len(parts) > idx + 2 and parts[idx] == "resolve":
                repo_id = unquote("/".join(parts[:idx]))
                rev = unquote(parts[idx + 1])
                file_path = unquote("/".join(parts[idx + 2 :]))
                tail = "/".join(parts[idx:])

                def relocate_file(new: str, tail: str = tail) -> str:
                    return f"/{quote(new, safe='/')}/{tail}"

                return self._resolve(method, repo_id, rev, file_path, relocate_file, query, token)
        return _error(404, {"error": "Sorry, we can't find the page you are looking for."})

    def _lookup(
        self,
        repo_id: str,
        relocate: Callable[[str], str],
        query: dict[str, list[str]],
        token: str | None,
    ) -> _Repo | _Reply:
        """The repo, or the reply to send instead (redirect, not found, disabled).

        ``relocate(new_id)`` gives the same raw path for the repo's new id (307 after a rename).
        """
        repo = self._repos.get(repo_id.lower())
        if repo is None and repo_id.lower() in self._redirects:
            location = relocate(self._redirects[repo_id.lower()])
            if query:
                location += "?" + urlencode([(k, v) for k, vs in query.items() for v in vs])
            return _Reply(
                307,
                {"Location": location, "Content-Type": "text/plain; charset=utf-8"},
                f"Temporary Redirect. Redirecting to {location}".encode(),
            )
        if repo is None or (repo.private and not self._can_read(repo, token)):
            # Without a token the Hub answers 401 so that private repos do not leak.
            return _error(
                401 if token is None else 404,
                {"error": "Repository not found"},
                code="RepoNotFound",
                message="Repository not found",
            )
        if repo.disabled:
            return _error(403, {"error": DISABLED_MESSAGE}, message=DISABLED_MESSAGE)
        return repo

    def _info(
        self,
        repo_id: str,
        rev: str | None,
        relocate: Callable[[str], str],
        query: dict[str, list[str]],
        token: str | None,
    ) -> _Reply:
        expand = query.get("expand", [])
        blobs = query.get("blobs", ["false"])[-1].lower() in ("1", "true")
        unknown = [e for e in expand if e not in EXPANDABLE]
        if unknown:
            allowed = ", ".join(sorted(EXPANDABLE))
            return _error(400, {"error": f'"expand" must be one of [{allowed}]; got {unknown[0]}'})
        if expand and blobs:
            return _error(400, {"error": '"expand" cannot be combined with "blobs"'})
        found = self._lookup(repo_id, relocate, query, token)
        if isinstance(found, _Reply):
            return found
        revision = self._resolve_revision(found, rev or "main")
        if revision is None:
            return _error(
                404,
                {"error": f"Invalid rev id: {rev}"},
                code="RevisionNotFound",
                message=f"Invalid rev id: {rev}",
            )
        data = self._model_json(found, revision, blobs=blobs)
        if expand:
            data = {k: v for k, v in data.items() if k in ("id", "_id") or k in expand}
        return _json(200, data)

    def _model_json(self, repo: _Repo, revision: _Revision, *, blobs: bool) -> dict[str, Any]:
        siblings: list[dict[str, Any]] = []
        for path, blob in sorted(revision.files.items()):
            entry: dict[str, Any] = {"rfilename": path}
            if blobs and (repo.repo_id.lower(), path) in self._hidden_blob_ids:
                entry["size"] = len(blob.data)
            elif blobs:
                entry["blobId"] = blob.blob_id
                entry["size"] = len(blob.data)
                if blob.lfs_sha256:
                    entry["lfs"] = {
                        "sha256": blob.lfs_sha256,
                        "size": len(blob.data),
                        "pointerSize": blob.pointer_size,
                    }
            siblings.append(entry)
        card = revision.card_data
        return {
            "_id": repo.object_id,
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": repo.repo_id.split("/")[0] if "/" in repo.repo_id else None,
            "sha": revision.sha,
            "lastModified": _iso(revision.committed_at),
            "createdAt": _iso(repo.created_at),
            "private": repo.private,
            "disabled": repo.disabled,
            "gated": repo.gated,
            "downloads": 0,
            "likes": 0,
            "library_name": card.get("library_name"),
            "pipeline_tag": card.get("pipeline_tag"),
            "tags": list(revision.tags),
            "cardData": card,
            "siblings": siblings,
            "spaces": [],
            "usedStorage": sum(len(b.data) for b in revision.files.values()),
        }

    def _list(self, query: dict[str, list[str]], token: str | None) -> _Reply:
        expand = query.get("expand", [])
        unknown = [e for e in expand if e not in EXPANDABLE]
        if unknown:
            return _error(
                400, {"error": f'"expand" must be one of the model properties; got {unknown[0]}'}
            )
        sort = query.get("sort", [None])[-1]
        direction = query.get("direction", ["-1"])[-1]
        if direction not in ("-1", "1"):
            return _error(400, {"error": '"direction" must be one of [-1, 1]'})
        try:
            limit = int(query.get("limit", [str(self.page_size)])[-1])
            offset = (
                int(base64.urlsafe_b64decode(query["cursor"][-1]).decode())
                if "cursor" in query
                else 0
            )
        except (ValueError, KeyError):
            return _error(400, {"error": "Invalid limit or cursor"})
        author = query.get("author", [None])[-1]
        repos = [
            r
            for r in self._repos.values()
            if (author is None or r.repo_id.split("/")[0].lower() == author.lower())
            and (not r.private or self._can_read(r, token))
        ]
        if sort in ("createdAt", "lastModified"):
            key = (
                (lambda r: r.created_at) if sort == "createdAt" else (lambda r: r.head.committed_at)
            )
            repos.sort(key=key, reverse=direction == "-1")
        page_size = max(1, min(limit, self.page_size))
        page = repos[offset : offset + page_size]
        items = []
        for repo in page:
            full = self._model_json(repo, repo.head, blobs=False)
            if expand:
                items.append({k: v for k, v in full.items() if k in ("id", "_id") or k in expand})
            else:
                keep = (
                    "_id",
                    "id",
                    "modelId",
                    "likes",
                    "downloads",
                    "private",
                    "tags",
                    "createdAt",
                )
                items.append({k: full[k] for k in keep})
        reply = _json(200, items)
        if offset + page_size < len(repos):
            cursor = base64.urlsafe_b64encode(str(offset + page_size).encode()).decode()
            params = [(k, v) for k, vs in query.items() if k != "cursor" for v in vs]
            params.append(("cursor", cursor))
            reply.headers["Link"] = f'<{self.endpoint}/api/models?{urlencode(params)}>; rel="next"'
        return reply

    def _resolve(
        self,
        method: str,
        repo_id: str,
        rev: str,
        file_path: str,
        relocate: Callable[[str], str],
        query: dict[str, list[str]],
        token: str | None,
    ) -> _Reply:
        found = self._lookup(repo_id, relocate, query, token)
        if isinstance(found, _Reply):
            return found
        if found.gated and not self._can_read(found, token):
            if token is None:
                message = (
                    f"Access to model {found.repo_id} is restricted. You must have access to it "
                    "and be authenticated to access it. Please log in."
                )
            else:
                message = (
                    f"Access to model {found.repo_id} is restricted and you are not in the "
                    f"authorized list. Visit {self.endpoint}/{found.repo_id} to ask for access."
                )
            return _error(401 if token is None else 403, {"error": message}, "GatedRepo", message)
        revision = self._resolve_revision(found, rev)
        if revision is None:
            message = f"Invalid rev id: {rev}"
            return _error(404, {"error": message}, "RevisionNotFound", message)
        blob = revision.files.get(file_path)
        if blob is None:
            message = "Entry not found"
            return _error(404, {"error": message}, "EntryNotFound", message)
        headers = {
            "Content-Type": "application/octet-stream",
            "X-Repo-Commit": revision.sha,
            "ETag": f'"{blob.lfs_sha256 or blob.blob_id}"',
            "Accept-Ranges": "bytes",
        }
        if blob.lfs_sha256:
            headers["X-Linked-Etag"] = f'"{blob.lfs_sha256}"'
            headers["X-Linked-Size"] = str(len(blob.data))
        return _Reply(200, headers, blob.data)


def _file_path_of(path: str) -> str:
    """The file path inside the repo of a ``/{repo}/resolve/{rev}/{file}`` path ("" if none)."""
    _repo, sep, tail = path.partition("/resolve/")
    return tail.split("/", 1)[1] if sep and "/" in tail else ""


def _altered(body: bytes) -> bytes:
    """A plausible but wrong version of a license text: one grant turned into a restriction."""
    text = body.decode("utf-8", errors="replace")
    for old, new in (("commercial", "non-commercial"), ("may", "may not"), ("shall", "shall not")):
        if old in text:
            return text.replace(old, new, 1).encode()
    return body + b"\nThis license does not permit commercial use.\n"


def _derived_tags(card: Mapping[str, Any], extra: Iterable[str]) -> tuple[str, ...]:
    """Tags the Hub derives from the card (license:, base_model:), then the given ones."""
    tags: list[str] = []
    licenses = card.get("license")
    for lic in [licenses] if isinstance(licenses, str) else licenses or []:
        tags.append(f"license:{lic}")
    bases = card.get("base_model")
    for base in [bases] if isinstance(bases, str) else bases or []:
        tags.append(f"base_model:{base}")
    tags.extend(t for t in extra if t not in tags)
    return tuple(tags)


def _json(status: int, data: Any) -> _Reply:
    return _Reply(
        status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(data).encode()
    )


def _error(
    status: int, body: Mapping[str, Any], code: str | None = None, message: str | None = None
) -> _Reply:
    reply = _json(status, body)
    if code:
        reply.headers["X-Error-Code"] = code
    if message:
        reply.headers["X-Error-Message"] = message
    return reply


def _too_many(resource: str, quota: int, reset: int) -> _Reply:
    reply = _json(
        429,
        {
            "error": f"You have exceeded our rate limit for '{resource}' requests. "
            f"Retry in {reset} seconds."
        },
    )
    reply.headers["RateLimit"] = f'"{resource}";r=0;t={reset}'
    reply.headers["RateLimit-Policy"] = f'"fixed window";"{resource}";q={quota};w={WINDOW_SECONDS}'
    reply.headers["Retry-After"] = str(reset)
    return reply


def _make_handler(hub: HubStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real Hub behind its proxy
        # Headers and body go out in separate writes; with Nagle on, the body waits for the
        # client's delayed ACK (~40 ms a request), which no real server would add.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet tests

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            auth = self.headers.get("Authorization", "")
            token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
            reply = hub.handle(self.command, parts.path, query, token)
            if reply == "drop":
                self.close_connection = True
                return
            assert isinstance(reply, _Reply)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (its timeout fired during a "hang"): nothing to answer.
                self.close_connection = True

        def do_GET(self) -> None:
            self._serve()

        def do_HEAD(self) -> None:
            self._serve()

    return Handler
