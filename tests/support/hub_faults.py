"""Failures the Hub stand-in injects: error statuses, 429s, malformed JSON, hangs, dropped
connections, and corrupted downloads.

A corrupted download is a ``/resolve/`` answered 200 with the wrong bytes, as a misbehaving
proxy or cache sends them: a truncated body, an HTML error page, a truncated JSON error, an
empty body, a stale copy from the previous commit, or a plausible but altered text. Bodies a
proxy made up carry the proxy's headers; bodies that look like the file keep the Hub's
(``ETag``, ``X-Repo-Commit``), so only hashing the bytes can tell them apart.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

from tests.support.hub_replies import HubReply

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


@dataclass
class HubFault:
    """One injected failure, for the next `times` requests whose path starts with `path`, once
    `skip` such requests have been answered normally (the second page of a listing, say)."""

    kind: FaultKind
    times: int
    path: str | None
    status: int
    seconds: float
    corruption: Corruption | None = None
    file_path: str = ""  # corrupt: only files whose path starts with this
    skip: int = 0


def file_path_of(path: str) -> str:
    """The file path inside the repo of a ``/{repo}/resolve/{rev}/{file}`` path ("" if none)."""
    _repo, sep, tail = path.partition("/resolve/")
    return tail.split("/", 1)[1] if sep and "/" in tail else ""


class HubFaults:
    """The failures queued, in the order they were injected."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[HubFault] = []

    def add(self, fault: HubFault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, path: str) -> HubFault | None:
        """The first fault that applies to a request for `path` (used once more), or None."""
        with self._lock:
            for fault in self._faults:
                if fault.kind == "corrupt" and not file_path_of(path).startswith(fault.file_path):
                    continue
                if fault.path is None or path.startswith(fault.path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


def corrupted(reply: HubReply, corruption: Corruption, stale: bytes) -> HubReply:
    """``reply`` (a good download) with the wrong body, still a 200; `stale` is the file's
    content one commit earlier (empty for a new file)."""
    if corruption == "html_error_page":
        return HubReply(200, {"Content-Type": "text/html"}, HTML_ERROR_PAGE)
    if corruption == "json_error":
        return HubReply(200, {"Content-Type": "application/json"}, TRUNCATED_JSON_ERROR)
    body = reply.body
    if corruption == "truncated":
        body = body[: len(body) // 2]
    elif corruption == "empty":
        body = b""
    elif corruption == "stale":
        body = stale
    elif corruption == "altered":
        body = _altered(body)
    return HubReply(200, dict(reply.headers), body)


def _altered(body: bytes) -> bytes:
    """A plausible but wrong version of a license text: one grant turned into a restriction."""
    text = body.decode("utf-8", errors="replace")
    for old, new in (("commercial", "non-commercial"), ("may", "may not"), ("shall", "shall not")):
        if old in text:
            return text.replace(old, new, 1).encode()
    return body + b"\nThis license does not permit commercial use.\n"
