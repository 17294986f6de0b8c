"""CPU per acked command, in one thread, without HTTP: where ack_latency's time goes.

Builds modelgov's WSGI application (``bot.slack.wsgi.wsgi_app`` over ``build_app``, SQLite,
the Slack and Hub stand-ins) and the bare Bolt app of ``bench/bare_bolt.py`` in this process,
and calls each with the same signed ``/models list approved`` / ``info <repo>`` requests one
after another. Prints the CPU time per request of each and their ratio: with gunicorn, HTTP
and threads out of the picture, this is the work of answering.

For a profile, run it under py-spy (``pip install py-spy``):
``py-spy record --format raw -o stacks.txt -- python -m bench.ack_cpu``.

Run from the repository root: ``python -m bench.ack_cpu [--requests 2000] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from bench.ack_latency import seed
from bench.bare_bolt import bare_app, wsgi
from bot.slack.app import build_app
from bot.slack.delivery.workers import WorkerPool
from bot.slack.wsgi import wsgi_app
from governance.core.config import Settings
from governance.wiring.services import build_services
from tests.support.hub_standin import HubStandin
from tests.support.slack_driver import SlackDriver
from tests.support.slack_fixtures import DEFAULT_USERS, SIGNING_SECRET
from tests.support.slack_standin import SlackStandIn

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

CHANNEL = "C0BENCH"


def signed_environ(driver: SlackDriver, text: str, response_url: str) -> dict[str, Any]:
    """A WSGI environ for a signed ``/models text`` as Slack posts it."""
    body = driver.slash_command_body(
        text, user_id="U0CAROL", channel_id=CHANNEL, response_url=response_url
    )
    prepared = driver.prepare(body, "application/x-www-form-urlencoded")
    data = body.encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "3000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": prepared.headers["Content-Type"],
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    for name, value in prepared.headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def cpu_per_request(
    app: WSGIApplication, environs: Iterable[dict[str, Any]], expect: Callable[[bytes], bool]
) -> tuple[float, int]:
    """(CPU seconds per request, requests) for calling ``app`` with each environ.

    Raises SystemExit on an answer that is not 200 or not what ``expect`` accepts.
    """
    started = time.process_time()
    count = 0
    for environ in environs:
        status: list[str] = []

        def start_response(
            line: str, _headers: Any, _exc: Any = None, into: list[str] = status
        ) -> Any:
            into.append(line)

        body = b"".join(app(environ, start_response))
        if not status or not status[0].startswith("200") or not expect(body):
            raise SystemExit(f"unexpected answer {status}: {body[:200]!r}")
        count += 1
    return (time.process_time() - started) / max(count, 1), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--models", type=int, default=12)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        SlackStandIn(users=DEFAULT_USERS) as slack,
        HubStandin() as hub,
    ):
        database_url = f"sqlite:///{tmp}/bench.db"
        repos = seed(database_url, hub, args.models)
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            slack_bot_token=slack.token,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_base_url=slack.base_url,
            approvers=["U0ALICE", "U0BOB"],
        )
        services = build_services(settings)
        pool = WorkerPool()
        modelgov = wsgi_app(build_app(settings, services, pool=pool), services)
        bare = wsgi(bare_app(SIGNING_SECRET, slack.token))
        driver = SlackDriver("http://127.0.0.1:3000", SIGNING_SECRET)

        def environs(count: int) -> list[dict[str, Any]]:
            # Signed before the clock starts: signing is the load generator's work, not the
            # server's (timed, it added the same constant to both sides).
            made = []
            for i in range(count):
                text = "list approved" if i % 2 else f"info {repos[i % len(repos)]}"
                url = slack.new_response_url(channel=CHANNEL, user_id="U0CAROL")
                made.append(signed_environ(driver, text, url))
            return made

        def answered(body: bytes) -> bool:
            return b"bench-org/model-" in body

        try:
            for app in (modelgov, bare):  # warm-up: connections, caches
                cpu_per_request(app, environs(20), answered)
            # Rounds alternate between the two apps and the medians are compared, so a burst
            # of other work on the machine cannot land on one side only.
            ours_rounds: list[float] = []
            theirs_rounds: list[float] = []
            per_round = max(args.requests // args.rounds, 1)
            for _ in range(args.rounds):
                ours_rounds.append(cpu_per_request(modelgov, environs(per_round), answered)[0])
                theirs_rounds.append(cpu_per_request(bare, environs(per_round), answered)[0])
        finally:
            pool.shutdown(wait=True)
            services.close()
    ours, theirs = statistics.median(ours_rounds), statistics.median(theirs_rounds)
    print(
        f"{per_round * args.rounds} signed /models list|info each in {args.rounds} alternating "
        "rounds, one thread, no HTTP (median of the rounds):"
    )
    print(f"  modelgov   {ours * 1000:.3f} ms CPU per request")
    print(f"  bare Bolt  {theirs * 1000:.3f} ms CPU per request")
    print(f"  ratio {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
