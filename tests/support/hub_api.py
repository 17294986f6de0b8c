"""The Hub API the stand-in serves over its repositories, in huggingface_hub 2.x's wire shapes.

- ``GET /api/models/{repo_id}`` and ``/api/models/{repo_id}/revision/{rev}``: model info JSON;
  repeatable ``expand=`` limits the fields (plus ``id`` and ``_id``); ``blobs=true`` adds
  ``size``/``blobId``/``lfs`` to ``siblings``; unknown expand values and ``expand`` with
  ``blobs`` answer 400, like the Hub.
- ``GET /api/models?author=&filter=&search=&sort=&direction=&limit=&expand=``: listing,
  paginated with a ``Link: <...>; rel="next"`` header and an opaque ``cursor`` parameter; pages
  hold at most ``page_size`` repos whatever ``limit`` asks; ``expand`` takes the list
  endpoint's own values (``LISTING_EXPANDABLE``: ``baseModels``, ``childrenModelCount``,
  ``usedStorage`` are a 400); every repeated ``filter`` must be one of a repo's tags
  (``filter=base_model:quantized:<id>`` lists that model's quantizations); ``search`` matches
  ids, ignoring case. Listed ``siblings`` carry only ``rfilename``, as on the Hub.
- ``safetensors`` (``{"parameters": {dtype: n}, "total": n}``) and ``gguf`` (``total``,
  ``architecture``, ``context_length``, ...) appear in model info only for repos that have them
  (``HubRepos.set_weights_metadata``); without that, ``safetensors`` is computed as the Hub
  does, from the headers of the revision's ``*.safetensors`` files (``safetensors_parameters``).
- ``GET|HEAD /{repo_id}/resolve/{rev}/{path}``: file bytes with ``X-Repo-Commit``, ``ETag`` (git
  blob id, or the LFS sha256 for LFS files, which also get ``X-Linked-Etag``/``X-Linked-Size``),
  ``Content-Length``.
- Errors as the Hub sends them (``RepoNotFound``, ``GatedRepo``, ``RevisionNotFound``,
  ``EntryNotFound``); missing/private repos are 401 without a token and 404 with one; disabled
  repos are 403 with "Access to this resource is disabled."; renamed repos answer 307 to the
  new id.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlencode

from tests.support.hub_replies import NOT_FOUND_PAGE, HubReply, error_reply, json_reply
from tests.support.hub_repos import HubRepos, Repo, Revision

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
# The list endpoint expands fewer properties: HfApi.list_models's docstring names the same values
# less these three, which only model_info (GET /api/models/{repo_id}) accepts.
MODEL_INFO_ONLY = frozenset({"baseModels", "childrenModelCount", "usedStorage"})
LISTING_EXPANDABLE = EXPANDABLE - MODEL_INFO_ONLY
DISABLED_MESSAGE = "Access to this resource is disabled."


def safetensors_parameters(revision: Revision) -> dict[str, Any] | None:
    """Parameters by dtype from the headers of ``revision``'s .safetensors files, as the Hub
    computes its ``safetensors`` field (an 8-byte little-endian header length, then a JSON map
    of tensor name to dtype and shape); None when no file has a readable header."""
    params: dict[str, int] = {}
    for path, blob in sorted(revision.files.items()):
        if not path.endswith(".safetensors") or len(blob.data) < 8:
            continue
        length = int.from_bytes(blob.data[:8], "little")
        try:
            header = json.loads(blob.data[8 : 8 + length]) if 0 < length < len(blob.data) else {}
        except ValueError:
            continue
        for name, tensor in header.items() if isinstance(header, dict) else ():
            if name == "__metadata__" or not isinstance(tensor, dict):
                continue
            count = math.prod(int(d) for d in tensor.get("shape", []))
            dtype = str(tensor.get("dtype"))
            params[dtype] = params.get(dtype, 0) + count
    if not params:
        return None
    return {"parameters": params, "total": sum(params.values())}


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


class HubApi:
    """Answers GET/HEAD requests from `repos`; `endpoint()` is the base of links it gives."""

    def __init__(self, repos: HubRepos, endpoint: Callable[[], str], page_size: int) -> None:
        self._repos = repos
        self._endpoint = endpoint
        self.page_size = page_size

    def route(
        self, method: str, raw_path: str, path: str, query: dict[str, list[str]], token: str | None
    ) -> HubReply:
        """The reply to one request (`raw_path` as sent, `path` unquoted). Call it holding
        the repos' lock."""
        if method not in ("GET", "HEAD"):
            return error_reply(405, {"error": "Method not allowed"})
        if path == "/api/models":
            return self._list(query, token)
        if path.startswith("/api/models/"):
            parts = raw_path[len("/api/models/") :].split("/")
            rev = None
            if len(parts) >= 3 and parts[-2] == "revision":
                rev = unquote(parts[-1])
                parts = parts[:-2]
            if not 1 <= len(parts) <= 2:
                return error_reply(404, {"error": NOT_FOUND_PAGE})
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
        return error_reply(404, {"error": NOT_FOUND_PAGE})

    def _lookup(
        self,
        repo_id: str,
        relocate: Callable[[str], str],
        query: dict[str, list[str]],
        token: str | None,
    ) -> Repo | HubReply:
        """The repo, or the reply to send instead (redirect, not found, disabled).

        ``relocate(new_id)`` gives the same raw path for the repo's new id (307 after a rename).
        """
        repo = self._repos.repos.get(repo_id.lower())
        if repo is None and repo_id.lower() in self._repos.redirects:
            location = relocate(self._repos.redirects[repo_id.lower()])
            if query:
                location += "?" + urlencode([(k, v) for k, vs in query.items() for v in vs])
            return HubReply(
                307,
                {"Location": location, "Content-Type": "text/plain; charset=utf-8"},
                f"Temporary Redirect. Redirecting to {location}".encode(),
            )
        if repo is None or (repo.private and not self._repos.can_read(repo, token)):
            # Without a token the Hub answers 401 so that private repos do not leak.
            return error_reply(
                401 if token is None else 404,
                {"error": "Repository not found"},
                code="RepoNotFound",
                message="Repository not found",
            )
        if repo.disabled:
            return error_reply(403, {"error": DISABLED_MESSAGE}, message=DISABLED_MESSAGE)
        return repo

    def _info(
        self,
        repo_id: str,
        rev: str | None,
        relocate: Callable[[str], str],
        query: dict[str, list[str]],
        token: str | None,
    ) -> HubReply:
        expand = query.get("expand", [])
        blobs = query.get("blobs", ["false"])[-1].lower() in ("1", "true")
        unknown = [e for e in expand if e not in EXPANDABLE]
        if unknown:
            allowed = ", ".join(sorted(EXPANDABLE))
            return error_reply(
                400, {"error": f'"expand" must be one of [{allowed}]; got {unknown[0]}'}
            )
        if expand and blobs:
            return error_reply(400, {"error": '"expand" cannot be combined with "blobs"'})
        found = self._lookup(repo_id, relocate, query, token)
        if isinstance(found, HubReply):
            return found
        revision = found.revision(rev or "main")
        if revision is None:
            return error_reply(
                404,
                {"error": f"Invalid rev id: {rev}"},
                code="RevisionNotFound",
                message=f"Invalid rev id: {rev}",
            )
        data = self._model_json(found, revision, blobs=blobs)
        if expand:
            data = {k: v for k, v in data.items() if k in ("id", "_id") or k in expand}
        return json_reply(200, data)

    def _model_json(self, repo: Repo, revision: Revision, *, blobs: bool) -> dict[str, Any]:
        siblings: list[dict[str, Any]] = []
        for path, blob in sorted(revision.files.items()):
            entry: dict[str, Any] = {"rfilename": path}
            if blobs and self._repos.blob_id_hidden(repo, path):
                entry["size"] = blob.size
            elif blobs:
                entry["blobId"] = blob.blob_id
                entry["size"] = blob.size
                if blob.lfs_sha256:
                    entry["lfs"] = {
                        "sha256": blob.lfs_sha256,
                        "size": blob.size,
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
            "usedStorage": sum(b.size for b in revision.files.values()),
            # Only for repos that have them, as on the Hub.
            **(
                {"safetensors": safetensors}
                if (safetensors := repo.safetensors or safetensors_parameters(revision))
                else {}
            ),
            **({"gguf": repo.gguf} if repo.gguf is not None else {}),
        }

    def _list(self, query: dict[str, list[str]], token: str | None) -> HubReply:
        expand = query.get("expand", [])
        unknown = [e for e in expand if e not in LISTING_EXPANDABLE]
        if unknown:
            allowed = ", ".join(sorted(LISTING_EXPANDABLE))
            return error_reply(
                400, {"error": f'"expand" must be one of [{allowed}]; got {unknown[0]}'}
            )
        sort = query.get("sort", [None])[-1]
        direction = query.get("direction", ["-1"])[-1]
        if direction not in ("-1", "1"):
            return error_reply(400, {"error": '"direction" must be one of [-1, 1]'})
        try:
            limit = int(query.get("limit", [str(self.page_size)])[-1])
            offset = (
                int(base64.urlsafe_b64decode(query["cursor"][-1]).decode())
                if "cursor" in query
                else 0
            )
        except (ValueError, KeyError):
            return error_reply(400, {"error": "Invalid limit or cursor"})
        author = query.get("author", [None])[-1]
        filters = query.get("filter", [])
        search = query.get("search", [""])[-1].lower()
        repos = [
            r
            for r in self._repos.repos.values()
            if (author is None or r.repo_id.split("/")[0].lower() == author.lower())
            and (not r.private or self._repos.can_read(r, token))
            and all(f in r.head.tags for f in filters)
            and search in r.repo_id.lower()
        ]
        if sort in ("createdAt", "lastModified"):
            key = (
                (lambda r: r.created_at) if sort == "createdAt" else (lambda r: r.head.committed_at)
            )
            repos.sort(key=key, reverse=direction == "-1")
        # downloads and likes are 0 for every stand-in repo: their sort keeps insertion order.
        page_size = max(1, min(limit, self.page_size))
        page = repos[offset : offset + page_size]
        items = []
        for repo in page:
            full = self._model_json(repo, repo.head, blobs=False)
            if expand:
                item = {k: v for k, v in full.items() if k in ("id", "_id") or k in expand}
                if "siblings" in item:  # listings name the files, never their sizes
                    item["siblings"] = [{"rfilename": s["rfilename"]} for s in item["siblings"]]
                items.append(item)
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
        reply = json_reply(200, items)
        if offset + page_size < len(repos):
            cursor = base64.urlsafe_b64encode(str(offset + page_size).encode()).decode()
            params = [(k, v) for k, vs in query.items() if k != "cursor" for v in vs]
            params.append(("cursor", cursor))
            reply.headers["Link"] = (
                f'<{self._endpoint()}/api/models?{urlencode(params)}>; rel="next"'
            )
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
    ) -> HubReply:
        found = self._lookup(repo_id, relocate, query, token)
        if isinstance(found, HubReply):
            return found
        if found.gated and not self._repos.can_read(found, token):
            if token is None:
                message = (
                    f"Access to model {found.repo_id} is restricted. You must have access to it "
                    "and be authenticated to access it. Please log in."
                )
            else:
                message = (
                    f"Access to model {found.repo_id} is restricted and you are not in the "
                    f"authorized list. Visit {self._endpoint()}/{found.repo_id} to ask for access."
                )
            return error_reply(
                401 if token is None else 403, {"error": message}, "GatedRepo", message
            )
        revision = found.revision(rev)
        if revision is None:
            message = f"Invalid rev id: {rev}"
            return error_reply(404, {"error": message}, "RevisionNotFound", message)
        blob = revision.files.get(file_path)
        if blob is None:
            message = "Entry not found"
            return error_reply(404, {"error": message}, "EntryNotFound", message)
        if blob.declared_size is not None:
            return error_reply(500, {"error": "the stand-in holds only this file's size"})
        headers = {
            "Content-Type": "application/octet-stream",
            "X-Repo-Commit": revision.sha,
            "ETag": f'"{blob.lfs_sha256 or blob.blob_id}"',
            "Accept-Ranges": "bytes",
        }
        if blob.lfs_sha256:
            headers["X-Linked-Etag"] = f'"{blob.lfs_sha256}"'
            headers["X-Linked-Size"] = str(blob.size)
        return HubReply(200, headers, blob.data)
