"""The checker on real model output: generations of the bundled model recorded over the
generated registry (tests/eval/recorded/, written by ``python -m tests.eval.record``).

The raw text is full of falsehoods (the worked example's "dana approved acme/x-1b", invented
approvers, a "no" where a request exists): the checker must find them. The sources the model
was shown are true by construction (the registry and the knowledge base): the checker must find
nothing false in them. Together these keep the checker from passing everything or failing
everything. A verifier can be measured the same way: ``false_in_recorded(outputs, transform)``.
"""

from __future__ import annotations

from dataclasses import replace

from tests.eval.record import false_in_recorded, recorded_outputs, verdicts_in_recorded


def test_recordings_exist_and_carry_their_sources() -> None:
    outputs = recorded_outputs()
    assert len(outputs) >= 10
    assert all(o.sources for o in outputs)


def test_the_checker_finds_the_falsehoods_in_raw_model_output() -> None:
    outputs = recorded_outputs()
    false = false_in_recorded(outputs)
    flagged = {o.question_id for o, _ in false}
    sentences = [v.sentence for _, v in false]
    assert any("dana approved acme/x-1b" in s for s in sentences)
    assert any("Copies must keep the NOTICE file" in s for s in sentences)
    for output in outputs:
        if "acme/x-1b" in output.raw or "NOTICE file" in output.raw:
            assert output.question_id in flagged, output.raw
    assert len(false) >= len(outputs)


def test_the_sources_the_model_was_shown_contain_nothing_false() -> None:
    outputs = recorded_outputs()
    each_source = [
        replace(output, raw=source.text) for output in outputs for source in output.sources
    ]
    verdicts = verdicts_in_recorded(each_source)
    assert sum(v.checked for _, v in verdicts) >= 20  # the sources do make checkable claims
    false = [(o.question_id, v.sentence, v.why) for o, v in verdicts if v.false]
    assert false == []
