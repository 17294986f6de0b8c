"""CSV and JSON exports of the tracked models."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from governance.export.collect import ExportRow

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


def row_data(row: ExportRow) -> dict[str, Any]:
    """One model as JSON-able data."""
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
        "openness": row.openness,
        "findings": list(row.findings),
    }


def to_json(rows: list[ExportRow]) -> str:
    return json.dumps({"models": [row_data(r) for r in rows]}, indent=2, default=str) + "\n"


def to_csv(rows: list[ExportRow]) -> str:
    """One line per model; approvals joined as ``#id use state`` with ``; ``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        standing = [a for a in row.approvals if a["state"] in ("approved", "needs_review")]
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
                "spectrum": row.openness.get("seed spectrum", ""),
                "osaid": row.openness.get("OSI OSAID 1.0", ""),
                "mof": row.openness.get("MOF", ""),
                "findings": " | ".join(row.findings),
            }
        )
    return out.getvalue()
