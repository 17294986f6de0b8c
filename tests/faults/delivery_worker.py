"""A delivery-only worker process for the fault suite and bench/delivery.py.

``python -m tests.faults.delivery_worker`` runs what ``modelgov worker``'s delivery job runs
(``delivery_job`` with the Slack notifier, settings from the environment) in a loop, with a
short client timeout and retry policy so crashes and late answers resolve in seconds. It runs
until killed; each run that did something prints one JSON line (its report).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bot.slack.delivery.client import make_client
from bot.slack.delivery.slack_notifier import SlackNotifier
from governance.alerts.delivery import RetryPolicy
from governance.core.config import load_settings
from governance.wiring.scheduler import delivery_job
from governance.wiring.services import build_services


def main(argv: list[str] | None = None) -> int:
    """Deliver forever (until a signal); returns 0 only if asked to stop after ``--runs``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=int, default=1, help="Web API client timeout (s)")
    parser.add_argument("--every", type=float, default=0.2, help="seconds between runs")
    parser.add_argument("--runs", type=int, default=0, help="stop after this many (0: never)")
    args = parser.parse_args(argv)
    settings = load_settings()
    client = make_client(settings, timeout=args.timeout)
    services = build_services(
        settings,
        make_notifier=lambda sessions, clock: SlackNotifier(
            client, session_factory=sessions, clock=clock
        ),
    )
    policy = RetryPolicy(
        first_seconds=0.5, max_seconds=2, unknown_seconds=0.3, claim_margin_seconds=1
    )
    runs = 0
    while not args.runs or runs < args.runs:
        runs += 1
        report = delivery_job(services, policy=policy)
        if report.delivered or report.messages or report.reconciled or report.failed:
            counts = {
                "delivered": report.delivered,
                "messages": report.messages,
                "reconciled": report.reconciled,
                "failed": report.failed,
                "lost_claims": report.lost_claims,
            }
            print(json.dumps(counts), flush=True)
        time.sleep(args.every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
