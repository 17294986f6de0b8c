"""The Hub stand-in's repositories: commits, files (git blobs and LFS), cards, gating, privacy,
renames and access grants, changed by tests to simulate what happens upstream.

Repo ids are matched without regard to case, as on the Hub. Every commit regenerates README.md
from the card (YAML front matter) and ``.gitattributes``; older revisions stay fetchable by sha.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import yaml

Gated = Literal[False, "auto", "manual"]

# Files stored through git-lfs on the Hub (by extension), as in its default .gitattributes.
LFS_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".onnx", ".h5", ".msgpack", ".ckpt")
LFS_MIN_SIZE = 10 * 1024 * 1024


def git_blob_id(data: bytes) -> str:
    """The git blob id of ``data``: sha1 of ``blob {len}\\0`` + content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _lfs_pointer(sha256: str, size: int) -> bytes:
    spec = "https://git-lfs.github.com/spec/v1"
    return f"version {spec}\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True)
class SizedFile:
    """A large LFS file the stand-in knows only by size (a 4.9 GB GGUF): listed with that size
    and a sha256 derived from ``seed``; its bytes are not held, so a download answers 500."""

    size: int
    seed: str = ""


@dataclass(frozen=True)
class Blob:
    """A file's bytes and its ids: the git blob id, and the sha256 when stored through LFS.

    ``declared_size`` is set for a ``SizedFile``: its size without its bytes (``data`` empty).
    """

    data: bytes
    blob_id: str
    lfs_sha256: str | None
    declared_size: int | None = None

    @property
    def size(self) -> int:
        """The file's size in bytes."""
        return len(self.data) if self.declared_size is None else self.declared_size

    @classmethod
    def of(cls, path: str, content: str | bytes | SizedFile) -> Blob:
        if isinstance(content, SizedFile):
            sha256 = hashlib.sha256(f"{path}:{content.size}:{content.seed}".encode()).hexdigest()
            pointer = _lfs_pointer(sha256, content.size)
            return cls(b"", git_blob_id(pointer), sha256, declared_size=content.size)
        data = content.encode("utf-8") if isinstance(content, str) else content
        if path.lower().endswith(LFS_SUFFIXES) or len(data) >= LFS_MIN_SIZE:
            sha256 = hashlib.sha256(data).hexdigest()
            # Git stores the pointer file, so the blob id is the pointer's.
            return cls(data, git_blob_id(_lfs_pointer(sha256, len(data))), sha256)
        return cls(data, git_blob_id(data), None)

    @property
    def pointer_size(self) -> int:
        return len(_lfs_pointer(self.lfs_sha256 or "", self.size))


@dataclass(frozen=True)
class Revision:
    sha: str
    files: dict[str, Blob]
    card_data: dict[str, Any]
    tags: tuple[str, ...]  # as served: derived from the card, then the extra ones
    extra_tags: tuple[str, ...]
    committed_at: datetime


@dataclass
class Repo:
    repo_id: str
    object_id: str
    created_at: datetime
    head: Revision
    revisions: dict[str, Revision] = field(default_factory=dict)
    gated: Gated = False
    private: bool = False
    disabled: bool = False
    # What the Hub computes from the weight files' headers (``set_weights_metadata``): the
    # ``safetensors`` and ``gguf`` fields of model info, absent when None.
    safetensors: dict[str, Any] | None = None
    gguf: dict[str, Any] | None = None

    def revision(self, rev: str) -> Revision | None:
        """The revision `rev` names ("main" is the head), or None."""
        return self.head if rev == "main" else self.revisions.get(rev)


class HubRepos:
    """Every repository, the redirects renames left, and which tokens may read what."""

    def __init__(self) -> None:
        # Reentrant: the request path holds it while it reads repos through these helpers.
        self.lock = threading.RLock()
        self.repos: dict[str, Repo] = {}  # keyed by lowercased id: the Hub ignores case
        self.redirects: dict[str, str] = {}  # lowercased old id -> new id
        self._grants: dict[str, set[str]] = {}  # token -> lowercased repo ids
        self._hidden_blob_ids: set[tuple[str, str]] = set()  # (lowercased repo id, path)
        self._commit_counter = 0
        self._last_commit_at = datetime(2024, 1, 1, tzinfo=UTC)

    def add_model(
        self,
        repo_id: str,
        *,
        license: str | None = "apache-2.0",
        license_name: str | None = None,
        license_link: str | None = None,
        files: Mapping[str, str | bytes | SizedFile] | None = None,
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
        with self.lock:
            key = repo_id.lower()
            if key in self.repos:
                raise ValueError(f"{repo_id} exists")
            self.redirects.pop(key, None)
            now = self._next_commit_time()
            revision = self._make_revision(repo_id, None, dict(files or {}), card, tuple(tags), now)
            repo = Repo(
                repo_id=repo_id,
                object_id=hashlib.sha1(f"_id:{repo_id}".encode()).hexdigest()[:24],
                created_at=created_at or now,
                head=revision,
                gated=gated,
                private=private,
            )
            repo.revisions[revision.sha] = revision
            self.repos[key] = repo
            return revision.sha

    def commit(
        self,
        repo_id: str,
        *,
        files: Mapping[str, str | bytes | SizedFile] | None = None,
        remove: Iterable[str] = (),
        card_data: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None,
    ) -> str:
        """Make a new commit on main; return its sha. Old revisions stay fetchable by sha.

        ``card_data`` is merged into the card (a ``None`` value deletes the key); the README.md
        is rewritten from the card. ``tags`` replaces the extra tags when given.
        """
        with self.lock:
            repo = self._repo(repo_id)
            parent = repo.head
            # README.md and .gitattributes are regenerated from the card for every commit.
            new_files: dict[str, str | bytes | SizedFile] = {
                path: SizedFile(blob.size) if blob.declared_size is not None else blob.data
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
        with self.lock:
            self._repo(repo_id).gated = gated

    def set_private(self, repo_id: str, private: bool = True) -> None:
        with self.lock:
            self._repo(repo_id).private = private

    def disable(self, repo_id: str) -> None:
        """Disable the repo: every request for it answers 403 'Access ... disabled.'"""
        with self.lock:
            self._repo(repo_id).disabled = True

    def delete(self, repo_id: str) -> None:
        """Delete the repo (and drop redirects pointing at it)."""
        with self.lock:
            repo = self.repos.pop(repo_id.lower())
            self.redirects = {
                old: new
                for old, new in self.redirects.items()
                if new.lower() != repo.repo_id.lower()
            }

    def rename(self, old: str, new: str) -> None:
        """Rename ``old`` to ``new``; ``old`` then answers 307 to ``new``."""
        with self.lock:
            repo = self.repos.pop(old.lower())
            if new.lower() in self.repos:
                raise ValueError(f"{new} exists")
            repo.repo_id = new
            self.repos[new.lower()] = repo
            self.redirects[old.lower()] = new
            # Earlier aliases follow the repo to its new name in one hop.
            for alias, target in list(self.redirects.items()):
                if target.lower() == old.lower():
                    self.redirects[alias] = new

    def grant_access(self, token: str, repo_id: str) -> None:
        """Let ``token`` read a gated or private repo."""
        with self.lock:
            self._grants.setdefault(token, set()).add(repo_id.lower())

    def revoke_access(self, token: str, repo_id: str) -> None:
        with self.lock:
            self._grants.get(token, set()).discard(repo_id.lower())

    def set_weights_metadata(
        self,
        repo_id: str,
        *,
        safetensors: Mapping[str, int] | None = None,
        gguf: Mapping[str, Any] | None = None,
    ) -> None:
        """Set what the Hub reads from the weight headers: ``safetensors`` parameters by dtype
        (served as ``{"parameters": {...}, "total": sum}``) and the ``gguf`` field as given
        (``total``, ``architecture``, ``context_length``, ...)."""
        with self.lock:
            repo = self._repo(repo_id)
            if safetensors is not None:
                params = dict(safetensors)
                repo.safetensors = {"parameters": params, "total": sum(params.values())}
            if gguf is not None:
                repo.gguf = dict(gguf)

    def hide_blob_id(self, repo_id: str, path: str) -> None:
        """Leave ``blobId`` (and ``lfs``) out of ``path``'s entry in ``blobs=true`` file lists."""
        with self.lock:
            self._hidden_blob_ids.add((repo_id.lower(), path))

    def head_sha(self, repo_id: str) -> str:
        with self.lock:
            return self._repo(repo_id).head.sha

    def card(self, repo_id: str) -> dict[str, Any]:
        with self.lock:
            return dict(self._repo(repo_id).head.card_data)

    # ---------------------------------------------------------------- reading, for the API

    def can_read(self, repo: Repo, token: str | None) -> bool:
        """Whether `token` was granted access to the gated or private `repo`."""
        return token is not None and repo.repo_id.lower() in self._grants.get(token, set())

    def blob_id_hidden(self, repo: Repo, path: str) -> bool:
        return (repo.repo_id.lower(), path) in self._hidden_blob_ids

    def parent_content(self, file_path: str, sha: str) -> bytes:
        """The bytes `file_path` had one commit before `sha`, else empty."""
        for repo in self.repos.values():
            if sha in repo.revisions:
                shas = list(repo.revisions)
                index = shas.index(sha)
                if index > 0:
                    blob = repo.revisions[shas[index - 1]].files.get(file_path)
                    if blob is not None:
                        return blob.data
        return b""

    def _repo(self, repo_id: str) -> Repo:
        return self.repos[repo_id.lower()]

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
        files: dict[str, str | bytes | SizedFile],
        card: dict[str, Any],
        extra_tags: tuple[str, ...],
        when: datetime,
    ) -> Revision:
        readme = "---\n" + yaml.safe_dump(card, sort_keys=False) + "---\n\n# " + repo_id + "\n"
        blobs = {".gitattributes": Blob.of(".gitattributes", "*.safetensors filter=lfs\n")}
        blobs["README.md"] = Blob.of("README.md", readme)
        blobs.update({path: Blob.of(path, content) for path, content in files.items()})
        self._commit_counter += 1
        tree = "\n".join(f"{p} {b.blob_id}" for p, b in sorted(blobs.items()))
        sha = hashlib.sha1(
            f"commit {self._commit_counter}\nparent {parent}\n{repo_id}\n{tree}".encode()
        ).hexdigest()
        tags = _derived_tags(card, extra_tags, tuple(blobs))
        return Revision(sha, blobs, card, tags, extra_tags, when)


def _derived_tags(
    card: Mapping[str, Any], extra: Iterable[str], paths: Iterable[str] = ()
) -> tuple[str, ...]:
    """Tags the Hub derives from the card (license:, base_model:, base_model:<relation>:),
    then the given ones."""
    tags: list[str] = []
    licenses = card.get("license")
    for lic in [licenses] if isinstance(licenses, str) else licenses or []:
        tags.append(f"license:{lic}")
    bases = card.get("base_model")
    bases = [bases] if isinstance(bases, str) else list(bases or [])
    relation = _relation(card, bases, list(paths))
    for base in bases:
        tags.append(f"base_model:{base}")
    for base in bases:
        tags.append(f"base_model:{relation}:{base}")
    tags.extend(t for t in extra if t not in tags)
    return tuple(tags)


def _relation(card: Mapping[str, Any], bases: list[Any], paths: list[str]) -> str:
    """The relation the Hub tags a derivative with: the card's ``base_model_relation``, else
    inferred as the Hub does (adapter files, GGUF files, several bases; otherwise finetune)."""
    stated = card.get("base_model_relation")
    if isinstance(stated, str) and stated in ("adapter", "merge", "quantized", "finetune"):
        return stated
    names = [p.rsplit("/", 1)[-1].lower() for p in paths]
    if "adapter_config.json" in names:
        return "adapter"
    if any(n.endswith(".gguf") for n in names):
        return "quantized"
    return "merge" if len(bases) > 1 else "finetune"
