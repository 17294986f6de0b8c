"""Benchmark: recheck cycles over watched models on the Hub stand-in with added latency.

Prints, for each cycle, wall time against the ideal for the plan the cycle chose, the Hub
requests it sent (per model), and what it found:

- (a) an unchanged cycle and (b) one in which 5% of the models changed (a LICENSE rewrite), on
  1,000 models across 50 authors;
- (c) an unchanged cycle on 10,000 models across 500 authors, ten of which have 2,000-model
  catalogues with 3 watched models each; with the peak Python memory of a further unchanged
  cycle (tracemalloc, measured apart so that its overhead is not in the wall time).

Target: <= 0.1 Hub requests per unchanged model in (a) and (c). The ideal for a plan is the time
its requests take when ``concurrency`` run at once, but no less than its longest listing, whose
pages follow one another: max(requests x latency / concurrency, longest listing x latency).
The stand-in runs in its own process, as the real Hub would: it must not share our GIL.

    .venv/bin/python -m bench.recheck [--part ab|c|all] [--latency 0.05] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import tracemalloc
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from governance.core import migrate
from governance.core.config import Settings
from governance.core.db import transaction
from governance.flows.recheck import CycleReport, run_cycle
from governance.flows.watch_context import WatchContext
from governance.registry.models import TrackedModel
from governance.upstream.hub import HubClient
from governance.upstream.ratelimit import RequestBudget
from governance.wiring.contexts import watch_context
from governance.wiring.services import Services, build_services
from tests.support.hub_standin import HubStandin

LICENSE = "Apache License\nVersion 2.0, January 2004\n\nTERMS AND CONDITIONS\n"
TARGET = 0.1  # Hub requests per unchanged model
BIG_AUTHORS, BIG_CATALOGUE, BIG_WATCHED = 10, 2000, 3


def _serve_hub(conn: Connection) -> None:
    with HubStandin(api_quota=10**9, resolve_quota=10**9) as hub:
        conn.send(hub.endpoint)
        while True:
            command, arg = conn.recv()
            if command == "stop":
                return
            if command == "populate":
                for repo in arg:
                    hub.add_model(repo, files={"LICENSE": LICENSE, "model.safetensors": b"\0" * 32})
            elif command == "populate_bare":  # repos nobody watches: a README and nothing else
                for repo in arg:
                    hub.add_model(repo)
            elif command == "latency":
                hub.latency = arg
            elif command == "rewrite_license":
                for repo in arg:
                    hub.commit(repo, files={"LICENSE": LICENSE + "\nAlso: a new clause.\n"})
            conn.send(None)


class RemoteHub:
    """A Hub stand-in in a child process, driven over a pipe."""

    def __init__(self) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=_serve_hub, args=(child,), daemon=True)
        self._process.start()
        self.endpoint: str = self._conn.recv()

    def call(self, command: str, arg: Any = None) -> None:
        self._conn.send((command, arg))
        self._conn.recv()

    def stop(self) -> None:
        self._conn.send(("stop", None))
        self._process.join(timeout=10)


def ideal_seconds(report: CycleReport, latency: float, concurrency: int) -> float:
    """The wall time the cycle's own requests need at best (see the module docstring)."""
    return max(report.requests * latency / concurrency, report.longest_listing * latency)


def _line(label: str, report: CycleReport, models: int, ideal: float) -> str:
    ratio = f"{report.elapsed / ideal:5.2f} x ideal {ideal:5.2f} s" if ideal else "no ideal"
    return (
        f"{label:<30} wall {report.elapsed:6.2f} s ({ratio})  "
        f"requests {report.requests:5d} ({report.requests / models:.3f}/model)  "
        f"plans: {report.listed_authors} listed ({report.listing_pages} pages), "
        f"{report.per_model_authors} per model  changed {report.changed}  failed {report.failed}"
    )


def _services(hub: RemoteHub, folder: Path, args: argparse.Namespace, repos: list[str]) -> Services:
    """Services on a fresh SQLite database in ``folder`` watching ``repos``."""
    url = f"sqlite:///{folder / 'bench.db'}"
    migrate.upgrade(url)
    settings = Settings(_env_file=None, database_url=url, hub_concurrency=args.concurrency)
    # Measures the cycle, not the rate-limit pacing (500 requests per 5 minutes by default).
    client = HubClient(hub.endpoint, None, budget=RequestBudget(limit=10**9))
    services = build_services(settings, hub=client)
    now = services.clock.now()
    rows = [
        {
            "repo_id": r,
            "repo_key": r.lower(),
            "display_name": r.split("/")[1],
            "added_by": "bench",
            "added_at": now,
            "watched": True,
        }
        for r in repos
    ]
    with transaction(services.session_factory) as session:
        session.execute(insert(TrackedModel), rows)
    return services


def _timed(
    ctx: WatchContext, label: str, models: int, args: argparse.Namespace, *, latency: float
) -> CycleReport:
    report = run_cycle(ctx)
    print(
        _line(label, report, models, ideal_seconds(report, latency, args.concurrency)), flush=True
    )
    return report


def part_ab(hub: RemoteHub, folder: Path, args: argparse.Namespace) -> bool:
    """(a) unchanged and (b) 5% changed on 1,000 models across 50 authors; True if (a) met."""
    models, authors = 1000, 50
    repos = [f"author{i % authors:02d}/model-{i:04d}-7b" for i in range(models)]
    hub.call("populate", repos)
    services = _services(hub, folder, args, repos)
    ctx = watch_context(services)
    print(f"\n{models} models, {authors} authors, {args.latency * 1000:.0f} ms per request")
    hub.call("latency", 0.0)
    _timed(ctx, "first cycle (no latency)", models, args, latency=0.0)
    hub.call("latency", args.latency)
    unchanged = _timed(ctx, "(a) unchanged cycle", models, args, latency=args.latency)
    hub.call("rewrite_license", repos[::20])  # 5%
    _timed(ctx, "(b) 5% changed cycle", models, args, latency=args.latency)
    services.close()
    per_model = unchanged.requests / models
    ok = per_model <= TARGET and unchanged.failed == 0
    print(f"target for (a): {per_model:.3f} <= {TARGET} requests per unchanged model: {_met(ok)}")
    return ok


def part_c(hub: RemoteHub, folder: Path, args: argparse.Namespace) -> bool:
    """(c) unchanged on 10,000 models across 500 authors, ten with 2,000-model catalogues."""
    authors = 500
    big = [f"org{i:02d}" for i in range(BIG_AUTHORS)]
    small = [f"team{i:03d}" for i in range(authors - BIG_AUTHORS)]
    small_models = 10_000 - BIG_AUTHORS * BIG_WATCHED
    # The big catalogues' unwatched repos first, so that the watched ones are the newest.
    hub.call(
        "populate_bare",
        [f"{a}/archive-{j:04d}" for a in big for j in range(BIG_CATALOGUE - BIG_WATCHED)],
    )
    repos = [f"{a}/model-{j}-7b" for a in big for j in range(BIG_WATCHED)]
    repos += [f"{small[i % len(small)]}/model-{i:05d}-7b" for i in range(small_models)]
    hub.call("populate", repos)
    services = _services(hub, folder, args, repos)
    ctx = watch_context(services)
    models = len(repos)
    print(
        f"\n{models} models, {authors} authors ({BIG_AUTHORS} with {BIG_CATALOGUE}-repo "
        f"catalogues, {BIG_WATCHED} watched each), {args.latency * 1000:.0f} ms per request"
    )
    hub.call("latency", 0.0)
    _timed(ctx, "first cycle (no latency)", models, args, latency=0.0)
    # The first cycle's family pages saw 100 repos of each big author: this cycle lists them
    # whole once, and learns that per-model checks are cheaper there.
    _timed(ctx, "learning cycle (no latency)", models, args, latency=0.0)
    hub.call("latency", args.latency)
    unchanged = _timed(ctx, "(c) unchanged cycle", models, args, latency=args.latency)
    hub.call("latency", 0.0)
    tracemalloc.start()
    traced = run_cycle(ctx)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"(c) peak Python memory of an unchanged cycle (tracemalloc, no latency): "
        f"{peak / 2**20:.1f} MiB for {models} models ({traced.requests} requests)"
    )
    services.close()
    per_model = unchanged.requests / models
    ok = per_model <= TARGET and unchanged.failed == 0 and unchanged.per_model_authors >= 1
    print(f"target for (c): {per_model:.3f} <= {TARGET} requests per unchanged model: {_met(ok)}")
    return ok


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--part", choices=("ab", "c", "all"), default="all")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per request")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(f"concurrency {args.concurrency}; target <= {TARGET} Hub requests per unchanged model")
    parts = {"ab": (part_ab,), "c": (part_c,), "all": (part_ab, part_c)}[args.part]
    for part in parts:
        hub = RemoteHub()
        try:
            with tempfile.TemporaryDirectory() as folder:
                part(hub, Path(folder), args)
        finally:
            hub.stop()


if __name__ == "__main__":
    main()
