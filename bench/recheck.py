"""Benchmark: a recheck cycle over N watched models on the Hub stand-in with added latency.

Prints wall time and Hub requests per model for (a) an unchanged cycle and (b) a cycle in which
5% of the models changed (a LICENSE rewrite), against the targets of issue 3:
requests per unchanged model <= 1.05 and wall time <= 1.5 x (N x latency / concurrency).
The stand-in runs in its own process, as the real Hub would: it must not share our GIL.

    .venv/bin/python -m bench.recheck [--models 1000] [--authors 50] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from governance.core import migrate
from governance.core.config import Settings
from governance.core.db import transaction
from governance.flows.recheck import CycleReport, run_cycle
from governance.registry.models import TrackedModel
from governance.upstream.hub import HubClient
from governance.upstream.ratelimit import RequestBudget
from governance.wiring.contexts import watch_context
from governance.wiring.services import build_services
from tests.support.hub_standin import HubStandin

LICENSE = "Apache License\nVersion 2.0, January 2004\n\nTERMS AND CONDITIONS\n"


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


def _line(label: str, report: CycleReport, models: int, ideal: float) -> str:
    return (
        f"{label:<28} wall {report.elapsed:6.2f} s ({report.elapsed / ideal:4.2f} x ideal)  "
        f"requests {report.requests:5d} ({report.requests / models:.3f}/model)  "
        f"changed {report.changed:4d}  failed {report.failed}"
    )


def _run(hub: RemoteHub, folder: Path, args: argparse.Namespace) -> bool:
    url = f"sqlite:///{folder / 'bench.db'}"
    migrate.upgrade(url)
    settings = Settings(_env_file=None, database_url=url, hub_concurrency=args.concurrency)  # type: ignore[call-arg]
    # Measures the cycle, not the rate-limit pacing (500 requests per 5 minutes by default).
    client = HubClient(hub.endpoint, None, budget=RequestBudget(limit=10**9))
    services = build_services(settings, hub=client)
    repos = [f"author{i % args.authors:02d}/model-{i:04d}-7b" for i in range(args.models)]
    hub.call("populate", repos)
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
    ctx = watch_context(services)
    ideal = args.models * args.latency / args.concurrency
    print(
        f"{args.models} models, {args.authors} authors, {args.latency * 1000:.0f} ms per "
        f"request, concurrency {args.concurrency}; ideal {ideal:.2f} s, "
        f"target <= {1.5 * ideal:.2f} s and <= 1.05 requests/model"
    )
    first = run_cycle(ctx)  # baseline snapshots, no added latency: not part of the targets
    print(_line("first cycle (no latency)", first, args.models, ideal))
    hub.call("latency", args.latency)
    unchanged = run_cycle(ctx)
    print(_line("(a) unchanged cycle", unchanged, args.models, ideal))
    hub.call("rewrite_license", repos[::20])  # 5%
    changed = run_cycle(ctx)
    print(_line("(b) 5% changed cycle", changed, args.models, ideal))
    services.close()
    ok = unchanged.requests / args.models <= 1.05 and unchanged.elapsed <= 1.5 * ideal
    print(f"targets for (a): {'met' if ok else 'NOT met'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--authors", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per request")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    hub = RemoteHub()
    try:
        with tempfile.TemporaryDirectory() as folder:
            _run(hub, Path(folder), args)
    finally:
        hub.stop()


if __name__ == "__main__":
    main()
