"""A screened Slack request handed to Bolt, and Bolt's answer written back over WSGI.

``bot.slack.wsgi`` reads, verifies and parses every request before Bolt sees it. Bolt's own
WSGI adapter (``slack_bolt.adapter.wsgi.SlackRequestHandler``) would read the body again and
parse it a second time; on the ack path that second parse is a tenth of the work. This builds
the very ``BoltRequest`` Bolt's adapter builds (the raw body, query, headers and parsed body
of an HTTP request) from what was screened, and writes the ``BoltResponse`` the way the
adapter does.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment


def bolt_request(environ: WSGIEnvironment, raw: str, body: dict[str, Any]) -> BoltRequest:
    """The HTTP-mode ``BoltRequest`` for ``environ`` whose body ``raw`` parses to ``body``.

    Bolt only accepts a parsed body outside HTTP mode (it would parse ``raw`` itself), so the
    request is built from ``body`` and then given the raw text and HTTP mode: the result is
    attribute for attribute what ``BoltRequest(body=raw, ...)`` makes. (The mode only decides
    Bolt's signature check, which is off because the signature was checked on the raw bytes,
    and what a lazy listener's copy of the request carries.)
    """
    request = BoltRequest(
        body=body,
        query=environ.get("QUERY_STRING") or "",
        headers=WsgiHttpRequest(environ).get_headers(),  # read as Bolt's adapter reads them
        mode="socket_mode",
    )
    request.raw_body = raw
    request.mode = "http"
    return request


def dispatch(
    app: App,
    environ: WSGIEnvironment,
    start_response: StartResponse,
    *,
    raw: str,
    body: dict[str, Any],
) -> Iterable[bytes]:
    """Dispatch the screened request to ``app``; return the WSGI body of its answer."""
    response: BoltResponse = app.dispatch(bolt_request(environ, raw, body))
    data = response.body.encode("utf-8")
    status = HTTPStatus(response.status)
    headers = [
        (name, value)
        for name, values in response.headers.items()
        if name != "content-length"  # Bolt's names are lowercase; the length is recounted
        for value in values
    ]
    headers.append(("content-length", str(len(data))))
    start_response(f"{status.value} {status.phrase}", headers)
    return [data]
