"""The license knowledge base loads, validates, and covers every license id the Hub offers."""

from __future__ import annotations

import copy

import pytest
import yaml

from governance.core.errors import NotFound
from governance.licenses.knowledge import (
    DATA_FILE,
    KnowledgeBaseError,
    load_knowledge_base,
    parse_knowledge_base,
)

# The Hub's model license ids (huggingface.co/docs/hub/repositories-licenses), kept here
# independently of the YAML so that dropping one from the data file fails this test.
HUB_IDS = [
    "apache-2.0",
    "mit",
    "openrail",
    "bigscience-openrail-m",
    "creativeml-openrail-m",
    "bigscience-bloom-rail-1.0",
    "bigcode-openrail-m",
    "afl-3.0",
    "artistic-2.0",
    "bsl-1.0",
    "bsd",
    "bsd-2-clause",
    "bsd-3-clause",
    "bsd-3-clause-clear",
    "c-uda",
    "cc",
    "cc0-1.0",
    "cc-by-2.0",
    "cc-by-2.5",
    "cc-by-3.0",
    "cc-by-4.0",
    "cc-by-sa-3.0",
    "cc-by-sa-4.0",
    "cc-by-nc-2.0",
    "cc-by-nc-3.0",
    "cc-by-nc-4.0",
    "cc-by-nd-4.0",
    "cc-by-nc-nd-3.0",
    "cc-by-nc-nd-4.0",
    "cc-by-nc-sa-2.0",
    "cc-by-nc-sa-3.0",
    "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0",
    "cdla-permissive-1.0",
    "cdla-permissive-2.0",
    "wtfpl",
    "ecl-2.0",
    "epl-1.0",
    "epl-2.0",
    "etalab-2.0",
    "eupl-1.1",
    "eupl-1.2",
    "agpl-3.0",
    "gfdl",
    "gpl",
    "gpl-2.0",
    "gpl-3.0",
    "lgpl",
    "lgpl-2.1",
    "lgpl-3.0",
    "isc",
    "h-research",
    "intel-research",
    "lppl-1.3c",
    "ms-pl",
    "apple-ascl",
    "apple-amlr",
    "mpl-2.0",
    "odc-by",
    "odbl",
    "openmdw-1.0",
    "openrail++",
    "osl-3.0",
    "postgresql",
    "ofl-1.1",
    "ncsa",
    "unlicense",
    "zlib",
    "pddl",
    "lgpl-lr",
    "deepfloyd-if-license",
    "fair-noncommercial-research-license",
    "llama2",
    "llama3",
    "llama3.1",
    "llama3.2",
    "llama3.3",
    "llama4",
    "gemma",
    "unknown",
    "other",
]


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))


def test_every_hub_id_has_an_entry() -> None:
    kb = load_knowledge_base()
    for hub_id in HUB_IDS:
        terms = kb.get(hub_id)
        assert terms.hub_id, hub_id
        assert terms.source.startswith("https://"), hub_id
    assert set(HUB_IDS) <= set(kb.hub_ids())


def test_common_other_licenses_resolve_by_license_name() -> None:
    kb = load_knowledge_base()
    expected = {
        "mrl": "mrl",
        "tongyi-qianwen": "tongyi-qianwen",
        "tongyi-qianwen-research": "tongyi-qianwen-research",
        "qwen-research": "qwen-research",
        "deepseek": "deepseek",
        "deepseek-license": "deepseek",
        "falcon-180b-license": "falcon-180b-license",
        "falcon-llm-license": "falcon-llm-license",
        "nvidia-open-model-license": "nvidia-open-model-license",
        "mnpl": "mnpl",
    }
    for name, license_id in expected.items():
        assert kb.get(name).id == license_id


def test_key_facts() -> None:
    kb = load_knowledge_base()
    llama3, llama31, llama32 = kb.get("llama3"), kb.get("llama3.1"), kb.get("llama3.2")
    assert llama3.attribution == ("Built with Meta Llama 3",)
    assert llama3.naming_rule == "Llama 3"
    assert llama3.output_restriction is True
    assert llama31.attribution == ("Built with Llama",)
    assert llama31.output_restriction is False
    assert llama31.user_threshold == 700_000_000
    assert llama31.commercial_use == "conditional"
    assert llama31.use_policy_url and "llama3_1" in llama31.use_policy_url
    assert llama32.geographic_restrictions and "EU" in llama32.geographic_restrictions[0]
    assert kb.get("llama2").release_date.isoformat() == "2023-07-18"
    assert kb.get("llama4").release_date.isoformat() == "2025-04-05"
    assert kb.get("tongyi-qianwen").user_threshold == 100_000_000
    assert kb.get("tongyi-qianwen").output_restriction is True
    assert kb.get("qwen-research").research_only is True
    assert kb.get("mrl").commercial_use == "no"
    assert kb.get("cc-by-nc-4.0").commercial_use == "no"
    assert kb.get("gemma").remote_restriction is True
    assert kb.get("gemma").must_update is True
    assert kb.get("deepseek").flow_down is True


def test_osi_approval_and_spdx() -> None:
    kb = load_knowledge_base()
    for osi in ("apache-2.0", "mit", "bsd-3-clause", "isc", "mpl-2.0", "gpl-3.0", "agpl-3.0"):
        assert kb.get(osi).osi_approved is True, osi
        assert kb.get(osi).is_spdx
    for terms in kb.all():
        if terms.kind == "model" or terms.family in ("creative-commons", "openrail"):
            assert terms.osi_approved is not True, terms.id
        assert terms.is_spdx or terms.spdx.startswith("LicenseRef-")
    assert kb.get("llama3.1").spdx.startswith("LicenseRef-")


def test_unknown_means_none_not_false() -> None:
    kb = load_knowledge_base()
    for placeholder in ("unknown", "other"):
        terms = kb.get(placeholder)
        assert terms.commercial_use == "unknown"
        assert terms.output_restriction is None
        assert terms.osi_approved is None


def test_get_is_case_insensitive_and_unknown_raises_with_suggestions() -> None:
    kb = load_knowledge_base()
    assert kb.get("Apache-2.0").id == "apache-2.0"
    assert kb.get("LLAMA3_1").id == "llama3.1"
    with pytest.raises(NotFound) as error:
        kb.get("llama3.7")
    assert "llama3.1" in error.value.message or "llama3.2" in error.value.message
    assert kb.find("nonsense-license") is None


def test_malformed_entry_fails_loudly_naming_it(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    entry = next(e for e in broken["licenses"] if e["id"] == "llama3.1")
    del entry["output_restriction"]
    with pytest.raises(KnowledgeBaseError, match=r"llama3\.1.*output_restriction"):
        parse_knowledge_base(broken)

    broken = copy.deepcopy(raw)
    next(e for e in broken["licenses"] if e["id"] == "mit")["commercial_use"] = "maybe"
    with pytest.raises(KnowledgeBaseError, match="'mit'"):
        parse_knowledge_base(broken)

    broken = copy.deepcopy(raw)
    broken["licenses"] = [e for e in broken["licenses"] if e["id"] != "gemma"]
    with pytest.raises(KnowledgeBaseError, match="gemma"):
        parse_knowledge_base(broken)


def test_load_is_cached() -> None:
    assert load_knowledge_base() is load_knowledge_base()
