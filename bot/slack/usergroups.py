"""Members of the approver user group (``MODELGOV_APPROVER_GROUP``), from Slack, cached briefly.

Every decision asks "is this user an approver?"; asking Slack each time would spend the
usergroups.users.list rate limit and slow every click. Membership changes rarely, so a minute
of staleness is fine. When Slack cannot answer, the last known members stand (or nobody, the
first time): a Slack outage never makes someone an approver.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 60.0


class UsergroupMembers:
    """Callable ``group_id -> members`` for ``ApproverDirectory.group_members``."""

    def __init__(
        self,
        client: WebClient,
        *,
        ttl: float = GROUP_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    def __call__(self, group_id: str) -> frozenset[str]:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(group_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            response = self._client.usergroups_users_list(usergroup=group_id)
            members = frozenset(str(u) for u in response.get("users") or [])
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("cannot list members of user group %s: %s", group_id, exc)
            return cached[1] if cached is not None else frozenset()
        with self._lock:
            self._cache[group_id] = (now, members)
        return members
