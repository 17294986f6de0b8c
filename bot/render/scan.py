"""The ``modelgov scan`` table (rich). Pure: builds a renderable from a ScanReport."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from governance.scan.service import ScanReport

STYLES = {
    "approved": "green",
    "approved with conditions": "yellow",
    "pending": "magenta",
    "in review": "red",
    "not approved": "bold red",
}
MAX_LOCATIONS = 5


def scan_table(report: ScanReport) -> Table:
    """One row per model: id, status (coloured), registry detail, where it is used."""
    verdict = "all approved" if report.ok else "unapproved models in use"
    table = Table(
        title=f"Models used in {report.root} ({report.files} files read): {verdict}",
        title_justify="left",
    )
    table.add_column("model", no_wrap=True)
    table.add_column("status")
    table.add_column("registry")
    table.add_column("where")
    for model in report.models:
        where = [f"{r.path}:{r.line}" for r in model.refs[:MAX_LOCATIONS]]
        if len(model.refs) > MAX_LOCATIONS:
            where.append(f"… {len(model.refs) - MAX_LOCATIONS} more")
        table.add_row(
            Text(model.repo_id),
            Text(model.status, style=STYLES[model.status]),
            Text(model.detail),
            Text("\n".join(where)),
        )
    if not report.models:
        table.add_row(Text("(no Hub model ids found)"), Text(""), Text(""), Text(""))
    return table
