"""gunicorn's logs through modelgov's one logging set-up (``governance.core.logs``).

gunicorn installs its own handlers on ``gunicorn.error`` and ``gunicorn.access`` with its own
format (``[2026-12-02 05:36:38 +0000] [15992] [INFO] Booting worker ...``), which would be
the only lines of the web process that are not JSON in JSON mode. This logger class drops
them: both loggers propagate to the root handler, in the arbiter and in every worker (they
inherit it through the fork). The access log is one record per request with the request's
facts as fields (``method``, ``path``, ``status``, ``duration_ms``, ...), so in JSON mode
each is a JSON line a log pipeline can index without parsing a combined-log string.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.http import Request
from gunicorn.http.wsgi import Response

ACCESS_LOGGER = "gunicorn.access"


class GunicornLogger(Logger):
    """gunicorn's ``logger_class`` for modelgov's web process."""

    def setup(self, cfg: Config) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
            log.propagate = True
            log.setLevel(logging.NOTSET)  # the root logger's level (MODELGOV_LOG_LEVEL) rules

    def access(
        self,
        resp: Response,
        req: Request,
        environ: MutableMapping[str, Any],
        request_time: timedelta,
    ) -> None:
        """One INFO record per request: ``POST /slack/events 200 12 ms`` plus its fields.

        The query string is left out: a path is enough to tell requests apart and a query can
        carry what should not be logged.
        """
        if not self.access_log_enabled:
            return
        status = resp.status
        code = int(str(status).split(None, 1)[0]) if status else 0
        method = environ.get("REQUEST_METHOD", "-")
        path = environ.get("PATH_INFO", "-")
        duration_ms = round(request_time.total_seconds() * 1000, 1)
        self.access_log.info(
            "%s %s %s %s ms",
            method,
            path,
            code,
            duration_ms,
            extra={
                "method": method,
                "path": path,
                "status": code,
                "duration_ms": duration_ms,
                "bytes": getattr(resp, "sent", None),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "user_agent": environ.get("HTTP_USER_AGENT"),
                "protocol": environ.get("SERVER_PROTOCOL"),
            },
        )
