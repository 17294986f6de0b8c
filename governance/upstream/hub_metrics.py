"""Counting Hub requests by endpoint kind and status (``modelgov_hub_requests_total``).

Every answer is counted where it arrives: a response hook on huggingface_hub's shared
``httpx2`` session sees each one (a followed 307 rename included) with its URL and status,
whether it came from ``HfApi.model_info`` or from this package's own listing and download
calls. The session is made again after a fork (gunicorn workers) or a ``close_session``, so
``watch_session`` is called before each request and adds the hook once per session. Requests
that got no answer are counted by ``count_no_answer``.
"""

from __future__ import annotations

import re
import threading

import httpx2

from governance.core import metrics

_RESOLVE = re.compile(r"^/(?:[^/]+/)?[^/]+/resolve/")
_FILES = re.compile(r"^/api/models/.+/revision/")
_HOOKING = threading.Lock()  # two threads must not both add the hook to one session


def endpoint_kind(path: str) -> str:
    """The kind of Hub endpoint a URL path names: listing (``/api/models``), files
    (``/api/models/{id}/revision/{sha}``), model_info (``/api/models/{id}``), download
    (``/{id}/resolve/...``), or other."""
    if path.rstrip("/") == "/api/models":
        return "listing"
    if _FILES.match(path):
        return "files"
    if path.startswith("/api/models/"):
        return "model_info"
    if _RESOLVE.match(path):
        return "download"
    return "other"


def _count_response(response: httpx2.Response) -> None:
    kind = endpoint_kind(response.request.url.path)
    metrics.HUB_REQUESTS.labels(endpoint=kind, status=str(response.status_code)).inc()


def watch_session(session: httpx2.Client) -> None:
    """Count every answer ``session`` receives from now on (once per session)."""
    if _count_response in session.event_hooks.get("response", ()):
        return
    with _HOOKING:
        hooks = session.event_hooks
        answers = hooks.get("response", [])
        if _count_response not in answers:
            session.event_hooks = {**hooks, "response": [*answers, _count_response]}


def count_no_answer(error: httpx2.HTTPError, status: str) -> None:
    """Count a request that got no answer (``status``: timeout, connection)."""
    try:
        path = error.request.url.path
    except RuntimeError:  # an error raised before any request was built
        path = ""
    metrics.HUB_REQUESTS.labels(endpoint=endpoint_kind(path), status=status).inc()
