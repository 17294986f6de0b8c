"""Exact answers over a fixed registry of other people and models (tests/support/exact_registry):
why, what happened, who did what, what a person did, lists by state and date, conditions and
expiry, may-we-use, license permissions, comparisons, openness, concepts and declines. Each
runs on every backend; the answers are compared whole where a wrong name, model, state or date
would change them."""

from __future__ import annotations

import re

import pytest

from governance.assistant.answers import Answer
from governance.assistant.service import answer
from governance.wiring.services import Services
from tests.support import exact_registry as reg


@pytest.fixture
def fixed(services: Services) -> Services:
    reg.build(services.session_factory)
    return services


def ask(services: Services, question: str) -> Answer:
    return answer(
        question,
        session_factory=services.session_factory,
        clock=services.clock,
        runtime=None,
        settings=services.settings,
    )


def asks(services: Services, questions: list[str], intent: str, *needed: str) -> None:
    """Every phrasing gets an exact answer of ``intent`` containing every ``needed`` text."""
    problems = []
    for question in questions:
        result = ask(services, question)
        missing = [n for n in needed if n not in result.text]
        if result.kind != "exact" or result.intent != intent or missing:
            problems.append(f"{question!r}: {result.kind}/{result.intent}, missing {missing}")
    assert problems == []


GEMMA_REJECTED = (
    "tamar rejected google/gemma-2-9b-it for commercial use on 2026-09-03 with the reason: "
    "Legal has not cleared the prohibited use policy. [1]"
)
R1_REVOKED = (
    "tamar revoked deepseek-ai/DeepSeek-R1 for internal use on 2026-10-04 with the reason: "
    "Replaced by a distilled model."
)
SDXL_REVIEW = (
    "modelgov put the approval of stabilityai/stable-diffusion-xl-base-1.0 for commercial use "
    "in review on 2026-11-13 after an upstream change: The text of LICENSE.md changed."
)


def test_why_rejected_names_who_when_and_the_reason(fixed: Services) -> None:
    result = ask(fixed, "Why was gemma rejected?")
    assert result.text == GEMMA_REJECTED
    assert [s.source_id for s in result.sources] == ["approval:1"]
    asks(
        fixed,
        [
            "why was gemma rejected",
            "Why did we reject gemma 2 9b?",
            "what was the reason google/gemma-2-9b-it was turned down?",
            "reason for rejecting gemma-2-9b-it",
            "why was gemma rejcted?",
            "Tell me why gemma got declined.",
            "explain the rejection of gemma",
        ],
        "why",
        GEMMA_REJECTED.removesuffix(" [1]"),
    )


def test_why_revoked_and_why_in_review(fixed: Services) -> None:
    asks(
        fixed,
        [
            "Why was DeepSeek-R1 revoked?",
            "why was deepseek r1 revokd",
            "what's the reason deepseek-r1 got pulled?",
            "why did tamar withdraw deepseek r1",
            "reason for the revocation of deepseek-ai/DeepSeek-R1",
        ],
        "why",
        R1_REVOKED,
    )
    asks(
        fixed,
        [
            "Why was stable diffusion xl put in review?",
            "why is sdxl in review?",
            "why is stable-diffusion-xl-base-1.0 under review",
            "Why was stable diffusion xl moved to review?",
            "why does sdxl need review?",
        ],
        "why",
        SDXL_REVIEW,
    )


def test_why_about_something_that_did_not_happen_says_so(fixed: Services) -> None:
    result = ask(fixed, "Why was mistral 7b v0.1 rejected?")
    assert result.text == (
        "mistralai/Mistral-7B-v0.1 has never been rejected. [1]\n"
        "Request #6 (mistralai/Mistral-7B-v0.1 for internal use) still waits for a decision. [1]"
    )


def test_what_happened_tells_the_history_in_order(fixed: Services) -> None:
    expected = (
        "omar started tracking deepseek-ai/DeepSeek-R1 on 2026-09-03. [1]\n"
        "omar requested deepseek-ai/DeepSeek-R1 for internal use on 2026-09-03 with the "
        "reason: code review assistant. [2]\n"
        "ravi approved deepseek-ai/DeepSeek-R1 for internal use on 2026-09-04. [2]\n"
        f"{R1_REVOKED} [2]\n"
        "Request #2 (deepseek-ai/DeepSeek-R1 for internal use) is now revoked. [2]"
    )
    assert ask(fixed, "What happened to DeepSeek-R1?").text == expected
    asks(
        fixed,
        [
            "what happened to deepseek r1",
            "What has happend with deepseek-r1?",
            "show me the history of deepseek-ai/DeepSeek-R1",
            "Tell me the story of deepseek r1.",
            "timeline for DeepSeek-R1 please",
            "give me the audit trail of deepseek r1",
        ],
        "history",
        "ravi approved deepseek-ai/DeepSeek-R1 for internal use on 2026-09-04.",
        R1_REVOKED,
    )


def test_who_requested_rejected_revoked(fixed: Services) -> None:
    asks(
        fixed,
        ["who requested sdxl?", "Which person requsted stable diffusion xl?", "who asked for sdxl"],
        "who",
        "ines requested stabilityai/stable-diffusion-xl-base-1.0 for commercial use on 2026-10-04",
    )
    asks(
        fixed,
        ["Who rejected gemma?", "who turned down gemma 2 9b", "which approver rejected gemma"],
        "who",
        GEMMA_REJECTED.removesuffix(" [1]"),
    )
    asks(fixed, ["who revoked deepseek r1?", "who pulled DeepSeek-R1"], "who", R1_REVOKED)
    nobody = ask(fixed, "who revoked gemma?")
    assert nobody.text.startswith("Nobody has revoked google/gemma-2-9b-it.")
    asks(fixed, ["who said no to gemma?", "who vetoed gemma 2 9b"], "who", GEMMA_REJECTED)


def test_an_untracked_repo_id_is_not_answered_as_a_tracked_look_alike(fixed: Services) -> None:
    """A full repo id names one repo: a sibling of the same owner, or a GGUF of a tracked base,
    is another model, so the answer says it is not tracked and names no other model."""
    for question, repo in [
        ("what happened to deepseek-ai/DeepSeek-R1-Distill-Qwen-7B?", "DeepSeek-R1-Distill"),
        ("who approved google/gemma-2-27b-it?", "gemma-2-27b-it"),
        ("is TheBloke/Llama-2-7B-Chat-GGUF approved?", "Llama-2-7B-Chat-GGUF"),
    ]:
        result = ask(fixed, question)
        assert "is not tracked" in result.text, (question, result.text)
        assert repo in result.text
        named = set(re.findall(r"[\w.-]+/[\w.-]*\w", result.text))
        assert not named & {reg.R1, reg.GEMMA, reg.LLAMA2}, (question, result.text)
    assert "is not tracked" not in ask(fixed, "who approved deepseek-ai/DeepSeek-R1?").text


def test_who_approved_keeps_its_answer(fixed: Services) -> None:
    result = ask(fixed, "Who approved DeepSeek-R1?")
    assert result.intent == "approver"
    assert result.text.startswith(
        "ravi approved deepseek-ai/DeepSeek-R1 for internal use on 2026-09-04 10:00 UTC"
    )
    assert "tamar revoked deepseek-ai/DeepSeek-R1" in result.text


def test_what_a_person_decided_or_requested(fixed: Services) -> None:
    decided = ask(fixed, "Which models did tamar decide on?")
    assert decided.text == (
        f"{GEMMA_REJECTED}\n{R1_REVOKED} [2]\n"
        "tamar approved meta-llama/Llama-2-7b-chat-hf for research use on 2026-10-07, to expire "
        "on 2026-12-15. [3]"
    )
    asks(
        fixed,
        [
            "what did tamar decide?",
            "show me tamar's decisions",
            "list the decisions made by tamar",
            "What has tamar approved or rejected?",
        ],
        "person",
        "tamar rejected google/gemma-2-9b-it",
        "tamar approved meta-llama/Llama-2-7b-chat-hf",
    )
    requested = ask(fixed, "What did ines request?")
    assert requested.text.splitlines() == [
        "ines requested google/gemma-2-9b-it for commercial use on 2026-09-01 with the reason: "
        "customer chat widget. [1]",
        "Request #1 (google/gemma-2-9b-it for commercial use) is now rejected. [1]",
        "ines requested stabilityai/stable-diffusion-xl-base-1.0 for commercial use on "
        "2026-10-04 with the reason: catalogue images. [2]",
        "Request #3 (stabilityai/stable-diffusion-xl-base-1.0 for commercial use) is now in "
        "review. [2]",
        "ines requested mistralai/Mistral-7B-v0.1 for internal use on 2026-10-28 with the "
        "reason: ticket triage. [3]",
        "Request #6 (mistralai/Mistral-7B-v0.1 for internal use) still waits for a decision. [3]",
    ]
    for question in ["list ines's requests", "what has ines requsted?", "requests by ines"]:
        assert ask(fixed, question).text == requested.text, question
    approved = ask(fixed, "what did ravi approve in October?")
    assert approved.text.count("ravi approved") == 2
    assert "deepseek" not in approved.text.lower()  # approved in September
    assert ask(fixed, "what did omar reject?").text == (
        "omar has not rejected anything, as far as the registry records."
    )


def test_lists_by_state(fixed: Services) -> None:
    revoked = ask(fixed, "List everything that was revoked.")
    assert revoked.text == f"{R1_REVOKED} [1]"
    for question in ["what was revoked", "show me the revokd models", "anything revoked?"]:
        assert ask(fixed, question).text == revoked.text, question
    rejected = ask(fixed, "what was rejected?")
    assert rejected.text == GEMMA_REJECTED
    review = ask(fixed, "what is in review")
    assert review.text == f"{SDXL_REVIEW} [1]"
    assert ask(fixed, "show me everything under review").text == review.text
    assert ask(fixed, "what was revoked for commercial use?").text == (
        "Nothing was revoked for commercial use."
    )


def test_lists_by_date_follow_the_clock(fixed: Services) -> None:
    before_july = ask(fixed, "what expires before July")
    assert before_july.text == (
        "The approval of meta-llama/Llama-2-7b-chat-hf for research use (request #4) expires on "
        "2026-12-15. [1]\n"
        "The approval of stabilityai/stable-diffusion-xl-base-1.0 for commercial use (request "
        "#3) expires on 2027-05-31. [2]\n"
        "Request #3 (stabilityai/stable-diffusion-xl-base-1.0) is now in review. [2]"
    )
    next_month = ask(fixed, "What expires next month?")
    assert "2026-12-15" in next_month.text and "2027-05-31" not in next_month.text
    expired = ask(fixed, "which approvals expired?")
    assert expired.text == (
        "The approval of microsoft/phi-2 for research use (request #5) expired on 2026-11-20. [1]"
    )
    this_year = ask(fixed, "what did we approve for commercial use this year")
    assert this_year.text == (
        "ravi approved stabilityai/stable-diffusion-xl-base-1.0 for commercial use on 2026-10-06 "
        "with the conditions: Label every generated image, to expire on 2027-05-31. [1]\n"
        "Request #3 (stabilityai/stable-diffusion-xl-base-1.0) is now in review. [1]"
    )
    assert ask(fixed, "what was approved last year?").text == "Nothing was approved in 2025."
    last_month = ask(fixed, "what was requested last month?")
    requested = [line.split()[2] for line in last_month.text.splitlines() if " requested " in line]
    assert requested == [reg.SDXL, reg.LLAMA2, reg.PHI, reg.MISTRAL, reg.OLMO]  # all October
    assert "Request #6 (mistralai/Mistral-7B-v0.1) still waits for a decision." in last_month.text


def test_conditions_expiry_and_may_we_use(fixed: Services) -> None:
    sdxl = ask(fixed, "What are the conditions and expiry of sdxl?")
    assert "conditions: Label every generated image; expires on 2027-05-31" in sdxl.text
    assert sdxl.text.startswith("Not now.") and SDXL_REVIEW in sdxl.text
    phi = ask(fixed, "Can we use phi-2 for research?")
    assert phi.text.startswith(
        "No. The approval of microsoft/phi-2 for research use expired on 2026-11-20."
    )
    assert "is expired (its expiry date has passed)" in phi.text
    for question in [
        "is deepseek r1 ok for internal use?",
        "may we use DeepSeek-R1 internally?",
        "are we allowed to use deepseek r1 for internal work? if not, why not",
    ]:
        result = ask(fixed, question)
        assert result.intent == "approval_status", question
        assert "revoked" in result.text and "Replaced by a distilled model" in result.text


@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("May outputs of a Llama 2 model be used to improve another LLM?", "No. Llama 2 Community"),
        ("can I use llama 3 outputs to train another model?", "No. Meta Llama 3 Community"),
        ("can outputs of llama 3.1 be used to train another model?", "Yes. Llama 3.1 Community"),
        ("Is it allowed to distill gemma outputs into our own model?", "Yes. Gemma Terms of Use"),
        ("do I need to show Built with Llama for llama 3.1?", "Yes. Llama 3.1 Community"),
        ("can I call my fine-tune anything under the llama 3 license?", "Only with its prefix."),
        ("does llama 3.2 allow use in the EU?", "Restricted. Llama 3.2 Community"),
        ("can cc-by-nc-4.0 models be sold?", "No. Creative Commons Attribution-NonCommercial"),
        ("May I use deepseek r1 outputs to train other models?", "deepseek-ai/DeepSeek-R1's"),
        ("Can a model under the unknown license be used to train other models?", "I don't know"),
        ("may we use a llama 2 model for weapons development?", "I don't know: the knowledge"),
    ],
)
def test_license_permissions_come_from_the_knowledge_base(
    fixed: Services, question: str, first: str
) -> None:
    result = ask(fixed, question)
    assert result.kind == "exact" and result.intent == "license_permission", result.text
    assert result.text.startswith(first), result.text
    assert all(s.source_id.startswith(("kb:", "snapshot:")) for s in result.sources)


def test_llama_family_outputs_answer_per_license(fixed: Services) -> None:
    text = ask(fixed, "May outputs of Llama models be used to improve other LLMs?").text
    verdicts = {
        line.split(". ")[1].split(" Community")[0]: line[:3]
        for line in text.splitlines()
        if line.startswith(("No.", "Yes."))
    }
    assert verdicts == {
        "Llama 2": "No.",
        "Meta Llama 3": "No.",
        "Llama 3.1": "Yes",
        "Llama 3.2": "Yes",
        "Llama 3.3": "Yes",
        "Llama 4": "Yes",
    }


def test_two_licenses_compared(fixed: Services) -> None:
    result = ask(fixed, "Compare the llama 2 and apache-2.0 licenses")
    assert result.intent == "license_compare"
    lines = result.text.splitlines()
    assert "Llama 2 Community License Agreement allows commercial use with conditions. [1]" in lines
    assert "Apache License 2.0 allows commercial use. [2]" in lines
    assert (
        "Llama 2 Community License Agreement needs a separate license above 700,000,000 monthly "
        "active users. [1]" in lines
    )
    assert "Apache License 2.0 sets no user threshold. [2]" in lines
    assert "Apache License 2.0 sets no field-of-use restriction. [2]" in lines
    for question in [
        "llama 2 vs apache 2.0",
        "gemma terms versus the MIT license",
        "how does the llama 3 license differ from llama3.1 license?",
    ]:
        assert ask(fixed, question).intent == "license_compare", question


def test_openness_from_the_latest_snapshot(fixed: Services) -> None:
    result = ask(fixed, "How open is olmo 2?")
    assert result.intent == "openness"
    assert "On the seed's openness spectrum, allenai/OLMo-2-1124-7B is open weights." in result.text
    assert "allenai/OLMo-2-1124-7B's training code: open. [1]" in result.text
    for question in [
        "is deepseek r1 open source?",
        "MOF class of OLMo-2-1124-7B",
        "OSAID verdict for gemma",
    ]:
        assert ask(fixed, question).intent == "openness", question
    unchecked = ask(fixed, "how open is phi-2?")
    assert unchecked.text.startswith("microsoft/phi-2 has not been checked upstream yet")


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("Explain the difference between open weights and open source.", "open weights rather"),
        ("what are the five components of an AI release?", "The training data is the dataset"),
        ("How does the OSI define open source AI?", "does not require the raw training data"),
        ("what does quantization trade?", "at the cost of some accuracy"),
        ("What is the Model Openness Framework?", "three cumulative classes"),
    ],
)
def test_concepts_from_the_sourced_explainer(fixed: Services, question: str, fact: str) -> None:
    result = ask(fixed, question)
    assert result.kind == "exact" and result.intent == "concept"
    assert fact in result.text
    assert all(s.source_id.startswith("concept:") for s in result.sources)
    assert all(line.endswith("]") for line in result.text.splitlines())  # every sentence cited


@pytest.mark.parametrize(
    "question",
    ["tell me a joke", "What's the weather in Lisbon tomorrow?", "how do i bake sourdough bread"],
)
def test_out_of_scope_is_declined_without_the_model(fixed: Services, question: str) -> None:
    result = ask(fixed, question)
    assert result.kind == "unknown" and result.sources == ()
    assert result.text.startswith("I don't know")


@pytest.mark.parametrize(
    ("question", "intent", "needed"),
    [
        ("Who gave the green light for sdxl?", "approver", "ravi approved stabilityai"),
        ("When was deepseek r1 revoked and by whom?", "who", R1_REVOKED),
        ("Has gemma ever been rejected?", "who", GEMMA_REJECTED.removesuffix(" [1]")),
        ("Was deepseek r1 ever revoked?", "who", R1_REVOKED),
        ("What's the status of sdxl?", "approval_status", SDXL_REVIEW),
        ("tell me about phi-2", "approval_status", "expired on 2026-11-20"),
        ("Anything ines asked for?", "person", "ines requested google/gemma-2-9b-it"),
        ("Which requests did tamar reject?", "person", GEMMA_REJECTED),
        ("which models did ravi okay?", "person", "ravi approved microsoft/phi-2"),
        ("What got revoked in October?", "list_revoked", R1_REVOKED),
        ("rejections", "list_rejected", GEMMA_REJECTED),
        ("revoked models?", "list_revoked", R1_REVOKED),
        ("Show models in review", "list_needs_review", SDXL_REVIEW),
        ("What expires in December?", "list_expiring", "expires on 2026-12-15"),
        ("Is Llama 3.1 more permissive than Llama 2?", "license_compare", "Llama 2 Community"),
        ("Can I use deepseek r1's outputs to train my own model?", "license_permission", "MIT"),
        ("What's an open-weight model?", "concept", "open weights rather than open source"),
        ("Is olmo 2 fully open?", "openness", "is open weights"),
    ],
)
def test_more_phrasings(fixed: Services, question: str, intent: str, needed: str) -> None:
    result = ask(fixed, question)
    assert (result.kind, result.intent) == ("exact", intent), result.text
    assert needed in result.text


def test_every_sentence_of_an_exact_answer_is_cited(fixed: Services) -> None:
    for question in [
        "What happened to DeepSeek-R1?",
        "Which models did tamar decide on?",
        "what expires before July",
        "Compare the llama 2 and apache-2.0 licenses",
        "How open is olmo 2?",
        "May outputs of a Llama 2 model be used to improve another LLM?",
    ]:
        result = ask(fixed, question)
        uncited = [line for line in result.text.splitlines() if not line.rstrip().endswith("]")]
        assert uncited == [], question
        numbers = {s.number for s in result.sources}
        assert numbers == set(range(1, len(result.sources) + 1))


def test_names_the_registry_does_not_hold(fixed: Services) -> None:
    assert ask(fixed, "What did zed request?").text == (
        "zed has no request or decision in the registry."
    )
    assert ask(fixed, "Which models did alice decide on?").text == (  # a configured approver
        "alice has not decided on anything, as far as the registry records."
    )
    untracked = ask(fixed, "Why was openai/gpt-oss-20b rejected?")
    assert untracked.intent == "not_tracked"
    assert untracked.text.startswith("openai/gpt-oss-20b is not tracked, so it has no approval")


def test_decisions_of_a_month_and_states_now(fixed: Services) -> None:
    october = ask(fixed, "what was decided last month?").text
    assert [line.split()[0:2] for line in october.splitlines()] == [
        ["tamar", "revoked"],
        ["ravi", "approved"],
        ["tamar", "approved"],
        ["ravi", "approved"],
    ]
    assert ask(fixed, "why was phi-2 rejected?").text == (
        "microsoft/phi-2 has never been rejected. [1]\n"
        "Request #5 (microsoft/phi-2 for research use) is now expired (its expiry date "
        "2026-11-20 has passed). [1]"
    )


def test_month_events_and_scoped_pending(fixed: Services) -> None:
    october = ask(fixed, "what happened in october?")
    assert october.intent == "list_all"
    days = [line.split(" on ")[1][:10] for line in october.text.splitlines() if " on 2026-" in line]
    assert days and all(day.startswith("2026-10-") for day in days)
    assert R1_REVOKED in october.text
    research = ask(fixed, "list the research requests that are pending")
    assert research.text.splitlines()[0] == "Pending requests for research use (1):"
    assert "allenai/OLMo-2-1124-7B" in research.text and reg.MISTRAL not in research.text
    past = ask(fixed, "which approvals are past their expiry date?")
    assert past.intent == "list_expired" and "microsoft/phi-2" in past.text
