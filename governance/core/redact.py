"""Keeping secrets out of everything modelgov prints: errors, log lines, tracebacks.

Two rules, applied to every log line by ``governance.core.logs`` and to error messages by
whoever builds them from foreign text (a driver's exception, a URL an operator typed):

- the password of any ``scheme://user:password@host`` URL becomes ``***``;
- every value registered with ``register_secret`` (the database password, Slack tokens and
  signing secret, the Hub token, the webhook secret) becomes ``***`` wherever it appears.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import quote, quote_plus

MASK = "***"
# Shorter values would mask ordinary words ("test", "1234") all over the logs.
MIN_SECRET_LENGTH = 6
# scheme://user:password@ -- the password runs to the last "@" before the host part, so a
# password with an unencoded "@" is masked whole.
_URL_CREDENTIALS = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s'\"]*):[^\s/'\"]*@")

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask ``value`` (and its URL-encoded forms) in everything ``redact`` sees from now on."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        _secrets.update({value, quote(value, safe=""), quote_plus(value)})


def redact(text: str) -> str:
    """Return ``text`` with URL passwords and registered secrets replaced by ``***``."""
    if not text:
        return text
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group('head')}:{MASK}@", text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)  # longest first: no partial masks
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text
