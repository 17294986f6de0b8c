"""Stable hashes of JSON-able values: change fingerprints, license fingerprints, dedupe keys."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def fingerprint(value: Any) -> str:
    """The SHA-256 hex digest of ``value`` as canonical JSON (sorted keys; other values as str).

    Equal values give equal fingerprints across processes and releases: stored fingerprints and
    outbox dedupe keys depend on it.
    """
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
