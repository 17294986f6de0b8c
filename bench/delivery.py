"""Benchmark: alert delivery to the Slack stand-in by 1, 2 and 3 real worker processes.

Slack here answers every call after ``--latency`` seconds, limits chat.postMessage to
``--rate`` per second per channel (HTTP 429 with Retry-After), and answers a few posts only
after the workers' 1 s client timeout. For each worker count it prints the alerts delivered per
second, then the same again with ``--kills`` kill -9s of a worker mid-delivery (each replaced
at once), and counts every alert's posts Slack accepted: lost (0 posts) and duplicated (2+).

    .venv/bin/python -m bench.delivery [--alerts 90] [--kills 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete

from governance.alerts.models import Alert, DestinationChannel, OutboxMessage
from governance.core import migrate
from governance.core.config import Settings
from governance.core.db import transaction
from governance.registry.models import TrackedModel
from governance.wiring.services import Services, build_services
from tests.faults.delivery_support import (
    LATE_ANSWER_SECONDS,
    Tally,
    Workers,
    make_backlog,
    pending,
    tally,
    wait_for_posts,
    wait_until_delivered,
    worker_env,
)
from tests.support.slack_standin import running_standin

CHANNELS = ("#model-alerts", "#security", "#legal")
LATE_POSTS = 3


def _database(url: str | None, tmp: Path, name: str) -> str:
    if url:
        return url
    return f"sqlite:///{tmp / f'{name}.sqlite'}"


def _empty(services: Services) -> None:
    """Drop what an earlier scenario left (PostgreSQL runs reuse one database)."""
    with transaction(services.session_factory) as session:
        for table in (Alert, OutboxMessage, DestinationChannel, TrackedModel):
            session.execute(delete(table))


def run(
    *, url: str, workers: int, alerts: int, kills: int, latency: float, rate: float, seed: int
) -> tuple[float, Tally, int]:
    """One scenario; returns (alerts per second, tally, kills done)."""
    migrate.upgrade(url)
    services = build_services(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    rng = random.Random(seed)
    try:
        _empty(services)
        keys = make_backlog(services, alerts, channels=CHANNELS)
        with running_standin() as slack:
            slack.latency = latency
            slack.limit_rate("chat.postMessage", per_second=rate)
            slack.answer_late("chat.postMessage", LATE_POSTS, delay=LATE_ANSWER_SECONDS)
            pool = Workers(worker_env(services, slack))
            try:
                started = time.monotonic()
                running = [pool.start() for _ in range(workers)]
                for _ in range(kills):
                    seen = len(slack.calls("chat.postMessage"))
                    if not wait_for_posts(services, slack, seen + rng.randint(1, 5)):
                        break
                    time.sleep(rng.uniform(0, 0.2))
                    victim = running.pop(rng.randrange(len(running)))
                    pool.kill(victim)
                    running.append(pool.start())
                wait_until_delivered(services)
                elapsed = time.monotonic() - started
            finally:
                pool.stop_all()
            assert pending(services) == 0
            return alerts / elapsed, tally(services, slack, keys, CHANNELS), pool.kills
    finally:
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=90)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per Slack call")
    parser.add_argument("--rate", type=float, default=5, help="posts per second per channel")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(
        f"{args.alerts} alerts over {len(CHANNELS)} channels; Slack: {args.latency * 1000:.0f} ms "
        f"a call, {args.rate:g} posts/s per channel (429 + Retry-After beyond), {LATE_POSTS} "
        f"posts answered after {LATE_ANSWER_SECONDS} s (client timeout 1 s)"
    )
    print(f"{'workers':>7} {'kills':>5} {'alerts/s':>9} {'posts':>6} {'lost':>5} {'dup':>4}")
    with tempfile.TemporaryDirectory() as tmp:
        for kills in (0, args.kills):
            for workers in (1, 2, 3):
                url = _database(args.database_url, Path(tmp), f"w{workers}k{kills}")
                per_second, result, killed = run(
                    url=url,
                    workers=workers,
                    alerts=args.alerts,
                    kills=kills,
                    latency=args.latency,
                    rate=args.rate,
                    seed=args.seed + workers,
                )
                print(
                    f"{workers:>7} {killed:>5} {per_second:>9.1f} {result.posts:>6} "
                    f"{result.lost:>5} {result.duplicated:>4}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
