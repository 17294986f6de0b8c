"""Replay memory (governance.core.seen_requests): once per key, shared, pruned by age.

On SQLite the keys live in a side file beside the database, inserted as one autocommitted
statement; on PostgreSQL in the main database's table. Both are checked the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from governance.core.db import create_db_engine
from governance.core.seen_requests import KEEP_SECONDS, SeenRequest, SeenRequests

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = create_db_engine(database_url)
    yield made
    made.dispose()


def test_a_key_is_new_once_for_every_store_of_the_deployment(engine: Engine) -> None:
    first, second = SeenRequests.for_database(engine), SeenRequests.for_database(engine)
    try:
        assert first.first_time("sig:v0=abc", now=NOW)
        assert not first.first_time("sig:v0=abc", now=NOW)
        assert not second.first_time("sig:v0=abc", now=NOW)  # another process, same memory
        assert second.first_time("sig:v0=def", now=NOW)
    finally:
        first.close()
        second.close()


def test_the_stored_time_reads_back_as_the_time_given(engine: Engine) -> None:
    store = SeenRequests.for_database(engine)
    try:
        store.first_time("event:Ev1", now=NOW)
        with store.engine.connect() as connection:
            seen_at = connection.scalar(
                select(SeenRequest.seen_at).where(SeenRequest.key == "event:Ev1")
            )
        assert seen_at == NOW
    finally:
        store.close()


def test_keys_older_than_the_window_are_pruned_and_accepted_again(engine: Engine) -> None:
    store = SeenRequests.for_database(engine)
    pruning = SeenRequests(store.engine, prune_every=0.0)
    try:
        assert store.first_time("sig:old", now=NOW)
        later = NOW + timedelta(seconds=KEEP_SECONDS + 1)
        assert pruning.first_time("sig:new", now=later)  # prunes what is past the window
        assert pruning.first_time("sig:old", now=later)
        assert not pruning.first_time("sig:new", now=later)
    finally:
        store.close()


def test_a_key_of_the_wrong_length_is_refused(engine: Engine) -> None:
    store = SeenRequests.for_database(engine)
    try:
        with pytest.raises(ValueError, match="1 to 120 characters"):
            store.first_time("", now=NOW)
        with pytest.raises(ValueError, match="1 to 120 characters"):
            store.first_time("x" * 121, now=NOW)
    finally:
        store.close()


def test_threads_racing_for_the_same_keys_see_each_key_new_exactly_once(engine: Engine) -> None:
    store = SeenRequests.for_database(engine)
    firsts: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def race() -> None:
        try:
            start.wait(timeout=10)
            for number in range(40):
                key = f"sig:v0={number:064x}"
                if store.first_time(key, now=NOW):
                    firsts.append(key)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=race) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        store.close()
    assert errors == []
    assert sorted(firsts) == sorted(f"sig:v0={number:064x}" for number in range(40))
