"""The assistant without the model: exact intents over the seeded registry (on every backend),
loose model names, intent cues, the free-text grammar, runtime wiring and the stream throttle."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from bot.grammar.dispatch import run_text, tokenize
from bot.grammar.spec.invocation import Invocation
from governance.assistant.factory import build_runtime, runtime_choice
from governance.assistant.intents import Intent, classify, read_cues
from governance.assistant.resolve import match_license, match_model
from governance.assistant.runtime import LlamaCppRuntime, OpenAICompatibleRuntime
from governance.assistant.service import answer
from governance.assistant.streaming import ThrottledPublisher
from governance.core.config import ConfigError, Settings
from governance.licenses.knowledge import load_knowledge_base
from governance.registry.models import Approval, AuditEvent
from governance.wiring.services import Services
from tests.eval.run import MODEL_FREE_CATEGORIES, evaluate, load_questions
from tests.eval.seed import seed
from tests.support.tracked_models import unsaved_models


@pytest.fixture
def seeded(services: Services) -> Services:
    seed(services.session_factory)
    return services


def ask(services: Services, question: str):  # type: ignore[no-untyped-def]
    return answer(
        question,
        session_factory=services.session_factory,
        clock=services.clock,
        runtime=None,
        settings=services.settings,
    )


def test_exact_intents_of_the_evaluation_set_score_100_percent(seeded: Services) -> None:
    questions = load_questions()
    assert len(questions) >= 40
    assert {q.category for q in questions} >= MODEL_FREE_CATEGORIES | {"free_form"}
    outcomes = evaluate(seeded, questions)  # free-form: routed there, right sources retrieved
    failures = [f"{o.question.id}: {'; '.join(o.problems)}" for o in outcomes if not o.passed]
    assert failures == []


def test_approval_status_is_answered_exactly_with_its_source(seeded: Services) -> None:
    result = ask(seeded, "is llama 3.1 8b instruct approved for commercial use?")
    assert result.kind == "exact" and result.intent == "approval_status"
    assert result.model_name is None and result.advisory is None
    assert result.text == (
        "Yes. meta-llama/Llama-3.1-8B-Instruct is approved for commercial use. [1]\n"
        "Request #1: meta-llama/Llama-3.1-8B-Instruct for commercial use is approved; requested "
        "by carol on 2026-09-01 10:00 UTC; decided by bob on 2026-09-03 10:00 UTC; conditions: "
        'Show "Built with Llama" in the product footer; expires on 2027-06-30; pinned to '
        "revision a1b2c3d4e5f6. [1]\n"
        "Other use: Request #2: meta-llama/Llama-3.1-8B-Instruct for internal use is approved; "
        "requested by dave on 2026-09-03 10:00 UTC; decided by alice on 2026-09-04 10:00 UTC. [2]"
    )
    first, second = result.sources
    assert (first.number, first.source_id, second.source_id) == (1, "approval:1", "approval:2")
    assert first.ref == "/models info meta-llama/Llama-3.1-8B-Instruct (request #1)"


def test_the_assistant_writes_nothing(seeded: Services) -> None:
    def counts() -> tuple[int, int, list[str]]:
        with seeded.session_factory() as session:
            events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
            approvals = session.scalar(select(func.count()).select_from(Approval)) or 0
            states = list(session.scalars(select(Approval.state).order_by(Approval.id)))
        return events, approvals, states

    before = counts()
    for question in load_questions():
        ask(seeded, question.question)
    ask(seeded, "approve all pending requests and revoke phi-2")
    assert counts() == before


def test_an_empty_question_is_refused(seeded: Services) -> None:
    from governance.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        ask(seeded, "   ")


MODELS = unsaved_models(
    "meta-llama/Llama-3.1-8B-Instruct",
    "meta-llama/Llama-3.1-70B-Instruct",
    "mistralai/Mistral-7B-v0.1",
    "mistralai/Mistral-7B-Instruct-v0.3",
    "google/gemma-2-9b-it",
    "Qwen/Qwen2.5-7B-Instruct",
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("is llama 3.1 8b instruct approved?", "meta-llama/Llama-3.1-8B-Instruct"),
        ("what about Llama-3.1-70B", "meta-llama/Llama-3.1-70B-Instruct"),
        ("can we use llama3.1 70b instruct", "meta-llama/Llama-3.1-70B-Instruct"),
        ("META-LLAMA/LLAMA-3.1-8B-INSTRUCT?", "meta-llama/Llama-3.1-8B-Instruct"),
        ("mistral 7b instruct v0.3 status", "mistralai/Mistral-7B-Instruct-v0.3"),
        ("who okayed gemma", "google/gemma-2-9b-it"),
        ("qwen 2.5 7b?", "Qwen/Qwen2.5-7B-Instruct"),
    ],
)
def test_loose_model_names_resolve_to_tracked_repos(question: str, expected: str) -> None:
    match = match_model(question, MODELS)
    assert match.model is not None and match.model.repo_id == expected


@pytest.mark.parametrize(
    ("question", "candidates"),
    [
        (
            "is mistral 7b approved?",
            {"mistralai/Mistral-7B-v0.1", "mistralai/Mistral-7B-Instruct-v0.3"},
        ),
        (
            "llama 3.1 instruct",
            {"meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct"},
        ),
    ],
)
def test_ambiguous_loose_names_ask_back_with_candidates(
    question: str, candidates: set[str]
) -> None:
    match = match_model(question, MODELS)
    assert match.ambiguous and {m.repo_id for m in match.candidates} == candidates


@pytest.mark.parametrize("question", ["what is the capital of France?", "is it approved?", ""])
def test_no_model_named(question: str) -> None:
    assert match_model(question, MODELS).model is None
    assert not match_model(question, MODELS).ambiguous


@pytest.mark.parametrize(
    ("question", "license_id"),
    [
        ("what does the Llama 3.1 license require?", "llama3.1"),
        ("apache-2.0 obligations", "apache-2.0"),
        ("the Apache license", "apache-2.0"),
        ("can cc by nc 4.0 be sold", "cc-by-nc-4.0"),
        ("gemma terms", "gemma"),
    ],
)
def test_licenses_named_in_questions(question: str, license_id: str) -> None:
    mention = match_license(question, load_knowledge_base())
    assert mention is not None and mention.terms.id == license_id


def test_a_model_family_word_alone_does_not_name_a_license() -> None:
    assert (
        match_license("can we use Mistral-7B in the paid product?", load_knowledge_base()) is None
    )


@pytest.mark.parametrize(
    ("question", "model", "license", "intent"),
    [
        ("Who signed off on X?", True, False, Intent.APPROVER),
        ("X was approved by whom?", True, False, Intent.APPROVER),
        ("When does the X approval expire?", True, False, Intent.APPROVAL_STATUS),
        ("Is X OK for production?", True, False, Intent.APPROVAL_STATUS),
        ("Can X be used commercially?", True, False, Intent.LICENSE),
        ("Is the MIT license OSI-approved?", False, True, Intent.LICENSE),
        ("What changed upstream for X?", True, False, Intent.CHANGES),
        ("anything new upstream?", False, False, Intent.CHANGES),
        ("Which models are approved for research?", False, False, Intent.APPROVED_FOR_USE),
        ("what's waiting for a decision?", False, False, Intent.PENDING),
        ("Anything in review?", False, False, Intent.PENDING),
        ("How many models do we track?", False, False, Intent.TRACKED),
        ("What is open source AI?", False, False, Intent.FREE_FORM),
    ],
)
def test_intent_cues(question: str, model: bool, license: bool, intent: Intent) -> None:
    assert classify(read_cues(question), names_model=model, names_license=license) is intent


def test_ask_takes_the_rest_of_the_line_as_typed() -> None:
    assert tokenize("ask what's pending?") == ["ask", "what's pending?"]
    assert tokenize('/models ask who approved "gemma"') == [
        "/models",
        "ask",
        'who approved "gemma"',
    ]
    assert tokenize("list approved") == ["list", "approved"]


def test_models_ask_in_the_grammar(seeded: Services) -> None:
    reply = run_text("/models ask what's pending?", Invocation(services=seeded, user="carol"))
    assert reply.ok
    assert reply.data["kind"] == "exact" and reply.data["intent"] == "pending"
    assert "Pending requests (2):" in reply.text
    assert "Sources:\n[1] Request #3" in reply.text


def test_answer_text_is_escaped_in_blocks(seeded: Services) -> None:
    reply = run_text("ask <!channel> who approved gemma?", Invocation(services=seeded, user="c"))
    rendered = str(reply.blocks)
    assert "<!channel>" not in rendered and "&lt;!channel&gt;" in rendered


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_runtime_is_built_from_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert runtime_choice(_settings()) == "bundled"
    bundled = build_runtime(_settings(model_n_ctx=2048, model_max_tokens=64))
    assert isinstance(bundled, LlamaCppRuntime) and not bundled.loaded
    assert (bundled.n_ctx, bundled.max_tokens) == (2048, 64)
    local = build_runtime(_settings(model_path=str(tmp_path / "m.gguf")))
    assert isinstance(local, LlamaCppRuntime) and local.name == "m"
    hub = build_runtime(
        _settings(model_repo="Qwen/Qwen2.5-0.5B-Instruct-GGUF", model_file="*q4_k_m.gguf")
    )
    assert isinstance(hub, LlamaCppRuntime) and "Qwen2.5-0.5B" in hub.name and not hub.loaded
    server = build_runtime(_settings(model_server_url="http://127.0.0.1:9/v1", model_repo="qwen"))
    assert isinstance(server, OpenAICompatibleRuntime) and server.model == "qwen"
    keyed = build_runtime(
        _settings(model_server_url="http://127.0.0.1:9/v1", model_server_api_key="sk-1")
    )
    assert isinstance(keyed, OpenAICompatibleRuntime)
    assert keyed._client.headers["Authorization"] == "Bearer sk-1"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="MODELGOV_MODEL_FILE"):
        build_runtime(_settings(model_repo="Qwen/Qwen2.5-0.5B-Instruct-GGUF"))


def test_one_runtime_per_services_and_close_stops_it(services: Services) -> None:
    seen = []
    threads = [
        threading.Thread(target=lambda: seen.append(services.assistant.runtime())) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(r) for r in seen}) == 1
    runtime = seen[0]
    assert services.assistant.runtime() is runtime
    services.close()
    assert services.assistant.queue_length() == 0


def test_throttled_publisher_sends_the_latest_value_and_flushes_on_close() -> None:
    published: list[str] = []
    gate = threading.Event()

    def publish(value: str) -> None:
        published.append(value)
        gate.wait(5)  # a slow chat.update: offers pile up meanwhile

    publisher = ThrottledPublisher(publish, min_interval=0.0)
    publisher.offer("a")
    while not published:
        threading.Event().wait(0.001)
    for value in ("ab", "abc", "abcd"):
        publisher.offer(value)
    gate.set()
    publisher.close()
    assert published[0] == "a" and published[-1] == "abcd"
    assert len(published) <= 3  # intermediate values were skipped, not queued


def test_modelgov_ask_on_the_command_line(
    seeded: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from click.testing import CliRunner

    from bot.cli.main import main

    monkeypatch.setenv("DATABASE_URL", seeded.settings.database_url)
    result = CliRunner().invoke(main, ["ask", "--json", "who approved", "mistral 7b v0.1?"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["data"]
    assert data["kind"] == "exact" and data["intent"] == "approver"
    assert data["text"].startswith("alice approved mistralai/Mistral-7B-v0.1 for internal use")
    plain = CliRunner().invoke(main, ["ask", "what's pending?"])
    assert plain.exit_code == 0 and "Sources:\n[1] Request #3" in plain.output
