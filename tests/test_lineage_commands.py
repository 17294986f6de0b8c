"""Lineage in the commands (issue 14): ``info`` and ``license-check`` say whose terms bind a
derivative and where it disagrees; the ``derivatives`` policy rule decides coverage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.render.home import home_view
from bot.render.request_card import request_card
from governance.assistant.answers import Answer
from governance.assistant.service import answer
from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.core.db import transaction
from governance.dashboard.service import home_data, upstream_facts
from governance.export.cyclonedx import validate_bom
from governance.export.service import export_text
from governance.registry.models import Approval
from governance.scan.service import ScanReport, scan_tree
from tests.support.hub_derivatives import (
    ADAPTER,
    BASE,
    GGUF,
    SECOND_BASE,
    add_adapter,
    add_apache_base,
    add_finetune,
    add_gguf,
    add_llama_base,
)
from tests.support.license_fixtures import Governed, governed

MISMATCH = (
    f"{GGUF} says apache-2.0; its base {BASE} is under the Llama 3.1 Community License "
    "Agreement, which binds it."
)


@pytest.fixture
def gov(settings: Settings, clock: FrozenClock) -> Iterator[Governed]:
    yield from governed(settings, clock)


def _gguf_of_llama(gov: Governed, **gguf: object) -> None:
    add_llama_base(gov.hub)
    add_gguf(gov.hub, **gguf)  # type: ignore[arg-type]
    gov.track(GGUF)
    gov.cycle()  # the GGUF's first snapshot; its base gets tracked read-only
    gov.cycle()  # the base's first snapshot


def test_license_check_flags_a_gguf_labelled_apache_of_a_llama_base(gov: Governed) -> None:
    _gguf_of_llama(gov)
    reply = gov.run(f"/models license-check {GGUF}")
    assert MISMATCH in reply.text
    # The GGUF ships neither the license nor the use policy its base carries.
    assert f"{GGUF} dropped the LICENSE that its base {BASE} ships" in reply.text
    assert f"{GGUF} dropped the USE_POLICY.md that its base {BASE} ships" in reply.text
    lineage = reply.data["lineage"]
    assert lineage["relation"] == "quantized"
    assert lineage["binding_licenses"] == ["llama3.1"]
    codes = {f["code"] for f in lineage["findings"]}
    assert {"derivative_license_mismatch", "derivative_dropped_file"} <= codes
    blocks = str(reply.blocks)
    assert "Binding terms:* Llama 3.1 Community License Agreement (the base&#x27;s)" not in blocks
    assert "*Binding terms:* Llama 3.1 Community License Agreement (the base's)" in blocks


def test_info_shows_lineage_binding_and_the_read_only_base(gov: Governed) -> None:
    _gguf_of_llama(gov)
    info = gov.run(f"/models info {GGUF}")
    blocks = str(info.blocks)
    assert "*Lineage:* quantized from meta-llama/Llama-3.1-8B-Instruct" in blocks
    assert f"base *{BASE}*: not approved" in blocks
    assert "needs its own approval" in blocks  # the default policy: review
    assert info.data["lineage"]["bases"] == [
        {"repo_id": BASE, "tracked": True, "standing": "not approved"}
    ]
    base = gov.run(f"/models info {BASE}")
    assert f"Tracked read-only as the base of {GGUF}" in str(base.blocks)
    assert f"*Derivatives tracked:* {GGUF} (quantized)" in str(base.blocks)
    assert base.data["lineage"]["tracked_read_only"] is True


def test_a_gguf_that_keeps_its_bases_license_agrees(gov: Governed) -> None:
    llama = "LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\n"
    files: dict[str, str | bytes] = {"x-Q4_K_M.gguf": b"GGUF", "USE_POLICY.md": "policy"}
    files["LICENSE"] = llama
    _gguf_of_llama(gov, license="llama3.1", files=files)
    reply = gov.run(f"/models license-check {GGUF}")
    codes = {f["code"] for f in reply.data["lineage"]["findings"]}
    assert "derivative_license_mismatch" not in codes
    assert "derivative_dropped_file" not in codes


def test_fine_tune_of_two_bases_is_bound_only_by_the_one_that_forbids_relicensing(
    gov: Governed,
) -> None:
    add_llama_base(gov.hub)
    add_apache_base(gov.hub)
    repo = "acme/Llama-3.1-8B-Support"
    add_finetune(gov.hub, repo, bases=[BASE, SECOND_BASE], license="mit")
    gov.track(repo)
    gov.cycle()
    gov.cycle()
    lineage = gov.run(f"/models license-check {repo}").data["lineage"]
    assert lineage["relation"] == "finetune"
    assert [b["repo_id"] for b in lineage["bases"]] == [BASE, SECOND_BASE]
    assert lineage["binding_licenses"] == ["llama3.1"]  # Apache-2.0 lets it carry other terms
    messages = [f["message"] for f in lineage["findings"]]
    assert f"{repo} says mit; its base {BASE} is under the Llama 3.1 Community License " in (
        " ".join(messages)
    )
    assert any(
        m.startswith(f"Its base {SECOND_BASE} is under Apache License 2.0, which lets a fine-tune")
        for m in messages
    )


def test_inherit_policy_lets_an_approved_base_cover_its_gguf_and_adapter(gov: Governed) -> None:
    _gguf_of_llama(gov)
    add_adapter(gov.hub)
    gov.track(ADAPTER)
    gov.cycle()
    base_approval = gov.request(BASE)
    gov.approve(base_approval)
    assert "needs its own approval" in str(gov.run(f"/models info {GGUF}").blocks)
    assert gov.run("/models policy set derivatives inherit", user="bob").ok
    info = gov.run(f"/models info {GGUF}")
    expected = (
        f"covered by approval #{base_approval} (commercial use) of its base {BASE}: "
        "a quantized copy, under the policy derivatives: inherit"
    )
    assert expected in str(info.blocks)
    assert info.data["lineage"]["covered_by"] == [
        {"approval_id": base_approval, "use": "commercial", "base": BASE}
    ]
    adapter = gov.run(f"/models info {ADAPTER}").data["lineage"]
    assert adapter["relation"] == "adapter" and adapter["covered_by"]
    refused = gov.run("/models policy set derivatives always", user="bob")
    assert not refused.ok and "derivatives takes inherit or review" in refused.text


def test_scan_resolves_gguf_references_to_their_base_under_the_policy(
    gov: Governed, tmp_path: Path
) -> None:
    _gguf_of_llama(gov)
    (tmp_path / "Modelfile").write_text(f"FROM hf.co/{GGUF}:Q4_K_M\nPARAMETER temperature 0\n")
    (tmp_path / "chat.py").write_text(
        f'import ollama\nollama.chat(model="hf.co/{GGUF}:Q4_K_M", messages=[])\n'
    )
    (tmp_path / "serve.sh").write_text(f"llama-server -hf {GGUF}:Q8_0 --port 8080\n")
    today = gov.services.clock.now().date()

    def scan() -> ScanReport:
        with transaction(gov.services.session_factory) as session:
            return scan_tree(session, root=tmp_path, today=today)

    report = scan()
    (gguf,) = report.models
    assert gguf.repo_id == GGUF and sorted(r.quant or "" for r in gguf.refs) == [
        "Q4_K_M",
        "Q4_K_M",
        "Q8_0",
    ]
    assert not report.ok and gguf.status == "not approved"  # nothing approved yet
    base_approval = gov.request(BASE)
    gov.approve(base_approval)
    report = scan()
    assert not report.ok  # review (the default): the base's approval is shown, not inherited
    assert f"a quantized copy of {BASE} (approved)" in report.models[0].detail
    assert "needs its own approval" in report.models[0].detail
    assert gov.run("/models policy set derivatives inherit", user="bob").ok
    report = scan()
    assert report.ok and report.models[0].status == "approved"
    assert report.models[0].detail == (
        f"covered by approval #{base_approval} (commercial use) of its base {BASE}: "
        "a quantized copy, under the policy derivatives: inherit"
    )
    data = report.data()["models"][0]
    assert data["lineage"]["covered_by"][0]["approval_id"] == base_approval
    assert {
        "path": "Modelfile",
        "line": 1,
        "how": "huggingface.co URL (GGUF Q4_K_M)",
        "quant": "Q4_K_M",
    } in data["locations"]


def test_bom_makes_the_derivative_depend_on_its_base_with_the_relation(gov: Governed) -> None:
    _gguf_of_llama(gov)
    with transaction(gov.services.session_factory) as session:
        text = export_text(session, fmt="cyclonedx", clock=gov.services.clock)
    assert validate_bom(text) is None
    bom = json.loads(text)
    by_ref = {c["bom-ref"]: c for c in bom["components"]}
    gguf = by_ref[GGUF]
    props = {p["name"]: p["value"] for p in gguf["properties"]}
    assert props["modelgov:base_model_relation"] == "quantized"
    assert props["modelgov:base_model"] == BASE
    assert props["modelgov:binding_license"] == "llama3.1"
    # Declared on the card (Apache-2.0) and concluded (the base's Llama 3.1 license).
    licenses = [lic["license"] for lic in gguf["licenses"]]
    assert {"id": "Apache-2.0", "acknowledgement": "declared"} in licenses
    assert any(
        lic.get("name") == "Llama 3.1 Community License Agreement"
        and lic["acknowledgement"] == "concluded"
        for lic in licenses
    )
    depends = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert depends[GGUF] == [BASE]
    assert BASE in by_ref and by_ref[BASE]["purl"].startswith("pkg:huggingface/meta-llama/")


def _texts(blocks: list[dict[str, Any]]) -> str:
    found = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            found.append(block["text"]["text"])
        found += [f for f in block.get("fields", []) if isinstance(f, str)]
    return "\n".join(found)


def test_home_tab_and_request_card_show_lineage(gov: Governed) -> None:
    _gguf_of_llama(gov)
    base_approval = gov.request(BASE)
    gov.approve(base_approval)
    gguf_request = gov.request(GGUF)
    now = gov.services.clock.now()
    with transaction(gov.services.session_factory) as session:
        home = _texts(home_view(home_data(session, today=now.date()), now=now)["blocks"])
        approval = session.get(Approval, gguf_request)
        assert approval is not None
        card = request_card(approval, upstream_facts(session, approval.model_id, today=now.date()))
    assert ":dna: *Derivatives* (1)" in home
    assert f"*{GGUF}* · quantized from {BASE}" in home
    assert "bound by Llama 3.1 Community License Agreement" in home
    assert f":no_entry: {MISMATCH}" in home
    # The pending derivative request names its base's approval and standing: one look.
    text = _texts(card.blocks)
    assert f"*Derivative:* quantized from {BASE}" in text
    assert f"• base *{BASE}*: approved (#{base_approval} commercial)" in text
    assert "_Team policy derivatives: review: it needs its own approval._" in text
    assert f":no_entry: {MISMATCH}" in text


def _ask(gov: Governed, question: str) -> Answer:
    s = gov.services
    return answer(
        question,
        session_factory=s.session_factory,
        clock=s.clock,
        runtime=None,
        settings=s.settings,
    )


def test_ask_says_derivative_coverage_exactly(gov: Governed) -> None:
    _gguf_of_llama(gov)
    base_approval = gov.request(BASE)
    gov.approve(base_approval)
    question = f"Is {GGUF} approved for commercial use?"
    review = _ask(gov, question)
    assert review.kind == "exact", review
    assert (
        f"{GGUF} is quantized from {BASE}; its base {BASE} is approved (#{base_approval} "
        "commercial). Under the team policy derivatives: review, it needs its own approval."
    ) in review.text
    assert "Its base's license binds it: Llama 3.1 Community License Agreement." in review.text
    assert gov.run("/models policy set derivatives inherit", user="bob").ok
    inherit = _ask(gov, question)
    assert inherit.text.startswith(
        f"Yes. {GGUF} is covered by approval #{base_approval} (commercial use) of its base "
        f"{BASE}: a quantized copy, under the policy derivatives: inherit."
    ), inherit.text
    research = _ask(gov, f"Is {GGUF} approved for research use?")
    assert not research.text.startswith("Yes."), (
        research.text
    )  # the base is approved for commercial only


def test_list_names_what_a_base_approval_covers_and_a_derivatives_base(gov: Governed) -> None:
    _gguf_of_llama(gov)
    base_approval = gov.request(BASE)
    gov.approve(base_approval)
    gguf_request = gov.request(GGUF)
    review = gov.run("/models list")
    assert (
        f"#{gguf_request} {GGUF}: quantized from {BASE} (inferred from the Hub's tag "
        f"base_model:quantized:{BASE}); base {BASE}: approved"
    ) in review.text
    assert "also covers" not in review.text  # review: nothing is covered
    assert gov.run("/models policy set derivatives inherit", user="bob").ok
    inherit = gov.run("/models list")
    assert (
        f"#{base_approval} {BASE} (commercial use) also covers {GGUF} (quantized) under the "
        "policy derivatives: inherit"
    ) in inherit.text
    assert (
        f"#{gguf_request} {GGUF}: covered by approval #{base_approval} (commercial use) of its "
        f"base {BASE}"
    ) in inherit.text
    assert inherit.data["lineage_notes"]


def test_team_policy_judges_a_derivative_by_the_license_that_binds_it(gov: Governed) -> None:
    _gguf_of_llama(gov)
    assert gov.run("/models policy set denied-licenses llama3.1", user="bob").ok
    request = gov.run(f"/models request {GGUF} --use commercial", user="carol")
    assert request.data["policy"]["license_id"] == "llama3.1"  # not the card's apache-2.0
    refused = gov.run(f"/models approve {GGUF}", user="bob")
    assert not refused.ok and "Team policy blocks approving" in refused.text
    assert "denied-licenses" in refused.text


def test_info_on_an_untracked_gguf_shows_its_lineage_from_the_hub(gov: Governed) -> None:
    add_llama_base(gov.hub)
    add_gguf(gov.hub)
    reply = gov.run(f"/models info {GGUF}")
    assert f"*Lineage:* quantized from {BASE}" in str(reply.blocks)
    assert reply.data["lineage"] == {
        "bases": [BASE],
        "relation": "quantized",
        "relation_source": f"inferred from the Hub's tag base_model:quantized:{BASE}",
    }
