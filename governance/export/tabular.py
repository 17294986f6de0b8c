"""CSV and JSON exports of the tracked models.

The JSON export is a versioned document: ``schema_version`` changes (by one) only when a key is
renamed or removed or a value changes meaning; new keys may appear within a version. Every key
is snake_case.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any, Final

from governance.export.collect import ExportRow

JSON_SCHEMA_VERSION: Final = 1

# The openness verdicts: the export's key, and the framework name the assessment gives it.
OPENNESS_KEYS: Final = (
    ("spectrum", "seed spectrum"),
    ("osi_osaid", "OSI OSAID 1.0"),
    ("mof", "MOF"),
)

CSV_COLUMNS = (
    "repo_id",
    "revision",
    "status",
    "license_id",
    "license_name",
    "spdx",
    "commercial_use",
    "approvals",
    "conditions",
    "expires_on",
    "spectrum",
    "osaid",
    "mof",
    "findings",
)


def openness_data(row: ExportRow) -> dict[str, str | None]:
    """The row's openness verdicts by snake_case key (None: not checked upstream yet)."""
    return {key: row.openness.get(framework) for key, framework in OPENNESS_KEYS}


def row_data(row: ExportRow) -> dict[str, Any]:
    """One model as JSON-able data (snake_case keys)."""
    return {
        "repo_id": row.repo_id,
        "revision": row.sha,
        "status": row.status,
        "status_detail": row.status_detail,
        "license": {
            "id": row.license_id,
            "declared": row.declared_license,
            "name": row.terms.name if row.terms else None,
            "spdx": row.terms.spdx if row.terms else None,
            "commercial_use": row.terms.commercial_use if row.terms else None,
        },
        "approvals": list(row.approvals),
        "gated": row.gated,
        "task": row.task,
        "datasets": list(row.datasets),
        "openness": openness_data(row),
        "findings": list(row.findings),
    }


def json_document(rows: list[ExportRow], *, now: datetime) -> dict[str, Any]:
    """The JSON export: its ``schema_version``, when it was made, and one object per model."""
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "generated_at": now.isoformat(),
        "models": [row_data(r) for r in rows],
    }


def to_json(rows: list[ExportRow], *, now: datetime) -> str:
    """``json_document`` as indented JSON text."""
    return json.dumps(json_document(rows, now=now), indent=2, default=str) + "\n"


def to_csv(rows: list[ExportRow]) -> str:
    """One line per model; approvals joined as ``#id use state`` with ``; ``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        standing = [a for a in row.approvals if a["state"] in ("approved", "needs_review")]
        openness = openness_data(row)
        writer.writerow(
            {
                "repo_id": row.repo_id,
                "revision": row.sha or "",
                "status": row.status,
                "license_id": row.license_id or "",
                "license_name": row.terms.name if row.terms else "",
                "spdx": row.terms.spdx if row.terms else "",
                "commercial_use": row.terms.commercial_use if row.terms else "",
                "approvals": "; ".join(
                    f"#{a['id']} {a['use']} {a['state']}" for a in row.approvals
                ),
                "conditions": "; ".join(
                    f"{a['use']}: {a['conditions']}" for a in standing if a["conditions"]
                ),
                "expires_on": "; ".join(
                    f"{a['use']}: {a['expires_on']}" for a in standing if a["expires_on"]
                ),
                "spectrum": openness["spectrum"] or "",
                "osaid": openness["osi_osaid"] or "",
                "mof": openness["mof"] or "",
                "findings": " | ".join(row.findings),
            }
        )
    return out.getvalue()
