"""Is a downloaded file the file the Hub's file list announced? Pure functions, no I/O.

The file list (``GET /api/models/{id}/revision/{sha}?blobs=true``) gives every file's git blob id
(``blobId``: ``sha1(b"blob <size>\\0" + bytes)``) and, for files stored through git-lfs, the
content's sha256 (``lfs.sha256``; the blob id is then the pointer file's). A proxy error page, a
truncated or empty body, or another file's text answered with 200 does not hash to it, so it is
rejected before anything is parsed, compared or stored.
"""

from __future__ import annotations

import hashlib


def git_blob_id(data: bytes) -> str:
    """Return the git blob id of ``data``: the hex sha1 of ``blob <len>\\0`` + ``data``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def integrity_problem(
    data: bytes, *, blob_id: str | None, lfs_sha256: str | None, size: int | None
) -> str | None:
    """Return None when ``data`` is the announced file, else one line saying why it is not.

    An LFS file is checked against ``lfs_sha256`` (its blob id names the pointer, not the
    content); any other file against ``blob_id``. With neither, nothing can be verified and
    that is reported as a problem too: unverifiable content is never accepted.
    """
    if lfs_sha256 is not None:
        expected, actual, kind = lfs_sha256.lower(), hashlib.sha256(data).hexdigest(), "LFS sha256"
    elif blob_id is not None:
        expected, actual, kind = blob_id.lower(), git_blob_id(data), "git blob id"
    else:
        return "the file list gave no blob id to verify it against"
    if actual == expected:
        return None
    announced = f" of {size} bytes" if size is not None else ""
    return (
        f"got {len(data)} bytes with {kind} {actual[:12]}, but the file list announced "
        f"{expected[:12]}{announced}"
    )
