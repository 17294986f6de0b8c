"""How the exact path reads a question, without a database: time words against the clock,
typo repair, people, loose model names (acronyms, version numbers, spelled-out names),
licenses named (openrail++ apart from openrail), cue families, and the concept explainers'
validation."""

from __future__ import annotations

from datetime import date

import pytest

from governance.assistant.exact_cues import actions_asked, read_extra_cues, topics_asked
from governance.assistant.exact_time import window_of
from governance.assistant.exact_words import people_named, repair_typos
from governance.assistant.resolve import licenses_named, match_license, match_model
from governance.licenses.concepts import concept_asked, load_concepts, parse_concepts
from governance.licenses.knowledge import KnowledgeBaseError, load_knowledge_base
from tests.support.tracked_models import unsaved_models

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("question", "future", "start", "end"),
    [
        ("what expires before July", True, None, date(2027, 7, 1)),
        ("what was approved before July", False, None, date(2026, 7, 1)),
        ("what did we approve this year", False, date(2026, 1, 1), date(2027, 1, 1)),
        ("what was rejected last year", False, date(2025, 1, 1), date(2026, 1, 1)),
        ("requests last month", False, date(2026, 10, 1), date(2026, 11, 1)),
        ("what expires next month", True, date(2026, 12, 1), date(2027, 1, 1)),
        ("what expires next week", True, date(2026, 11, 30), date(2026, 12, 7)),
        ("approved in the last 30 days", False, date(2026, 10, 28), date(2026, 11, 28)),
        ("expiring in the next 14 days", True, TODAY, date(2026, 12, 12)),
        ("since September", False, date(2026, 9, 1), None),
        ("after 2026-10-01", False, date(2026, 10, 2), None),
        ("in March 2026", False, date(2026, 3, 1), date(2026, 4, 1)),
        ("approved in 2025", False, date(2025, 1, 1), date(2026, 1, 1)),
        ("expires by the end of June", True, None, date(2027, 7, 1)),
        ("what happened today", False, TODAY, date(2026, 11, 28)),
        ("approved this quarter", False, date(2026, 10, 1), date(2027, 1, 1)),
        ("rejected last quarter", False, date(2026, 7, 1), date(2026, 10, 1)),
        ("what expires before next month", True, None, date(2026, 12, 1)),
        ("what expires before the end of next month", True, None, date(2027, 1, 1)),
        ("expiring until the end of this year", True, None, date(2027, 1, 1)),
        ("approved since last month", False, date(2026, 10, 1), None),
        ("requested after this week", False, date(2026, 11, 30), None),
        ("what expires before the end of June", True, None, date(2027, 7, 1)),
        ("what expires before the start of June", True, None, date(2027, 6, 1)),
    ],
)
def test_time_words_are_read_against_the_clock(
    question: str, future: bool, start: date | None, end: date | None
) -> None:
    window = window_of(question, TODAY, future=future)
    assert window is not None and (window.start, window.end) == (start, end)


@pytest.mark.parametrize("question", ["who approved it and by whom?", "is llama 2 ok?", "may we?"])
def test_no_time_words_no_window(question: str) -> None:
    assert window_of(question, TODAY) is None


@pytest.mark.parametrize(
    ("typed", "repaired"),
    [
        ("why was gemma rejcted?", "why was gemma rejected?"),
        ("what was revokd", "what was revoked"),
        ("list everything aproved", "list everything approved"),
        ("what does the licnese requre", "what does the license require"),
        ("what happend to x", "what happened to x"),
        ("condtions of the approval", "conditions of the approval"),
        ("which were removed", "which were removed"),
        ("improve another model", "improve another model"),
    ],
)
def test_typos_are_repaired_towards_cue_words(typed: str, repaired: str) -> None:
    assert repair_typos(typed) == repaired


def test_typo_repair_leaves_model_and_person_words_alone() -> None:
    assert repair_typos("what did revoke request", protected={"revoke"}) == (
        "what did revoke request"
    )
    assert repair_typos("aproved by tamra", protected={"tamra"}) == "approved by tamra"


def test_people_are_whoever_the_registry_holds() -> None:
    people = {"gina", "U04ABC123", "frank"}
    assert people_named("What did gina's team request? GINA again", people) == ["gina"]
    assert people_named("decisions by u04abc123", people) == ["U04ABC123"]
    assert people_named("what did <@U04ABC123> request?", people) == ["U04ABC123"]
    assert people_named("what did alice approve?", people) == []
    wordlike = {"may", "will"}
    assert people_named("May outputs of Llama 2 train other models?", wordlike) == []
    assert people_named("Will it expire?", wordlike) == []
    assert people_named("what did may approve? and will's requests", wordlike) == ["may", "will"]


def test_cue_families() -> None:
    assert actions_asked("which models did frank decide on?") >= {"approved", "rejected"}
    assert actions_asked("what was turned down") == {"rejected"}
    assert actions_asked("who pulled it") == {"revoked"}
    assert actions_asked("what has she approved or rejected?") >= {"revoked", "reapproved"}
    assert "needs_review" in actions_asked("why is it under review")
    assert topics_asked("may outputs be used to improve another LLM?")[0] == "outputs"
    assert topics_asked("can I distill it") == ("outputs",)
    assert topics_asked("can we use it in the EU?") == ("geography",)
    extra = read_extra_cues("Why was gemma rejected?")
    assert extra.why and not extra.history and extra.in_domain
    assert not read_extra_cues("tell me a joke").in_domain


CATALOG = unsaved_models(
    "stabilityai/stable-diffusion-xl-base-1.0",
    "stable-diffusion-v1-5/stable-diffusion-v1-5",
    "stabilityai/stable-diffusion-2-1",
    "deepseek-ai/DeepSeek-R1",
    "deepseek-ai/DeepSeek-V3",
    "meta-llama/Meta-Llama-3-70B",
    "meta-llama/Llama-3.3-70B-Instruct",
    "meta-llama/Meta-Llama-3-8B-Instruct",
    "meta-llama/Llama-3.1-405B-Instruct",
    "nvidia/Llama-3.1-Nemotron-70B-Instruct-HF",
    "DeepFloyd/IF-I-XL-v1.0",
    "google/gemma-2-2b-it",
    "Qwen/QwQ-32B",
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("why was stable diffusion xl revoked?", "stabilityai/stable-diffusion-xl-base-1.0"),
        ("what happened to sdxl", "stabilityai/stable-diffusion-xl-base-1.0"),
        ("is sd 1.5 approved", "stable-diffusion-v1-5/stable-diffusion-v1-5"),
        ("deepseek r1", "deepseek-ai/DeepSeek-R1"),
        ("who approved deepseek-r1?", "deepseek-ai/DeepSeek-R1"),
        ("can llama 3 70b be used commercially", "meta-llama/Meta-Llama-3-70B"),
        ("why is llama 3.3 in review", "meta-llama/Llama-3.3-70B-Instruct"),
        ("llama 3 8b instruct", "meta-llama/Meta-Llama-3-8B-Instruct"),
        ("who requested nemotron 70b", "nvidia/Llama-3.1-Nemotron-70B-Instruct-HF"),
        ("Is IF-I-XL-v1.0 open source AI?", "DeepFloyd/IF-I-XL-v1.0"),
        ("gemma", "google/gemma-2-2b-it"),
        ("what happened to qwq", "Qwen/QwQ-32B"),
    ],
)
def test_loose_names(question: str, expected: str) -> None:
    match = match_model(question, CATALOG)
    assert match.model is not None and match.model.repo_id == expected


@pytest.mark.parametrize("question", ["is qwen 2.5 3b approved?", "why was gemma 7b rejected?"])
def test_other_version_numbers_name_no_tracked_model(question: str) -> None:
    models = unsaved_models("Qwen/Qwen2.5-72B-Instruct", "google/gemma-2-2b-it")
    match = match_model(question, models)
    assert match.model is None and not match.ambiguous


def test_a_shared_version_stays_ambiguous() -> None:
    match = match_model("who approved llama 3.1?", CATALOG)
    assert match.ambiguous
    assert {m.repo_id for m in match.candidates} == {
        "meta-llama/Llama-3.1-405B-Instruct",
        "nvidia/Llama-3.1-Nemotron-70B-Instruct-HF",
    }


@pytest.mark.parametrize(
    ("question", "license_id"),
    [
        ("openrail++ terms", "openrail++"),
        ("Is commercial use permitted under the SDXL Open RAIL++-M license?", "openrail++"),
        ("openrail terms", "openrail"),
        ("what does the llama 2 licence say", "llama2"),
    ],
)
def test_licenses_named(question: str, license_id: str) -> None:
    mention = match_license(question, load_knowledge_base())
    assert mention is not None and mention.terms.id == license_id


def test_several_licenses_or_models_named_for_a_comparison() -> None:
    kb = load_knowledge_base()
    found = licenses_named("compare llama 2 vs apache 2.0 and deepseek r1", kb, CATALOG)
    assert [getattr(f, "id", None) or f.repo_id for f in found] == [  # type: ignore[union-attr]
        "llama2",
        "apache-2.0",
        "deepseek-ai/DeepSeek-R1",
    ]


def test_concepts_load_and_are_asked_for() -> None:
    concepts = load_concepts()
    assert {c.id for c in concepts} >= {
        "open-weights-vs-open-source",
        "release-components",
        "osi-definition",
        "quantization",
    }
    assert all(f.source.ref.startswith(("https://", "seeds/")) for c in concepts for f in c.facts)
    asked = concept_asked("Explain the difference between open weights and open source", concepts)
    assert asked is not None and asked.id == "open-weights-vs-open-source"
    assert concept_asked("what is the capital of France", concepts) is None


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"concepts": []}, "sources"),
        ({"sources": {"s": {"title": "t", "ref": "ftp://x"}}, "concepts": []}, "https"),
        (
            {
                "sources": {"s": {"title": "t", "ref": "https://x"}},
                "concepts": [
                    {
                        "id": "c",
                        "title": "t",
                        "match": [["a"]],
                        "facts": [{"source": "other", "text": "A fact."}],
                    }
                ],
            },
            "must name a source",
        ),
        (
            {
                "sources": {"s": {"title": "t", "ref": "https://x"}},
                "concepts": [
                    {
                        "id": "c",
                        "title": "t",
                        "match": [["a"]],
                        "facts": [{"source": "s", "text": "no period"}],
                    }
                ],
            },
            "ending with a period",
        ),
        (
            {
                "sources": {"s": {"title": "t", "ref": "https://x"}},
                "concepts": [{"id": "c", "title": "t", "match": [], "facts": []}],
            },
            "match",
        ),
    ],
)
def test_malformed_concepts_fail_loudly(document: dict, problem: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(KnowledgeBaseError, match=problem):
        parse_concepts(document)
