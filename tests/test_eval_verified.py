"""The free-form safety net judged by the evaluation's checker: the recorded raw outputs of the
bundled model (full of false statements, see test_eval_recorded.py) and the false answers
quoted in issue 9, passed through ``verify`` and ``assemble``, must come out with no sentence
the checker finds false."""

from __future__ import annotations

from governance.assistant.assembly import assemble
from governance.assistant.retrieval import Passage
from governance.assistant.selection import Candidate
from governance.assistant.verify import verify
from tests.eval.record import RecordedOutput, false_in_recorded, recorded_outputs, source_ids


def _passages(output: RecordedOutput) -> list[Passage]:
    ids = source_ids(output.sources)
    return [
        Passage(ids[i] or f"recorded:{s.number}", s.title, s.text, s.ref)
        for i, s in enumerate(sorted(output.sources, key=lambda s: s.number))
    ]


def _verified(output: RecordedOutput) -> tuple[str, list[str]]:
    """What a user would see: the raw text through the verifier, then the assembler. The
    recorded prompts numbered whole sources, so source n is offered as candidate n."""
    passages = _passages(output)
    offered = [Candidate(n, p.text, n - 1) for n, p in enumerate(passages, start=1)]
    text, sources = assemble(verify(output.raw, offered, passages), passages)
    return text, [s.source_id for s in sources]


def test_no_false_statement_survives_the_verifier() -> None:
    outputs = recorded_outputs()
    assert false_in_recorded(outputs)  # the raw text is full of them
    survived = false_in_recorded(outputs, _verified)
    assert [(o.question_id, v.sentence, v.why) for o, v in survived] == []
