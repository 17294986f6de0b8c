"""The Web API client every part of the Slack app shares, with Slack's retry rules.

slack_sdk retries only connection errors by default. A 429 carries ``Retry-After`` and means the
call was not processed, so it is safe to repeat; a 5xx is Slack's outage page. Waiting is done
in the worker that made the call, so a very long ``Retry-After`` is not slept away here: the
call fails and its owner decides (the alert outbox reschedules, a follow-up is logged).
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from governance.core.config import Settings

MAX_RETRY_AFTER_SECONDS = 10
WEB_API_TIMEOUT_SECONDS = 15


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Retries a 429 after its ``Retry-After``, unless that is longer than ``max_wait``."""

    def __init__(self, *, max_retry_count: int = 2, max_wait: float = MAX_RETRY_AFTER_SECONDS):
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return retry_after(response.headers) <= self.max_wait


def retry_after(headers: object) -> float:
    """Seconds from a ``Retry-After`` header in a headers mapping (1 when absent or odd)."""
    if not isinstance(headers, dict):
        return 1.0
    for key, value in headers.items():
        if str(key).lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return 1.0
    return 1.0


def retry_handlers() -> list[RetryHandler]:
    """slack_sdk's retry handlers with Slack's rules: connection errors, a bounded 429, a 5xx."""
    return [
        ConnectionErrorRetryHandler(),
        BoundedRateLimitRetryHandler(),
        ServerErrorRetryHandler(max_retry_count=2),
    ]


def make_client(
    settings: Settings, *, token: str | None = None, timeout: int = WEB_API_TIMEOUT_SECONDS
) -> WebClient:
    """A WebClient for ``settings`` (``SLACK_API_BASE_URL`` points it at a proxy or stand-in)."""
    base_url = settings.slack_api_base_url
    if not base_url.endswith("/"):
        base_url += "/"  # urljoin drops the last path segment without it
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=retry_handlers(),
    )


def delivery_client(client: WebClient) -> WebClient:
    """``client`` without automatic retries, for the outbox's deliveries.

    A retried post whose first answer was lost (a timeout, a reset after sending) would post
    twice, and a 429 slept away here would hold the row's claim; the outbox decides instead.
    """
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        headers=dict(client.headers),
        retry_handlers=[],
    )
