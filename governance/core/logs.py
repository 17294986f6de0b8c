"""One logging set-up for every modelgov process, in text or JSON lines.

Every process kind (the console, one-shot commands, ``serve`` in Socket Mode, ``serve --http``
with gunicorn's arbiter and each of its workers, ``worker``) calls ``configure_logging`` once,
first thing, before settings are validated: a bad setting must already be reported in the
format the operator asked for. So the two logging settings are read here, leniently, from the
environment and ``.env`` (``MODELGOV_LOG_LEVEL``, ``MODELGOV_LOG_FORMAT``); ``Settings``
validates them again and refuses a bad value in one line.

- ``text``: ``2026-12-02 05:30:20,123 INFO governance.flows.recheck: ...`` lines, and the
  command line's own voice (logger ``modelgov``) as ``modelgov: ...``, as the CLI always spoke.
- ``json``: one JSON object per line (python-json-logger): ``time`` (ISO 8601, UTC),
  ``level``, ``logger``, ``message``, ``command``, ``pid``, any ``extra`` fields, and
  ``exc_info`` (the traceback, inside the one line) when there is one.

Everything goes to stderr, through one handler on the root logger; Python warnings, uncaught
exceptions (main thread, other threads, unraisable ones) are log records too, so in JSON mode
every line the process writes to stderr parses. HTTP client chatter (httpx, httpcore,
urllib3, slack_sdk's web client) is DEBUG: it shows only at ``MODELGOV_LOG_LEVEL=DEBUG``.
Every line is passed through ``governance.core.redact`` first.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import threading
import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, cast

from pythonjsonlogger.json import JsonFormatter

from governance.core.redact import redact

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
LEVEL_VARIABLE = "MODELGOV_LOG_LEVEL"
FORMAT_VARIABLE = "MODELGOV_LOG_FORMAT"
# The command line's own voice: start-up failures, waits, one-line errors ("modelgov: ...").
CLI_LOGGER = "modelgov"
# Loggers that narrate every HTTP request (httpx logs each one at INFO): DEBUG only.
HTTP_CLIENT_LOGGERS = ("httpx", "httpcore", "urllib3", "slack_sdk.web", "slack_sdk.http_retry")
# (logger, level, start of message) of library records that are DEBUG for modelgov.
_DEMOTED = (
    ("slack_sdk.web", logging.ERROR, "Failed to send a request to Slack API server"),
    ("slack_sdk.socket_mode", logging.ERROR, "Failed to retrieve WSS URL"),
    ("modelgov.slack.bolt", logging.ERROR, "Failed to retrieve WSS URL"),  # Socket Mode's logger
    ("alembic.runtime.migration", logging.INFO, "Context impl "),
    ("alembic.runtime.migration", logging.INFO, "Will assume "),
    ("apscheduler.scheduler", logging.INFO, "Adding job tentatively"),  # "Added job" follows
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = ("levelname", "name", "message", "process")
JSON_RENAMES = {"levelname": "level", "name": "logger", "process": "pid"}
JSON_FIRST = ("time", "level", "logger", "message")


@dataclass(frozen=True)
class LogOptions:
    """What ``configure_logging`` installed: the level (a name), the format, and whether the
    level came from ``MODELGOV_LOG_LEVEL`` (else it is the process kind's default)."""

    level: str
    format: str
    level_is_explicit: bool

    @property
    def debug(self) -> bool:
        """True at DEBUG: start-up failures then carry their traceback."""
        return self.level == "DEBUG"


def parse_log_level(value: str) -> str:
    """Return the level name for ``value`` (any case; ``WARN`` is WARNING).

    Raises:
        ValueError: not one of DEBUG, INFO, WARNING, ERROR, CRITICAL.
    """
    level = value.strip().upper()
    level = "WARNING" if level == "WARN" else level
    if level not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
    return level


def parse_log_format(value: str) -> str:
    """Return ``text`` or ``json`` for ``value`` (any case).

    Raises:
        ValueError: any other value.
    """
    fmt = value.strip().lower()
    if fmt not in LOG_FORMATS:
        raise ValueError("expected text or json")
    return fmt


def read_log_options(
    *,
    default_level: str,
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
) -> LogOptions:
    """The two logging settings from ``environ`` (default: the process's), else ``env_file``.

    Lenient on purpose: an invalid value falls back to the default here, and ``Settings``
    then refuses it with one line, written in the format that could be understood.
    """
    environ = os.environ if environ is None else environ
    from_file: Mapping[str, str | None] = {}
    missing = LEVEL_VARIABLE not in environ or FORMAT_VARIABLE not in environ
    if missing and env_file is not None and env_file.is_file():
        from dotenv import dotenv_values  # pydantic-settings' own .env reader

        from_file = dotenv_values(env_file)

    def value(name: str) -> str | None:
        found = environ.get(name)
        return found if found is not None else from_file.get(name)

    level, explicit = default_level, False
    raw_level = value(LEVEL_VARIABLE)
    if raw_level:
        with contextlib.suppress(ValueError):
            level, explicit = parse_log_level(raw_level), True
    fmt = "text"
    raw_format = value(FORMAT_VARIABLE)
    if raw_format:
        with contextlib.suppress(ValueError):
            fmt = parse_log_format(raw_format)
    return LogOptions(level=level, format=fmt, level_is_explicit=explicit)


class TextFormatter(logging.Formatter):
    """Timestamped lines; the CLI's own voice stays ``modelgov: <sentence>``."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if record.name == CLI_LOGGER:
            line = f"modelgov: {record.getMessage()}"
            if record.exc_info:
                line += "\n" + self.formatException(record.exc_info)
        else:
            line = super().format(record)
        return redact(line)


class JsonLineFormatter(JsonFormatter):
    """One JSON object per record, on one line, with every string value redacted."""

    def __init__(self, command: str) -> None:
        super().__init__(
            list(JSON_FIELDS),
            rename_fields=JSON_RENAMES,
            static_fields={"command": command},
            timestamp="time",
            json_ensure_ascii=False,
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        # time, level, logger, message first: what a person scans for in a raw line.
        first = {key: log_data[key] for key in JSON_FIRST if key in log_data}
        ordered = first | {k: v for k, v in log_data.items() if k not in first}
        return {key: _redacted(value) for key, value in ordered.items()}


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


class _HttpChatterIsDebug(logging.Filter):
    """HTTP clients' INFO records (httpx's "HTTP Request: GET ...") are DEBUG records, and so
    are the library records listed in ``_DEMOTED``: slack_sdk's ERROR for a call whose
    exception goes on to modelgov's caller (which says in its own words what failed and what
    happens next), Alembic's notes on every start that it found nothing to do."""

    def filter(self, record: logging.LogRecord) -> bool:
        chatter = (
            record.levelno == logging.INFO and record.name.startswith(HTTP_CLIENT_LOGGERS)
        ) or any(
            record.levelno == level
            and record.name.startswith(logger)
            and str(record.msg).startswith(text)
            for logger, level, text in _DEMOTED
        )
        if chatter:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        if record.name == CLI_LOGGER or record.name.startswith(CLI_LOGGER + "."):
            return True  # the command line's own voice has its own level (configure_logging)
        # A library that sets its own logger to DEBUG (bm25s does) must not bypass the level.
        return record.levelno >= logging.getLogger().getEffectiveLevel()


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]  # TextIO at run time
    """Writes to whatever ``sys.stderr`` is when a record is emitted (a test runner, click's
    CliRunner and gunicorn's workers may each have replaced it since set-up)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # StreamHandler's attribute, read at each emit
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


_installed: dict[str, Any] = {}


def configure_logging(
    *,
    command: str,
    long_running: bool,
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
) -> LogOptions:
    """Install modelgov's one stderr handler on the root logger; return the options in force.

    ``command`` names the process kind in JSON lines (``worker``, ``serve``, ``models``...).
    The default level is INFO for long-running processes (``long_running``), WARNING for
    one-shot commands and the console (their output is the answer, not the log); the
    ``MODELGOV_LOG_LEVEL`` variable overrides both. Calling it again replaces what an earlier
    call installed (other handlers, e.g. a test runner's, are left alone).
    """
    options = read_log_options(
        default_level="INFO" if long_running else "WARNING", environ=environ, env_file=env_file
    )
    handler = StderrHandler()
    formatter: logging.Formatter = (
        JsonLineFormatter(command) if options.format == "json" else TextFormatter()
    )
    handler.setFormatter(formatter)
    handler.addFilter(_HttpChatterIsDebug())
    root = logging.getLogger()
    previous = _installed.get("handler")
    if previous is not None:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(options.level)
    # The command line's own lines ("wrote the export to x.csv", database waits) are INFO and
    # shown by default, as a command always spoke; an explicit level quiets them too.
    logging.getLogger(CLI_LOGGER).setLevel(options.level if options.level_is_explicit else "INFO")
    for name in HTTP_CLIENT_LOGGERS:
        # Not even created below DEBUG; at DEBUG the filter above relabels them.
        logging.getLogger(name).setLevel(logging.NOTSET if options.debug else logging.WARNING)
    logging.captureWarnings(True)
    _installed.update(handler=handler, options=options, command=command)
    _install_exception_hooks()
    return options


def handler() -> logging.Handler | None:
    """The handler ``configure_logging`` installed (gunicorn's loggers write through it)."""
    found = _installed.get("handler")
    return found if isinstance(found, logging.Handler) else None


def options() -> LogOptions:
    """The options in force (text, WARNING when ``configure_logging`` has not run)."""
    found = _installed.get("options")
    if isinstance(found, LogOptions):
        return found
    return LogOptions(level="WARNING", format="text", level_is_explicit=False)


def quiet_for_terminal() -> None:
    """Raise the level to WARNING unless it was set explicitly: ``serve`` without Slack runs
    the console in this terminal, where INFO lines would interleave with its answers."""
    current = options()
    if current.level_is_explicit or current.level != "INFO":
        return
    logging.getLogger().setLevel(logging.WARNING)
    _installed["options"] = LogOptions("WARNING", current.format, level_is_explicit=False)


def json_mode() -> bool:
    """True when lines are JSON objects (then nothing else may be written to stderr)."""
    return options().format == "json"


def say(message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """One line in the CLI's own voice: ``modelgov: <message>`` in text, a JSON line in json.

    ``fields`` become JSON keys (e.g. ``error_code``). INFO and above are shown unless
    ``MODELGOV_LOG_LEVEL`` was set higher (the ``modelgov`` logger has its own level).
    """
    _ensure_configured()
    logging.getLogger(CLI_LOGGER).log(level, message, extra=fields or None)


def _ensure_configured() -> None:
    """A line said before any command set up logging (click's usage errors come before the
    command runs) is still in the format asked for, not bare on stderr."""
    if "handler" not in _installed:
        configure_logging(command="modelgov", long_running=False)


def report_failure(
    message: str, *, error: BaseException | None = None, code: str | None = None
) -> None:
    """Log one start-up or command failure as ONE line naming the cause and the fix.

    The traceback of ``error`` (default: the exception being handled, if any) is added only
    at DEBUG (``MODELGOV_LOG_LEVEL=DEBUG``).
    """
    _ensure_configured()
    fields: dict[str, Any] = {"error_code": code} if code else {}
    error = error if error is not None else sys.exc_info()[1]
    exc_info = error if error is not None and options().debug else None
    logging.getLogger(CLI_LOGGER).error(message, exc_info=exc_info, extra=fields or None)


def _install_exception_hooks() -> None:
    """Uncaught exceptions become one log record (with its traceback in JSON mode, where it
    stays on one line; in text mode only at DEBUG), instead of Python's bare traceback."""
    if sys.excepthook is _excepthook:
        return
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    sys.unraisablehook = _unraisablehook


def _excepthook(
    kind: type[BaseException], error: BaseException, trace: types.TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, trace)
        return
    _log_uncaught("modelgov stopped on an unexpected error", error)


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "a thread"
    _log_uncaught(f"unexpected error in thread {name}", args.exc_value)


def _unraisablehook(unraisable: Any) -> None:
    error = unraisable.exc_value
    where = unraisable.err_msg or "Exception ignored"
    if error is None:
        return
    _log_uncaught(f"{where}: {unraisable.object!r}", error, level=logging.WARNING)


def _log_uncaught(context: str, error: BaseException, *, level: int = logging.CRITICAL) -> None:
    with_trace = json_mode() or options().debug
    hint = "" if with_trace else " (MODELGOV_LOG_LEVEL=DEBUG shows the traceback)"
    first = (str(error).strip().splitlines() or [""])[0][:300]
    logging.getLogger(CLI_LOGGER).log(
        level,
        f"{context}: {type(error).__name__}: {first}{hint}",
        exc_info=error if with_trace else None,
    )


class LineWriter(io.TextIOBase):
    """A text stream whose every line becomes one INFO record of ``logger`` (in JSON mode,
    where a banner printed to stderr would be the one line that is not JSON)."""

    def __init__(self, logger: str) -> None:
        super().__init__()
        self._logger = logging.getLogger(logger)
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line.strip():
                self._logger.info(line)
        return len(text)

    def flush(self) -> None:
        if self._pending.strip():
            self._logger.info(self._pending)
        self._pending = ""


def notice_stream(logger: str) -> TextIO:
    """Where a process writes notices meant for stderr (the console's banner): stderr itself
    in text mode, a ``LineWriter`` of ``logger`` in JSON mode."""
    return cast(TextIO, LineWriter(logger)) if json_mode() else sys.stderr


def uninstall() -> None:
    """Remove what ``configure_logging`` installed (tests that configure in process)."""
    found = _installed.pop("handler", None)
    if isinstance(found, logging.Handler):
        logging.getLogger().removeHandler(found)
    _installed.pop("options", None)
    logging.captureWarnings(False)
