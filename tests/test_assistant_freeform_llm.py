"""The free-form path end to end with the real bundled model (SmolLM2-135M), and a quiet CLI.

The model's choice is not trusted; what is asserted is what the design guarantees whatever it
chooses: every sentence of an answer is a sentence of a source it cites, or the answer says it
does not know and lists the closest sources; and nothing llama.cpp logs reaches the user.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from governance.assistant.runtime import LlamaCppRuntime, QueuedRuntime
from governance.assistant.selection import split_sentences
from governance.assistant.service import answer
from governance.assistant.sources import all_passages
from governance.wiring.services import Services
from tests.support import llm_fixtures
from tests.test_assistant_freeform_recorded import registry_of_others

bundled_runtime = llm_fixtures.bundled_runtime
registry_of_others = registry_of_others  # the fixture, bound here
pytestmark = pytest.mark.llm
ROOT = Path(__file__).resolve().parents[1]
# A llama.cpp / ggml log line: "llama_context: ...", "ggml_...", "load_tensors: ...", etc.
NATIVE_LOG = re.compile(r"^(llama|ggml|gguf|load|print_info|llm_load|clip)\w*[:_]", re.MULTILINE)

FREE_QUESTIONS = [
    "Why did the hosted variant of the model worry anyone?",
    "Which restrictions conflict with the ad campaign images?",
    "Is anything said about prompts sent abroad?",
]


@pytest.fixture
def queued(bundled_runtime: LlamaCppRuntime) -> Iterator[QueuedRuntime]:
    class Borrowed:  # the session's model, never closed here
        name = bundled_runtime.name
        context_window = bundled_runtime.context_window
        count_tokens = staticmethod(bundled_runtime.count_tokens)
        generate = staticmethod(bundled_runtime.generate)

        def close(self) -> None:
            return None

    runtime = QueuedRuntime(Borrowed())  # type: ignore[arg-type]
    yield runtime
    runtime.close(timeout=60)


def _quoted(text: str) -> list[str]:
    """The sentences of an assembled answer, without citations and introductions."""
    sentences = []
    for piece in re.split(r" \[\d+\] ?", text):
        if piece:
            quoted = re.match(r'^.+? says: "(.*)"$', piece)
            sentences.append(quoted.group(1) if quoted else piece)
    return sentences


@pytest.mark.parametrize("question", FREE_QUESTIONS)
def test_every_sentence_of_a_real_answer_is_a_cited_source_sentence(
    registry_of_others: Services, queued: QueuedRuntime, question: str
) -> None:
    services = registry_of_others
    services.settings.answer_timeout_seconds = 300
    result = answer(
        question,
        session_factory=services.session_factory,
        clock=services.clock,
        runtime=queued,
        settings=services.settings,
    )
    with services.session_factory() as session:
        texts = {p.source_id: p for p in all_passages(session)}
    if result.kind == "unknown":
        assert result.text.startswith("I don't know")
        return
    assert result.kind == "generated" and result.advisory and "verbatim" in result.advisory
    cited = [texts[s.source_id] for s in result.sources]
    for sentence in _quoted(result.text):
        body = sentence
        if not any(body in split_sentences(p.text) for p in cited):
            body = sentence.split(": ", 1)[-1]  # introduced by its passage's subject
        assert any(body in split_sentences(p.text) for p in cited), sentence


def test_modelgov_ask_prints_no_llama_cpp_log_line(tmp_path: Path) -> None:
    # A small registry in a file, then the real CLI in its own process with the bundled model.
    url = f"sqlite:///{tmp_path / 'ask.db'}"
    seed = f"from tests.eval.run import seeded_services\nseeded_services({url!r}).close()\n"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MODELGOV_MODEL_N_CTX": "1024",
        "MODELGOV_ANSWER_TIMEOUT_SECONDS": "300",
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run([sys.executable, "-c", seed], env=env, cwd=ROOT, check=True, timeout=120)
    modelgov = Path(sys.executable).with_name("modelgov")
    done = subprocess.run(
        [str(modelgov), "ask", "Which deployment needs the moderation filter?"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Sources:" in done.stdout or "I don't know" in done.stdout
    for stream in (done.stdout, done.stderr):
        assert not NATIVE_LOG.search(stream), stream
        assert "n_ctx" not in stream and "llama_" not in stream, stream
