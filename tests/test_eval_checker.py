"""The false-statement checker on hand-written truth: true sentences pass, false ones (every
false answer quoted in issue 9 among them) are caught, and sentences that claim nothing are
counted as unchecked rather than true."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.eval.checker import Context, check_answer, split_sentences
from tests.eval.truth import ApprovalTruth, Event, ModelTruth, Truth, UpstreamChange

GEMMA = "google/gemma-2-9b-it"
R1 = "deepseek-ai/DeepSeek-R1"
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"
LLAMA31 = "meta-llama/Llama-3.1-8B-Instruct"
LLAMA2 = "meta-llama/Llama-2-7b-chat-hf"
QWEN = "Qwen/Qwen2.5-7B-Instruct"


def _at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def _approval(
    number: int,
    repo: str,
    use: str,
    requester: str,
    reason: str,
    *steps: tuple[str, str, datetime, str | None],
) -> ApprovalTruth:
    """An approval and its events; the state and decision fields follow the steps."""
    requested = steps[0][2] if steps and steps[0][0] == "requested" else _at(1, 5)
    approval = ApprovalTruth(number, repo, use, requester, requested, reason)
    approval.events.append(Event(requested, requester, "requested", number, repo, use, reason))
    for action, actor, at, detail in steps:
        if action == "requested":
            continue
        approval.events.append(Event(at, actor, action, number, repo, use, detail))
        if action in ("approved", "reapproved"):
            approval.state, approval.conditions = "approved", detail
            approval.decided_by, approval.decided_at = actor, at
        elif action in ("rejected", "revoked"):
            approval.state, approval.decision_reason = action, detail
            approval.decided_by, approval.decided_at = actor, at
        else:
            approval.state = action
    return approval


@pytest.fixture(scope="module")
def truth() -> Truth:
    approvals = [
        _approval(
            1,
            GEMMA,
            "internal",
            "gina",
            "classify warehouse incident reports",
            ("requested", "gina", _at(3, 2), None),
            ("rejected", "bob", _at(3, 5, 11), "Evaluation scores were below the agreed bar"),
        ),
        _approval(
            2,
            R1,
            "internal",
            "frank",
            "search the engineering wiki",
            ("requested", "frank", _at(4, 1), None),
            ("approved", "bob", _at(4, 3), "No personal data in prompts"),
            ("revoked", "alice", _at(5, 10), "Red team found prompt leakage"),
        ),
        _approval(
            3,
            SDXL,
            "commercial",
            "gina",
            "generate product photos for the catalogue",
            ("requested", "gina", _at(4, 20), None),
            ("approved", "alice", _at(4, 22), None),
            ("revoked", "bob", _at(6, 1), "Budget for GPU hosting withdrawn"),
        ),
        _approval(
            4,
            LLAMA31,
            "research",
            "gina",
            "benchmark reasoning on maths olympiad problems",
            ("requested", "gina", _at(5, 2), None),
            ("approved", "bob", _at(5, 4), "Only on the internal GPU cluster"),
        ),
        _approval(
            5,
            LLAMA2,
            "commercial",
            "carol",
            "draft replies for the helpdesk queue",
            ("requested", "carol", _at(6, 2), None),
            ("approved", "alice", _at(6, 3), None),
            ("needs_review", "modelgov", _at(7, 1), "gating_changed"),
        ),
        _approval(
            6,
            QWEN,
            "internal",
            "gina",
            "cluster customer feedback",
            ("requested", "gina", _at(8, 1), None),
        ),
    ]
    approvals[3].expires_on = date(2027, 6, 30)
    approvals[3].events[1] = Event(
        _at(5, 4),
        "bob",
        "approved",
        4,
        LLAMA31,
        "research",
        "Only on the internal GPU cluster",
        date(2027, 6, 30),
    )
    models = {
        GEMMA: ModelTruth(GEMMA, "gemma", ("gemma 2 9b",), _at(3, 1), "gina"),
        R1: ModelTruth(R1, "mit", ("deepseek r1",), _at(3, 30), "frank"),
        SDXL: ModelTruth(SDXL, "openrail++", ("stable diffusion xl",), _at(4, 19), "gina"),
        LLAMA31: ModelTruth(LLAMA31, "llama3.1", (), _at(5, 1), "gina"),
        LLAMA2: ModelTruth(LLAMA2, "llama2", ("llama 2 7b chat",), _at(6, 1), "carol"),
        QWEN: ModelTruth(QWEN, "apache-2.0", (), _at(7, 30), "gina"),
    }
    models[LLAMA2].gated = "manual"
    models[LLAMA2].changes.append(
        UpstreamChange(_at(7, 1), LLAMA2, "gating_changed", "false", "manual")
    )
    return Truth(
        seed=0,
        now=datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        approvers=("alice", "bob"),
        requesters=("carol", "frank", "gina"),
        models=models,
        approvals=approvals,
    )


def _false(
    truth: Truth, text: str, context: Context | None = None, sources: tuple[str, ...] = ()
) -> list[str]:
    return [v.sentence for v in check_answer(text, truth, context, source_ids=sources) if v.false]


def test_sentences_split_at_full_stops_not_inside_ids_or_citations() -> None:
    text = (
        "Yes. meta-llama/Llama-3.1-8B-Instruct is approved [1]. It runs v0.1 weights, e.g. "
        "the 8B ones.\n- Request #4: done [2]\nalice approved Llama-3.1-8B. bob did not."
    )
    assert split_sentences(text) == [
        "Yes.",
        "meta-llama/Llama-3.1-8B-Instruct is approved [1].",
        "It runs v0.1 weights, e.g. the 8B ones.",
        "- Request #4: done [2]",
        "alice approved Llama-3.1-8B.",
        "bob did not.",
    ]
    assert split_sentences("Reason: code completion [1] Request #27: it is rejected. [2]") == [
        "Reason: code completion [1]",
        "Request #27: it is rejected. [2]",
    ]


TRUE_SENTENCES = [
    f"bob rejected {GEMMA} for internal use on 2026-03-05 11:00 UTC (request #1): Evaluation "
    "scores were below the agreed bar.",
    "gemma 2 9b was rejected by bob on 2026-03-05.",
    "alice revoked DeepSeek-R1 on 2026-05-10 because: Red team found prompt leakage.",
    "bob approved deepseek r1 for internal use with the conditions: No personal data in prompts.",
    f"Request #4: {LLAMA31} for research use is approved; requested by gina on 2026-05-02 10:00 "
    "UTC; decided by bob on 2026-05-04 10:00 UTC; conditions: Only on the internal GPU cluster; "
    "expires on 2027-06-30.",
    f"{LLAMA2} is in review after an upstream change.",
    f"modelgov moved {LLAMA2} to review on 2026-07-01 (gating changed).",
    f"gina requested {QWEN} for internal use; it waits for a decision.",
    f"Nobody has approved {QWEN} yet.",
    f"{QWEN} has never been requested for commercial use.",
    f"{R1} has no standing approval; its latest request (#2, internal use) was revoked.",
    "openai/gpt-oss-20b is not tracked, so it has no approval.",
    "The approval of Llama-3.1-8B-Instruct expires on 2027-06-30.",
    "stable diffusion xl was approved by alice and later revoked by bob: Budget for GPU hosting "
    "withdrawn.",
]


@pytest.mark.parametrize("sentence", TRUE_SENTENCES)
def test_true_registry_sentences_are_checked_and_pass(truth: Truth, sentence: str) -> None:
    verdicts = check_answer(sentence, truth)
    assert verdicts and all(v.checked for v in verdicts), verdicts
    assert not [v for v in verdicts if v.false], verdicts


FALSE_SENTENCES = [
    # issue 9, as quoted
    "alice rejected gemma for benchmarking [1].",
    "alice approved DeepSeek-R1 for internal use [1]",
    "dana approved acme/x-1b for research use [1].",
    # names, decisions, dates, reasons off
    "bob approved DeepSeek-R1 on 2026-04-04.",
    "bob rejected gemma 2 9b because: Red team found prompt leakage.",
    f"{LLAMA2} is approved for commercial use.",
    "alice approved Llama-3.1-8B-Instruct for research use.",
    f"gina requested {LLAMA2}.",
    "The approval of Llama-3.1-8B-Instruct expires on 2027-07-30.",
    "Nobody has approved DeepSeek-R1.",
    f"{QWEN} was approved by alice.",
    f"{GEMMA} is not tracked.",
    f"{R1} is approved for internal use.",
    f"bob revoked {R1} for internal use.",
    f"{QWEN} was rejected on 2026-08-02.",
    f"frank requested {R1} for commercial use.",
    f"Request #3: {SDXL} for commercial use is revoked; decided by frank.",
]


@pytest.mark.parametrize("sentence", FALSE_SENTENCES)
def test_false_registry_sentences_are_caught(truth: Truth, sentence: str) -> None:
    assert _false(truth, sentence) == [sentence]


def test_the_worked_example_notice_sentence_is_false(truth: Truth) -> None:
    text = "alice rejected gemma for benchmarking [1]. Copies must keep the NOTICE file [1]."
    assert len(_false(truth, text, Context((GEMMA,)))) == 2


def test_frank_decisions_answered_with_the_worked_example_is_false(truth: Truth) -> None:
    assert _false(truth, "dana approved acme/x-1b for research use [1].", Context())


def test_a_claim_citing_another_models_request_is_false(truth: Truth) -> None:
    # "What did gina request?" -> one of her requests, citing another model's request.
    sentence = f"gina requested {GEMMA} for internal use [1]."
    assert _false(truth, sentence, sources=("approval:1",)) == []
    assert _false(truth, sentence, sources=("approval:3",)) == [sentence]


def test_degenerate_repetition_is_false(truth: Truth) -> None:
    text = " ".join(["The stale diffusion xl x1 [1].0 revoked."] * 6)
    assert len(_false(truth, text, Context((SDXL,)))) >= 4


def test_yes_on_a_forbidden_permission_is_false(truth: Truth) -> None:
    text = "Yes. The output of a Llama 2 model can be used to improve another LLM [1]."
    context = Context(licenses=("llama2",), verdicts=frozenset({"no"}))
    assert len(_false(truth, text, context)) == 2
    right = "No. Outputs of a Llama 2 model may not be used to improve other large language models."
    assert _false(truth, right, context) == []


LICENSE_FALSE = [
    "Gemma allows no commercial use.",
    "The Llama 3.1 license forbids using outputs to improve other models.",
    'The Llama 2 Community License requires "Built with Llama" on the product.',
    "Apache 2.0 is not OSI-approved.",
    "Under Llama 2, the threshold is 100 million monthly active users.",
    "The MIT License is research-only: research use only.",
    "CC BY-NC 4.0 allows commercial use.",
]
LICENSE_TRUE = [
    "Commercial use: allowed with conditions.",
    "Gemma allows commercial use.",
    "Llama 3.1 lets you use outputs to improve other models.",
    'The Llama 3.1 license requires "Built with Llama".',
    "Apache 2.0 is OSI-approved.",
    "Llama 2 needs a separate license above 700 million monthly active users.",
    "CC BY-NC 4.0 does not allow commercial use.",
    "Outputs may not be used to improve other models.",
]


@pytest.mark.parametrize("sentence", LICENSE_FALSE)
def test_false_license_sentences_are_caught(truth: Truth, sentence: str) -> None:
    assert _false(truth, sentence, Context(licenses=("llama2",))) == [sentence]


@pytest.mark.parametrize("sentence", LICENSE_TRUE)
def test_true_license_sentences_pass(truth: Truth, sentence: str) -> None:
    context = (
        Context(licenses=("llama2",))
        if "Outputs may" in sentence
        else Context(licenses=("llama3.1",))
    )
    verdicts = check_answer(sentence, truth, context)
    assert [v for v in verdicts if v.false] == []
    assert all(v.checked for v in verdicts)


def test_a_model_context_brings_its_license(truth: Truth) -> None:
    # "Is a Llama 2 model's output usable?" about the tracked Llama 2 model: its license decides.
    assert _false(truth, "Its outputs can be used to improve other LLMs.", Context((LLAMA2,)))
    assert not _false(truth, "Its outputs can be used to improve other LLMs.", Context((LLAMA31,)))


def test_verdicts_follow_the_registry(truth: Truth) -> None:
    context = Context((QWEN,), verdicts=frozenset({"no", "not yet"}))
    assert _false(truth, "Yes. It is fine.", context) == ["Yes."]
    assert _false(truth, f"Not yet. {QWEN} is requested for internal use and waits.", context) == []


def test_sentences_without_claims_are_unchecked_not_true(truth: Truth) -> None:
    verdicts = check_answer("The weather is nice. I don't know.", truth)
    assert [v.checked for v in verdicts] == [False, False]
    assert not [v for v in verdicts if v.false]


MODEL_FACTS_TRUE = [
    f"{LLAMA2}'s current license is Llama 2 Community License Agreement (llama2), as its card "
    "declared on 2026-06-01 10:01 UTC.",
    f"{LLAMA2} is gated (manual) since the change of 2026-07-01.",
    f"For OSAID 1.0, {GEMMA} is not open source AI: training code and data are missing.",
    "Governing law of the Llama 2 Community License: California, USA.",
    "Llama 2 uses the acceptable use policy at https://ai.meta.com/llama/use-policy",
]
MODEL_FACTS_UNRELATED = [
    # A family word is not the tracked model: this is the Qwen Research License's own notice.
    "Notice: Keep a Notice file saying Qwen is licensed under the Qwen Research License "
    "Agreement (copyright Alibaba Cloud).",
]
MODEL_FACTS_FALSE = [
    f"{LLAMA2}'s current license is Apache License 2.0 (apache-2.0).",
    f"{LLAMA2}'s card declared its license on 2026-06-03 10:01 UTC.",
    f"{GEMMA} is gated (auto).",
    f"{GEMMA} is open source AI.",
    "The Llama 2 Community License is governed by the laws of China.",
    "Llama 2 sets no user threshold.",
    "Llama 2 uses the acceptable use policy at https://example.org/policy",
]


@pytest.mark.parametrize("sentence", MODEL_FACTS_TRUE)
def test_true_model_and_license_facts_pass(truth: Truth, sentence: str) -> None:
    verdicts = check_answer(sentence, truth)
    assert [v for v in verdicts if v.false] == [] and all(v.checked for v in verdicts), verdicts


@pytest.mark.parametrize("sentence", MODEL_FACTS_FALSE)
def test_false_model_and_license_facts_are_caught(truth: Truth, sentence: str) -> None:
    assert _false(truth, sentence) == [sentence]


@pytest.mark.parametrize("sentence", MODEL_FACTS_UNRELATED)
def test_a_family_word_does_not_make_a_license_sentence_about_a_model(
    truth: Truth, sentence: str
) -> None:
    assert _false(truth, sentence, Context((QWEN,))) == []


def test_list_headers_count_what_the_truth_holds(truth: Truth) -> None:
    assert _false(truth, "Pending requests (1):") == []
    assert _false(truth, "Pending requests (2):") == ["Pending requests (2):"]
    assert _false(truth, "Approved for research use (1): [1]") == []
    assert _false(truth, "Approved for commercial use (1):") == ["Approved for commercial use (1):"]
    assert _false(truth, "In review after an upstream change (1):") == []
    assert _false(truth, "Revoked (2):") == []


@pytest.mark.parametrize(
    ("sentence", "false"),
    [
        ("Nothing was revoked in October 2026.", False),
        ("Nothing was revoked in May 2026.", True),
        ("Nothing expires in 2026.", False),
        ("Nothing expires before July 2027.", True),
        ("No approval expires before 2027-06-30.", False),
        ("alice revoked DeepSeek-R1 in May 2026.", False),
        ("alice revoked DeepSeek-R1 in April 2026.", True),
        ("bob approved Llama-3.1-8B-Instruct in 2026.", False),
        ("bob approved Llama-3.1-8B-Instruct before 2026-05-01.", True),
        ("alice approved meta-llama/Llama-2-7b-chat-hf since 2026-06-01.", False),
    ],
)
def test_date_ranges_scope_a_claim(truth: Truth, sentence: str, false: bool) -> None:
    verdicts = check_answer(sentence, truth)
    assert all(v.checked for v in verdicts)
    assert bool([v for v in verdicts if v.false]) is false, verdicts
