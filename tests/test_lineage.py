"""Lineage (issue 14): bases and relations read from cards, tags and files; stored with each
snapshot; bases of watched derivatives tracked read-only; a base's terms change reaching every
watched derivative once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.core.db import transaction
from governance.registry.models import ApprovalState, AuditEvent
from governance.registry.tracking import find_model
from governance.upstream.check_requests import CheckRequest
from governance.upstream.lineage import ASSUMED_SOURCE, CARD_SOURCE, lineage_of, parse_gguf_ref
from governance.upstream.lineage_queries import derivatives_of, latest_lineage
from governance.upstream.models import Snapshot, SnapshotBase
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


@pytest.fixture
def gov(settings: Settings, clock: FrozenClock) -> Iterator[Governed]:
    yield from governed(settings, clock)


# ---------------------------------------------------------------------------- pure parsing


def test_card_relation_is_taken_as_stated() -> None:
    found = lineage_of(base_model=[BASE], relation="Quantized", tags=["gguf"], files=None)
    assert found is not None
    assert (found.bases, found.relation, found.source) == ((BASE,), "quantized", CARD_SOURCE)


def test_hub_relation_tag_is_used_when_the_card_is_silent_and_said_so() -> None:
    tags = ["gguf", f"base_model:{BASE}", f"base_model:adapter:{BASE}"]
    found = lineage_of(base_model=[BASE], relation=None, tags=tags, files=None)
    assert found is not None and found.relation == "adapter"
    assert found.source == f"inferred from the Hub's tag base_model:adapter:{BASE}"


def test_tags_and_files_infer_the_relation_and_name_the_evidence() -> None:
    gguf = lineage_of(base_model=[BASE], relation=None, tags=["gguf"], files=["m-Q4_K_M.gguf"])
    assert gguf is not None and gguf.relation == "quantized"
    assert gguf.source == "inferred from the gguf tag and the *.gguf files"
    files = ["adapter_config.json", "adapter_model.safetensors", "x.gguf"]
    adapter = lineage_of(base_model=[BASE], relation=None, tags=[], files=files)
    assert adapter is not None and adapter.relation == "adapter"  # adapter files win
    assert adapter.source == "inferred from adapter_config.json and adapter_model.safetensors"
    merge = lineage_of(base_model=[BASE, SECOND_BASE], relation=None, tags=["merge"], files=[])
    assert merge is not None and merge.relation == "merge" and merge.bases == (BASE, SECOND_BASE)


def test_no_evidence_is_the_hubs_default_said_to_be_an_assumption() -> None:
    found = lineage_of(base_model=[BASE], relation=None, tags=["transformers"], files=[])
    assert found is not None and (found.relation, found.source) == ("finetune", ASSUMED_SOURCE)


def test_original_models_and_non_ids_have_no_lineage() -> None:
    assert lineage_of(base_model=[], relation=None, tags=["llama"], files=[]) is None
    non_ids = ["./local/ckpt", "https://x"]
    assert lineage_of(base_model=non_ids, relation=None, tags=[], files=[]) is None
    assert lineage_of(base_model=["./ckpt"], relation="finetune", tags=[], files=[]) is None
    # Only the tags name a base (a listing item without cardData): taken from them.
    found = lineage_of(
        base_model=[], relation=None, tags=[f"base_model:quantized:{BASE}"], files=None
    )
    assert found is not None and found.bases == (BASE,) and found.relation == "quantized"


def test_gguf_references_in_the_ollama_form() -> None:
    ref = parse_gguf_ref(f"hf.co/{GGUF}:Q4_K_M")
    assert ref is not None and (ref.repo_id, ref.quant) == (GGUF, "Q4_K_M")
    bare = parse_gguf_ref(f"https://huggingface.co/{GGUF}")
    assert bare is not None and (bare.repo_id, bare.quant) == (GGUF, None)
    assert parse_gguf_ref("llama3.1:8b") is None  # an Ollama library tag, not a Hub repo
    assert parse_gguf_ref(f"hf.co/{GGUF}:Q4 K") is None


# ---------------------------------------------------------------------------- the watcher


def test_gguf_snapshot_stores_lineage_and_tracks_its_base_read_only(gov: Governed) -> None:
    add_llama_base(gov.hub)
    add_gguf(gov.hub)
    gov.track(GGUF)
    gov.cycle()
    with transaction(gov.services.session_factory) as session:
        gguf = find_model(session, GGUF)
        base = find_model(session, BASE)
        assert gguf is not None and base is not None
        snapshot = session.scalars(select(Snapshot).where(Snapshot.model_id == gguf.id)).one()
        assert snapshot.base_model == [BASE]
        assert snapshot.base_model_relation == "quantized"
        # The card states no relation: the Hub's relation tag is the evidence, and said so.
        assert snapshot.lineage_source == f"inferred from the Hub's tag base_model:quantized:{BASE}"
        rows = session.scalars(select(SnapshotBase)).all()
        assert [(r.base_key, r.relation) for r in rows] == [(BASE.lower(), "quantized")]
        # The base: tracked and watched, nobody requested it, a check queued at once.
        assert base.watched and base.approvals == []
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.model_id == base.id, AuditEvent.action == "tracked_as_base"
            )
        ).one()
        assert event.detail is not None and f"base of {GGUF} (quantized)" in event.detail
        assert session.get(CheckRequest, base.id) is not None
        assert [(d.repo_id, r) for d, r in derivatives_of(session, base)] == [(GGUF, "quantized")]
    gov.cycle()  # the base's first check: no change, and no second tracking of anything
    with transaction(gov.services.session_factory) as session:
        base = find_model(session, BASE)
        gguf = find_model(session, GGUF)
        assert base is not None and gguf is not None
        found = latest_lineage(session, gguf)
        assert found is not None and [link.model for link in found.bases] == [base]
        assert latest_lineage(session, base) is None
    assert gov.alerts("base_terms_changed") == []


def test_fine_tune_with_two_bases_tracks_both(gov: Governed) -> None:
    add_llama_base(gov.hub)
    add_apache_base(gov.hub)
    add_finetune(gov.hub, "acme/Llama-3.1-8B-Support", bases=[BASE, SECOND_BASE])
    gov.track("acme/Llama-3.1-8B-Support")
    gov.cycle()
    with transaction(gov.services.session_factory) as session:
        model = find_model(session, "acme/Llama-3.1-8B-Support")
        assert model is not None
        found = latest_lineage(session, model)
        assert found is not None
        assert found.lineage.bases == (BASE, SECOND_BASE)
        assert (found.lineage.relation, found.lineage.source) == ("finetune", CARD_SOURCE)
        assert all(link.model is not None for link in found.bases)


def test_base_license_change_alerts_each_watched_derivative_once(gov: Governed) -> None:
    add_llama_base(gov.hub)
    add_gguf(gov.hub)
    add_gguf(gov.hub, "lmstudio-community/Meta-Llama-3.1-8B-Instruct-GGUF", license="llama3.1")
    add_adapter(gov.hub)
    for repo in (BASE, GGUF, "lmstudio-community/Meta-Llama-3.1-8B-Instruct-GGUF", ADAPTER):
        gov.track(repo)
    approval = gov.request(GGUF)
    gov.approve(approval)
    gov.cycle()
    assert gov.alerts("base_terms_changed") == []
    gov.hub.set_license(BASE, "llama3.2")  # the card moves to another license
    report = gov.cycle()
    alerts = gov.alerts("base_terms_changed")
    derivatives = sorted(a.payload["repo_id"] for a in alerts)
    assert derivatives == sorted(
        [GGUF, "lmstudio-community/Meta-Llama-3.1-8B-Instruct-GGUF", ADAPTER]
    )
    assert all(f"Its base {BASE} changed terms" in a.title for a in alerts)
    assert sum(1 for _, kind, _ in report.changes if kind == "base_terms_changed") == 3
    # The derivative's approval was granted under terms that bind it no longer: in review.
    assert gov.state(approval) is ApprovalState.NEEDS_REVIEW
    gov.cycle()  # nothing new upstream: nothing new raised
    gov.cycle()
    assert len(gov.alerts("base_terms_changed")) == 3
    gov.hub.commit(BASE, files={"config.json": '{"model_type": "llama", "x": 1}'})
    gov.cycle()  # a new revision under the same terms is not a change of terms
    assert len(gov.alerts("base_terms_changed")) == 3
