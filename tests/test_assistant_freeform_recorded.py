"""The free-form pipeline on recorded model outputs, over real sources from a fresh registry.

Every false answer quoted in issue 9 is replayed as the model's output for the question that
produced it, against the passages the real retrieval finds for that question in a registry
with other people and models than the evaluation's. None of its statements may survive: what
is left is only what the sources themselves say. No model runs here (see
tests/test_assistant_freeform_llm.py for the real one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from governance.assistant.assembly import Statement, assemble
from governance.assistant.generation import relevant, statements_from
from governance.assistant.prompting import build_selection_messages
from governance.assistant.retrieval import Passage, Retriever
from governance.assistant.selection import (
    Candidate,
    candidates,
    parse_selection,
    selection_schema,
    split_sentences,
)
from governance.assistant.sources import all_passages
from governance.assistant.verify import supported, verify
from governance.core.clock import FrozenClock
from governance.core.db import transaction
from governance.flows.decide_with_policy import approve
from governance.registry.approvers import ApproverDirectory
from governance.registry.decisions import reject, revoke
from governance.registry.models import IntendedUse
from governance.registry.requests import request_approval
from governance.wiring.services import Services

APPROVERS = ApproverDirectory(configured=frozenset({"alice", "bob", "frank"}))

# (question, what the model wrote, phrases that must not reach the answer)
RECORDED = [
    (
        "Why was gemma rejected?",
        "alice rejected gemma for benchmarking [1]. Copies must keep the NOTICE file [1].",
        ["alice rejected", "NOTICE file", "for benchmarking"],
    ),
    (
        "What happened to DeepSeek-R1?",
        "alice approved DeepSeek-R1 for internal use [1]",
        ["alice approved"],
    ),
    (
        "Which models did frank decide on?",
        "dana approved acme/x-1b for research use [1]",
        ["dana", "acme/x-1b"],
    ),
    (
        "What did gina request?",
        "gina requested deepseek-ai/DeepSeek-R1 for commercial use [1].",
        ["gina requested deepseek-ai/DeepSeek-R1 for commercial"],
    ),
    (
        "Why was stable diffusion xl revoked?",
        "The stale diffusion xl x1 [1].0 revoked. " * 30,
        ["stale", "x1"],
    ),
    (
        "May outputs of a Llama 2 model be used to improve another LLM?",
        "Yes. The output of a Llama 2 model can be used to improve another LLM [1].",
        ["Yes", "can be used to improve"],
    ),
]


@pytest.fixture
def registry_of_others(services: Services, clock: FrozenClock) -> Iterator[Services]:
    """gina's three requests, bob's and frank's decisions, alice's revocations."""

    def step() -> FrozenClock:
        clock.advance(hours=5)
        return clock

    with transaction(services.session_factory) as s:
        gemma = request_approval(
            s,
            repo_id="google/gemma-2-2b-it",
            use=IntendedUse.RESEARCH,
            reason="benchmark suite",
            requester="gina",
            clock=step(),
        )
        reject(
            s,
            ref=f"#{gemma.id}",
            actor="bob",
            approvers=APPROVERS,
            reason="the prohibited use policy cannot be passed on to our customers",
            clock=step(),
        )
        deepseek = request_approval(
            s,
            repo_id="deepseek-ai/DeepSeek-R1",
            use=IntendedUse.INTERNAL,
            reason="code review helper",
            requester="gina",
            clock=step(),
        )
        approve(s, ref=f"#{deepseek.id}", actor="bob", approvers=APPROVERS, clock=step())
        revoke(
            s,
            ref=f"#{deepseek.id}",
            actor="alice",
            approvers=APPROVERS,
            reason="the hosted variant sent prompts abroad",
            clock=step(),
        )
        sdxl = request_approval(
            s,
            repo_id="stabilityai/stable-diffusion-xl-base-1.0",
            use=IntendedUse.COMMERCIAL,
            reason="ad campaign images",
            requester="gina",
            clock=step(),
        )
        approve(s, ref=f"#{sdxl.id}", actor="frank", approvers=APPROVERS, clock=step())
        revoke(
            s,
            ref=f"#{sdxl.id}",
            actor="alice",
            approvers=APPROVERS,
            reason="the OpenRAIL++ restrictions conflict with the campaign",
            clock=step(),
        )
        llama2 = request_approval(
            s,
            repo_id="meta-llama/Llama-2-7b-chat-hf",
            use=IntendedUse.COMMERCIAL,
            reason="distillation teacher",
            requester="heidi",
            clock=step(),
        )
        reject(
            s,
            ref=f"#{llama2.id}",
            actor="frank",
            approvers=APPROVERS,
            reason="its outputs may not train other models",
            clock=step(),
        )
    yield services


def _sources(services: Services, question: str) -> tuple[list[Passage], list[Candidate]]:
    with services.session_factory() as session:
        corpus = all_passages(session)
    passages = [hit.passage for hit in relevant(question, Retriever(corpus).search(question, k=4))]
    return passages, candidates(question, passages)


def _verbatim(sentence: str, passages: list[Passage]) -> bool:
    return any(sentence in split_sentences(p.text) for p in passages)


@pytest.mark.parametrize(("question", "recorded", "false"), RECORDED, ids=[r[0] for r in RECORDED])
def test_no_recorded_false_statement_survives(
    registry_of_others: Services, question: str, recorded: str, false: list[str]
) -> None:
    passages, offered = _sources(registry_of_others, question)
    assert passages and offered, "the real retrieval finds sources for this question"
    statements = statements_from(recorded, offered, passages)
    text, sources = assemble(statements, passages)
    for phrase in false:
        assert phrase.lower() not in text.lower(), text
    # What is left is only what the sources say, word for word, each cited.
    for statement in statements:
        assert _verbatim(statement.sentence, passages), statement
    assert len(re.findall(r"\[\d+\]", text)) == len(statements)
    assert [s.number for s in sources] == list(range(1, len(sources) + 1))


def test_the_degenerate_loop_leaves_at_most_one_sentence(registry_of_others: Services) -> None:
    question, recorded, _ = RECORDED[4]
    passages, offered = _sources(registry_of_others, question)
    assert len(verify(recorded, offered, passages)) <= 1


def test_a_claim_holds_only_when_one_clause_of_its_source_says_all_of_it() -> None:
    approval = Passage(
        "approval:5",
        "Request #5 (deepseek-ai/DeepSeek-R1)",
        "Request #5: deepseek-ai/DeepSeek-R1 for internal use is revoked; requested by gina on "
        "2026-11-27 14:00 UTC; decided by alice on 2026-11-28 09:00 UTC; decision reason: the "
        "hosted variant sent prompts abroad.",
        "/models info deepseek-ai/DeepSeek-R1 (request #5)",
    )
    license_terms = Passage(
        "kb:llama2",
        "Llama 2 Community License (license knowledge base)",
        "Commercial use: allowed. Outputs may not be used to improve other models.",
        "https://ai.meta.com/llama/license/",
    )
    assert supported("deepseek-ai/DeepSeek-R1 for internal use is revoked", approval)
    assert supported("Request #5 was decided by alice", approval)
    assert not supported("alice approved DeepSeek-R1 for internal use", approval)
    assert not supported("DeepSeek-R1 for commercial use is revoked", approval)  # use
    assert not supported("decided by alice on 2026-11-29 09:00 UTC", approval)  # date
    assert not supported("decided by bob", approval)  # person
    assert supported("Outputs may not be used to improve other models", license_terms)
    assert not supported("Outputs may be used to improve other models", license_terms)  # polarity
    assert not supported("Llama 3 outputs may not be used to improve other models", license_terms)


def test_a_selection_is_quoted_verbatim_and_numbers_outside_it_are_ignored(
    registry_of_others: Services,
) -> None:
    passages, offered = _sources(registry_of_others, "What happened to DeepSeek-R1?")
    n = len(offered)
    assert parse_selection('{"ids": [2, 1, 2, 99]}', n) == [2, 1][: min(2, n)]
    assert parse_selection('{"ids": [1, 1', n) == [1]  # cut by the time budget: complete only
    assert parse_selection('{"ids": []}', n) == []
    assert parse_selection("alice approved it [1]", n) is None  # prose: goes to the verifier
    statements = statements_from('{"ids": [1]}', offered, passages)
    assert statements == [Statement(offered[0].sentence, offered[0].passage)]
    text, sources = assemble(statements, passages)
    assert offered[0].sentence in text and text.endswith("[1]")
    assert sources[0].source_id == passages[offered[0].passage].source_id


def test_the_prompt_has_no_worked_example_and_the_schema_allows_only_offered_numbers(
    registry_of_others: Services,
) -> None:
    question = "Why was gemma rejected?"
    passages, offered = _sources(registry_of_others, question)
    prompt = build_selection_messages(question, offered, passages, budget_tokens=3000)
    assert [m["role"] for m in prompt.messages] == ["system", "user"]  # no example exchange
    ids = selection_schema(len(prompt.offered))["properties"]["ids"]
    assert ids["items"]["enum"] == list(range(1, len(prompt.offered) + 1))
    assert ids["maxItems"] == 3


def test_no_worked_example_text_is_left_in_the_assistant() -> None:
    # The text that leaked into answers (issue 9) exists nowhere the assistant could emit it.
    package = Path(__file__).resolve().parents[1] / "governance" / "assistant"
    for path in package.glob("*.py"):
        source = path.read_text()
        for leaked in ("acme/x-1b", "Copies must keep the NOTICE", "dana approved"):
            assert leaked not in source, (path.name, leaked)
