"""The HTTP bodies of acks that answer with a kept reply, serialized once.

A kept answer (``bot.grammar.read_cache``) is the same ``Reply`` object every time it is
given, and turning it into an ack (escaping, fitting the blocks, Bolt's JSON encoding) was a
tenth of a cached ack's CPU. The body is made once per kept reply and answered as the
listener's ``BoltResponse``; what Slack receives is what ``ack(**ack_payload(reply))`` sends.
"""

from __future__ import annotations

import json
import threading

from cachetools import LRUCache
from slack_bolt import BoltResponse

from bot.grammar import read_cache
from bot.render.blocks import Reply
from bot.slack.delivery.respond import ack_payload

# Each entry keeps its reply alive, so an id cannot be reused while it is here; one body per
# answer the read cache can keep.
DEFAULT_SIZE = read_cache.DEFAULT_SIZE
_JSON = "application/json;charset=utf-8"


class KeptAcks:
    """``response(reply)``: the ack answering ``reply``, its body made once per reply."""

    def __init__(self, *, size: int = DEFAULT_SIZE) -> None:
        self._bodies: LRUCache[int, tuple[Reply, str]] = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def response(self, reply: Reply) -> BoltResponse:
        """A new ``BoltResponse`` (200, JSON) whose body acks with ``reply``."""
        with self._lock:
            found = self._bodies.get(id(reply))
        if found is not None and found[0] is reply:
            body = found[1]
        else:
            body = json.dumps(ack_payload(reply))
            with self._lock:
                self._bodies[id(reply)] = (reply, body)
        return BoltResponse(status=200, body=body, headers={"content-type": _JSON})
