"""The Prometheus metrics of every modelgov process, with the official client (prometheus_client).

The metric objects live here, in the lowest layer, so any layer counts with one line
(``metrics.CHECKS.labels(outcome="changed").inc()``); they are exposed on the web process's
``/metrics`` and on ``MODELGOV_METRICS_PORT`` by ``bot.slack.observability``. What only the
database knows (the outbox backlog, the last finished cycle) is read at scrape time by
``governance.wiring.db_metrics`` instead of being counted here.

Names follow the Prometheus conventions: the ``modelgov_`` prefix, base units in the name
(``_seconds``), ``_total`` on counters, and label values from small fixed sets (a subcommand
name, an outcome, a table name, an HTTP status), never an id, a repo or a sentence.

Several gunicorn workers (``WEB_CONCURRENCY`` > 1) share one ``/metrics`` through
prometheus_client's multiprocess mode: it is chosen when ``PROMETHEUS_MULTIPROC_DIR`` is set
before this module is imported (``bot.slack.observability.prepare_multiprocess``), and each
gauge below says how the processes' values combine.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from prometheus_client import Counter, Gauge, Histogram

# Slack answers within 3 s or shows the person an error: the buckets are dense below that.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0)
CYCLE_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0)
ANSWER_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
WAIT_BUCKETS = (0.0, 0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0)

ACK_SECONDS = Histogram(
    "modelgov_slack_ack_seconds",
    "Time from a Slack request's arrival to its acknowledgement (HTTP response or Socket Mode "
    "ack), by mode (http, socket) and kind (command, block_actions, view_submission, event ...).",
    ["mode", "kind"],
    buckets=ACK_BUCKETS,
)
COMMANDS = Counter(
    "modelgov_commands_total",
    "/models subcommands run (typed, a button or a form), by subcommand and outcome: ok, "
    "refused (bad input, not allowed, not found ...) or error (a bug, logged with a reference).",
    ["subcommand", "outcome"],
)
DELIVERIES = Counter(
    "modelgov_deliveries_total",
    "Outbox rows handed to a notifier, by outbox table (alerts, outbox_messages) and outcome: "
    "delivered, reconciled (found already posted after an unknown outcome) or failed.",
    ["outbox", "outcome"],
)
DELIVERY_FAILURES = Counter(
    "modelgov_delivery_failures_total",
    "Failed delivery attempts (each is retried), by outbox table and reason: Slack's error code "
    "(channel_not_found, not_in_channel, invalid_auth ...), rate_limited, slack_5xx, "
    "unreachable, outcome_unknown or refused.",
    ["outbox", "reason"],
)
CHECKS = Counter(
    "modelgov_checks_total",
    "Upstream checks of watched models, by outcome: unchanged, changed, first (first "
    "snapshot) or failed (the Hub timed out, refused or answered garbage: never a change).",
    ["outcome"],
)
CYCLE_SECONDS = Histogram(
    "modelgov_recheck_cycle_duration_seconds",
    "Duration of recheck cycles, by trigger (schedule, manual).",
    ["trigger"],
    buckets=CYCLE_BUCKETS,
)
HUB_REQUESTS = Counter(
    "modelgov_hub_requests_total",
    "HTTP requests to the Hub, by endpoint kind (model_info, files, listing, download, other) "
    "and status (the HTTP status, or timeout / connection when no answer came).",
    ["endpoint", "status"],
)
HUB_BUDGET_WAIT_SECONDS = Histogram(
    "modelgov_hub_budget_wait_seconds",
    "Time each Hub request waited for the shared request budget (pacing within the Hub's "
    "rate limit, and pauses after a 429).",
    buckets=WAIT_BUCKETS,
)
HUB_RATE_LIMIT_PAUSE_SECONDS = Counter(
    "modelgov_hub_rate_limit_pause_seconds_total",
    "Seconds of pause the Hub's 429 answers asked for (RateLimit t=, else Retry-After).",
)
ASSISTANT_QUEUE = Gauge(
    "modelgov_assistant_queue_requests",
    "Questions waiting for the language model (not counting the one being answered).",
    multiprocess_mode="livesum",
)
ASSISTANT_ANSWER_SECONDS = Histogram(
    "modelgov_assistant_answer_seconds",
    "Time from a question's submission to the model to its finished answer (queue wait "
    "included), by outcome (ok, error).",
    ["outcome"],
    buckets=ANSWER_BUCKETS,
)
SCHEDULER_HEARTBEAT = Gauge(
    "modelgov_scheduler_heartbeat_timestamp_seconds",
    "Unix time the job scheduler of this process last ran or submitted a job.",
    multiprocess_mode="max",
)


class Heartbeat:
    """The last time something proved alive (monotonic), also set as a timestamp gauge."""

    def __init__(
        self,
        gauge: Gauge,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._gauge = gauge
        self._monotonic = monotonic
        self._wall = wall
        self._lock = threading.Lock()
        self._last: float | None = None

    def beat(self, *_event: object) -> None:
        """Record a sign of life now (takes and ignores an APScheduler event)."""
        with self._lock:
            self._last = self._monotonic()
        self._gauge.set(self._wall())

    def age(self) -> float | None:
        """Seconds since the last beat, or None when there was none in this process."""
        with self._lock:
            return None if self._last is None else self._monotonic() - self._last


# Fed by every scheduler this process builds (``governance.wiring.scheduler``); read by the
# worker's and Socket Mode's /healthz ("scheduler alive").
SCHEDULER = Heartbeat(SCHEDULER_HEARTBEAT)


def count_command(name: str, *, ok: bool, error: bool) -> None:
    """Count one run of subcommand ``name`` in ``COMMANDS``: ok, error (a bug: its answer is
    the internal-error sentence) or refused (any other failure)."""
    outcome = "ok" if ok else "error" if error else "refused"
    COMMANDS.labels(subcommand=name, outcome=outcome).inc()


def count_kept_answer(words: Sequence[str]) -> None:
    """Count a /models answer given again from the kept answers (``bot.grammar.read_cache``)
    as a run of its subcommand, ok (only successful answers are kept)."""
    _kept_answers(words[0].lower() if words else "help").inc()


def observe_ack(mode: str, kind: str, seconds: float) -> None:
    """Record one Slack ack in ``ACK_SECONDS``."""
    _ack_seconds(mode, kind).observe(seconds)


# ``labels()`` validates its arguments and takes the metric's lock on every call; the ack
# path asks for the same few children on every request. (Kept answers are of real
# subcommands only, and ack kinds a fixed set: both caches stay small.)
@functools.lru_cache(maxsize=128)
def _kept_answers(subcommand: str) -> Counter:
    return COMMANDS.labels(subcommand=subcommand, outcome="ok")


@functools.lru_cache(maxsize=64)
def _ack_seconds(mode: str, kind: str) -> Histogram:
    return ACK_SECONDS.labels(mode=mode, kind=kind)


_SLACK_ANSWER = re.compile(r"Slack (\d{3}): ([a-z_]{1,60})\b")


def delivery_failure_reason(reason: str, *, retry_after: float | None, unknown: bool) -> str:
    """A bounded label for a failed delivery: Slack's error code when it gave one, else
    rate_limited, slack_5xx, unreachable, outcome_unknown (``unknown``) or refused."""
    if retry_after is not None:
        return "rate_limited"
    answer = _SLACK_ANSWER.search(reason)
    if answer is not None:
        return "slack_5xx" if answer.group(1).startswith("5") else answer.group(2)
    if "Slack unreachable" in reason:
        return "unreachable"
    return "outcome_unknown" if unknown else "refused"


class _Failure(Protocol):
    """A failed delivery: ``governance.alerts.notifier.DeliveryFailed``."""

    @property
    def reason(self) -> str: ...

    @property
    def retry_after(self) -> float | None: ...


def count_delivery_failure(outbox: str, failure: _Failure, *, unknown: bool) -> None:
    """Count one failed delivery attempt of a row of table ``outbox`` (both counters);
    ``unknown``: the message may have arrived (it is looked for before a retry)."""
    DELIVERIES.labels(outbox=outbox, outcome="failed").inc()
    retry_after = failure.retry_after
    label = delivery_failure_reason(failure.reason, retry_after=retry_after, unknown=unknown)
    DELIVERY_FAILURES.labels(outbox=outbox, reason=label).inc()
