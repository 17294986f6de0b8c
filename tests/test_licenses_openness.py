"""Openness verdicts for representative models, built from plain Hub facts."""

from __future__ import annotations

import pytest

from governance.licenses.knowledge import load_knowledge_base
from governance.licenses.openness import (
    OpennessFacts,
    Override,
    assess_openness,
    license_openness,
)

WEIGHTS = ("README.md", "config.json", "model.safetensors", "tokenizer.json")


def _facts(license_id: str, **kwargs) -> OpennessFacts:
    return OpennessFacts(license_id, load_knowledge_base().get(license_id), **kwargs)


def olmo_like() -> OpennessFacts:
    return _facts(
        "apache-2.0",
        tags=("transformers", "dataset:allenai/dolma", "arxiv:2402.00838", "arxiv:1910.09700"),
        card_data={"license": "apache-2.0", "library_name": "transformers"},
        card_text="# OLMo\n- Training and pretraining code: https://github.com/allenai/OLMo\n",
        files=WEIGHTS,
    )


def test_fully_open_model() -> None:
    result = assess_openness(olmo_like())
    assert {c.status for c in result.components} == {"open"}
    assert result.osi.passed and result.osi.result == "open source AI"
    assert result.mof.result == "Class I"
    assert result.spectrum.result == "fully open"
    assert "https://github.com/allenai/OLMo" in " ".join(result.component("training_code").evidence)
    assert result.component("paper").evidence == ("arXiv:2402.00838",)


def test_llama_like_gated_model() -> None:
    facts = _facts(
        "llama3.1",
        tags=("transformers", "arxiv:2407.21783", "license:llama3.1"),
        card_data={"library_name": "transformers"},
        card_text="# Llama 3.1",
        files=(*WEIGHTS, "LICENSE", "USE_POLICY.md"),
        gated="manual",
    )
    result = assess_openness(facts)
    assert result.component("weights").status == "partial"
    assert not result.osi.passed
    assert any(m.startswith("weights") for m in result.osi.missing)
    assert result.mof.result == "none"
    assert result.spectrum.result == "restricted weights"
    assert "gated (manual)" in result.spectrum.explanation
    assert "Llama 3.1 Community License" in result.spectrum.explanation


def test_apache_weights_only_model() -> None:
    result = assess_openness(
        _facts("apache-2.0", tags=("transformers",), card_text="A model.", files=WEIGHTS)
    )
    assert result.component("weights").status == "open"
    assert result.component("training_code").status == "unknown"
    assert result.component("training_data").status == "unknown"
    assert result.spectrum.result == "open weights"
    assert result.mof.result == "Class III (conditional pass)"
    assert not result.mof.passed
    assert not result.osi.passed
    assert "training code (unknown)" in result.osi.missing


def test_cc_by_nc_model() -> None:
    result = assess_openness(
        _facts("cc-by-nc-4.0", tags=("transformers",), card_text="A model.", files=WEIGHTS)
    )
    assert result.component("weights").status == "partial"
    assert result.spectrum.result == "restricted weights"
    assert not result.osi.passed
    assert result.mof.result == "none"


def test_no_weights_is_gated_or_closed() -> None:
    result = assess_openness(
        _facts("other", files=("README.md",), card_text="Ask us.", gated="manual")
    )
    assert result.component("weights").status == "closed"
    assert result.spectrum.result == "gated or closed"


def test_fine_tune_data_is_only_partial() -> None:
    facts = _facts(
        "apache-2.0",
        tags=("transformers", "dataset:org/sft-mix", "base_model:org/base"),
        card_text="x",
        files=WEIGHTS,
    )
    assert assess_openness(facts).component("training_data").status == "partial"


def test_reviewer_override_wins_and_is_recorded() -> None:
    base = olmo_like()
    overridden = OpennessFacts(
        base.license_id,
        base.terms,
        base.tags,
        base.card_data,
        base.card_text,
        base.files,
        overrides={
            "training_data": Override("closed", "https://example.org/review/42", reviewer="ana")
        },
    )
    result = assess_openness(overridden)
    data = result.component("training_data")
    assert data.overridden and data.status == "closed"
    assert data.evidence == ("reviewer override by ana: https://example.org/review/42",)
    assert result.spectrum.result == "open weights"
    assert result.mof.result == "Class II"
    with pytest.raises(ValueError, match="unknown openness component"):
        assess_openness(
            OpennessFacts("mit", None, overrides={"vibes": Override("open", "https://x.org")})
        )


def test_license_openness() -> None:
    kb = load_knowledge_base()
    assert license_openness(kb.get("mit")) == "open"
    assert license_openness(kb.get("cc-by-4.0")) == "open"
    assert license_openness(kb.get("cc-by-nd-4.0")) == "restricted"
    assert license_openness(kb.get("gemma")) == "restricted"
    assert license_openness(kb.get("unknown")) == "unknown"
    assert license_openness(None) == "unknown"
