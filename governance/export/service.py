"""``modelgov export``: the tracked models as a CycloneDX ML-BOM, CSV or JSON."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy.orm import Session

from governance.core.clock import Clock
from governance.core.errors import InvalidInput
from governance.export.collect import collect
from governance.export.cyclonedx import build_bom
from governance.export.tabular import json_document, to_csv, to_json

Format = Literal["cyclonedx", "csv", "json"]
FORMATS: tuple[Format, ...] = ("cyclonedx", "csv", "json")


def export_text(session: Session, *, fmt: str, clock: Clock) -> str:
    """The export in ``fmt`` as text (a CycloneDX BOM is validated before it is returned).

    Raises InvalidInput for an unknown format.
    """
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown export format {fmt[:30]!r}; expected cyclonedx, csv or json.")
    rows = collect(session, today=clock.now().date())
    if fmt == "cyclonedx":
        return build_bom(rows, now=clock.now())
    return to_csv(rows) if fmt == "csv" else to_json(rows, now=clock.now())


def export_document(session: Session, *, clock: Clock) -> dict[str, Any]:
    """The JSON export as data (``governance.export.tabular.json_document``)."""
    return json_document(collect(session, today=clock.now().date()), now=clock.now())
