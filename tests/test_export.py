"""``modelgov export``: a CycloneDX 1.6 ML-BOM that validates (and a broken one that does not),
CSV and JSON, from models checked through the watcher."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.core.db import transaction
from governance.export.cyclonedx import validate_bom
from governance.export.service import export_text
from governance.registry.models import IntendedUse
from tests.support.license_fixtures import MIT_TEXT, WEIGHTS, Governed, governed

OPEN = "acme/open-7b"
VENDOR = "acme/vendor-8b"


@pytest.fixture
def hub_gov(settings: Settings, clock: FrozenClock) -> Iterator[Governed]:
    yield from governed(settings, clock)


@pytest.fixture
def gov(hub_gov: Governed) -> Governed:
    g = hub_gov
    g.hub.add_model(
        OPEN,
        license="mit",
        files={"LICENSE": MIT_TEXT, **WEIGHTS},
        tags=["transformers", "text-generation", "dataset:acme/corpus"],
    )
    g.hub.add_model(VENDOR, license="llama3.1", files=WEIGHTS, gated="manual")
    g.track(OPEN)
    g.track(VENDOR)
    g.cycle()
    approved = g.request(OPEN)
    assert g.run(f'approve {approved} --conditions "no <!channel> PII"', user="bob").ok
    g.request(VENDOR, IntendedUse.RESEARCH)
    g.track("acme/never-checked")
    return g


def _export(gov: Governed, fmt: str) -> str:
    with transaction(gov.services.session_factory) as session:
        return export_text(session, fmt=fmt, clock=gov.services.clock)


def test_cyclonedx_bom_validates_and_describes_each_model(gov: Governed) -> None:
    text = _export(gov, "cyclonedx")
    assert validate_bom(text) is None
    bom = json.loads(text)
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
    components = {c["bom-ref"]: c for c in bom["components"]}
    assert set(components) == {OPEN, VENDOR, "acme/never-checked"}
    open_model = components[OPEN]
    sha = gov.hub.head_sha(OPEN)
    assert open_model["type"] == "machine-learning-model"
    assert open_model["purl"] == f"pkg:huggingface/acme/open-7b@{sha}"
    assert open_model["licenses"] == [{"license": {"id": "MIT"}}]
    props = {p["name"]: p["value"] for p in open_model["properties"]}
    assert props["modelgov:status"] == "approved with conditions"
    assert props["modelgov:approval:1:conditions"] == "no <!channel> PII"
    assert props["modelgov:approval:1:use"] == "commercial"
    assert open_model["modelCard"]["modelParameters"]["task"] == "text-generation"
    assert open_model["modelCard"]["modelParameters"]["datasets"] == [
        {"type": "dataset", "name": "acme/corpus"}
    ]
    vendor = components[VENDOR]
    assert vendor["licenses"][0]["license"]["name"] == "Llama 3.1 Community License Agreement"
    assert "id" not in vendor["licenses"][0]["license"]  # not an SPDX id
    assert {p["name"]: p["value"] for p in vendor["properties"]}["modelgov:status"] == "pending"
    assert components["acme/never-checked"]["purl"] == "pkg:huggingface/acme/never-checked"


def test_a_broken_bom_does_not_validate(gov: Governed) -> None:
    bom = json.loads(_export(gov, "cyclonedx"))
    bom["components"][0]["type"] = "large-language-model"
    assert validate_bom(json.dumps(bom)) is not None
    bom = json.loads(_export(gov, "cyclonedx"))
    bom["components"][0]["licenses"] = [{"license": {"id": "LicenseRef-llama3-1"}}]
    assert validate_bom(json.dumps(bom)) is not None  # a LicenseRef- is not an SPDX id
    assert validate_bom("{}") is not None


def test_csv_and_json(gov: Governed) -> None:
    rows = list(csv.DictReader(io.StringIO(_export(gov, "csv"))))
    by_repo = {r["repo_id"]: r for r in rows}
    assert by_repo[OPEN]["license_id"] == "mit" and by_repo[OPEN]["spdx"] == "MIT"
    assert by_repo[OPEN]["conditions"] == "commercial: no <!channel> PII"
    assert by_repo[VENDOR]["spectrum"] == "restricted weights"
    data = json.loads(_export(gov, "json"))
    assert (
        data["schema_version"] == 1 and data["generated_at"] == gov.services.clock.now().isoformat()
    )
    vendor = next(m for m in data["models"] if m["repo_id"] == VENDOR)
    assert vendor["license"]["commercial_use"] == "conditional"
    assert vendor["gated"] == "manual"
    assert vendor["openness"]["spectrum"] == "restricted weights"
    assert set(vendor["openness"]) == {"spectrum", "osi_osaid", "mof"}
    never = next(m for m in data["models"] if m["repo_id"] == "acme/never-checked")
    assert never["openness"] == {"spectrum": None, "osi_osaid": None, "mof": None}
    assert all(_snake_keys(m) for m in data["models"])


def _snake_keys(value: object) -> bool:
    """Every key of ``value`` (nested dicts and lists too) is snake_case."""
    if isinstance(value, dict):
        return all(
            isinstance(k, str) and re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", k) is not None
            for k in value
        ) and all(_snake_keys(v) for v in value.values())
    if isinstance(value, list):
        return all(_snake_keys(v) for v in value)
    return True


def test_cli_writes_the_file(
    gov: Governed, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    out = tmp_path / "bom.cdx.json"
    result = CliRunner().invoke(main, ["export", "--format", "cyclonedx", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert validate_bom(out.read_text()) is None
    result = CliRunner().invoke(main, ["export", "--format", "spdx"])
    assert result.exit_code == 2 and "spdx" in result.output


def test_cli_json_export_is_the_envelope_on_stdout_and_the_document_in_a_file(
    gov: Governed, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    shown = CliRunner().invoke(main, ["export", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    envelope = json.loads(shown.stdout)
    assert envelope["ok"] is True and envelope["data"]["schema_version"] == 1
    alias = json.loads(CliRunner().invoke(main, ["export", "--json"]).stdout)  # --format json
    assert alias["data"]["models"] == envelope["data"]["models"]
    out = tmp_path / "models.json"
    written = CliRunner().invoke(main, ["export", "--format", "json", "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert json.loads(written.stdout) == {
        "ok": True,
        "data": {"format": "json", "output": str(out)},
    }
    document = json.loads(out.read_text())
    assert document["schema_version"] == 1 and document["models"] == envelope["data"]["models"]
    both = CliRunner().invoke(main, ["export", "--json", "--format", "csv"])
    assert both.exit_code == 2
    assert json.loads(both.stdout)["error"]["code"] == "usage_error"
