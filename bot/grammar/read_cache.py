"""Answers to read-only subcommands, kept while the database has not changed.

Slack waits for the ack of a ``/models list`` or ``info``, and rendering one from the ORM costs
about 3 ms of CPU: at 20 concurrent commands, each waits behind the others' rendering. A spec
marked ``cached`` promises that its answer depends only on the words typed, the day (expiry
dates) and the database, so an answer computed once is reused for the same words on the same
day for as long as the data generation (``governance.core.generation``: a counter that
database triggers bump on every committed change, whoever makes it) stays the same.

The generation is read before the answer is computed, so an answer stored under generation
``g`` saw at least the data of ``g``; a change committed meanwhile bumps the counter past ``g``
and the next ask recomputes. Only successful answers are kept; the cache is per process and
bounded (least recently used answers go first).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from cachetools import LRUCache
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.render.blocks import Reply
from governance.core import metrics
from governance.core.db import read_only_engine
from governance.core.generation import current_generation
from governance.core.single_statements import SingleStatements

log = logging.getLogger(__name__)

# Distinct (words, day) answers kept per process: list filters and info of each model.
DEFAULT_SIZE = 512

Key = tuple[tuple[str, ...], date]


@dataclass(frozen=True)
class Lookup:
    """What ``ReadCache.lookup`` found: the kept answer, if any, and the generation it read
    (None when it could not be read: then nothing is kept)."""

    reply: Reply | None
    key: Key
    generation: int | None


class ReadCache:
    """Answers by (words, day), each valid for the generation it was computed at."""

    def __init__(self, engine: Engine, *, size: int = DEFAULT_SIZE) -> None:
        self._statements = SingleStatements(read_only_engine(engine))
        self._entries: LRUCache[Key, tuple[int, Reply]] = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def lookup(self, words: list[str], today: date) -> Lookup:
        """The answer kept for ``words`` on ``today`` if the data has not changed since."""
        key: Key = (tuple(words), today)
        try:
            generation = current_generation(self._statements)
        except SQLAlchemyError as exc:  # unreachable, or not migrated: answer without keeping
            log.warning("the data generation cannot be read (%s); not keeping answers", exc)
            return Lookup(None, key, None)
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None and kept[0] == generation:
                metrics.count_kept_answer(words)  # an answer kept is its subcommand run, ok
                return Lookup(kept[1], key, generation)
        return Lookup(None, key, generation)

    def keep(self, lookup: Lookup, reply: Reply) -> None:
        """Keep ``reply`` (computed after ``lookup``) if it succeeded."""
        if lookup.generation is None or not reply.ok:
            return
        with self._lock:
            self._entries[lookup.key] = (lookup.generation, reply)

    def answer(self, words: list[str], today: date, compute: Callable[[], Reply]) -> Reply:
        """The kept answer for ``words`` on ``today``, else ``compute()`` (then kept)."""
        found = self.lookup(words, today)
        if found.reply is not None:
            return found.reply
        reply = compute()
        self.keep(found, reply)
        return reply
