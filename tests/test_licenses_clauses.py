"""Clause-level change summaries on the real Llama 2 -> 3 -> 3.1 texts and on the KB alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.licenses.clauses import diff_license_ids, diff_texts
from governance.licenses.sections import split_sections
from governance.licenses.stated_terms import extract_terms

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "licenses"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="shared/realdata/licenses is absent")


def _read(name: str) -> str:
    return (REAL / name).read_text(encoding="utf-8")


@needs_real
def test_llama3_to_3_1() -> None:
    diff = diff_texts(
        _read("llama3.LICENSE.txt"),
        _read("llama3_1.LICENSE.txt"),
        old_id="llama3",
        new_id="llama3.1",
    )
    summary = "\n".join(diff.summary)
    assert (
        "The clause forbidding the use of outputs to improve other large language models "
        "was removed." in diff.summary
    )
    assert 'Attribution changed from "Built with Meta Llama 3" to "Built with Llama".' in summary
    assert 'Derivative model names must now begin with "Llama" (was "Llama 3").' in summary
    removed = {c.key for c in diff.section_changes if c.kind == "removed"}
    assert "1.b.v" in removed
    assert any(c.key == "1.b.i" and c.kind == "modified" for c in diff.section_changes)
    # Sections that only swap "Meta Llama 3" for "Llama 3.1" are not listed as changes.
    assert "2" in diff.renamed_only
    assert all(c.key != "2" for c in diff.section_changes)
    # Term changes come before section lines in the summary.
    assert diff.summary.index(diff.term_changes[0].message) == 0
    assert diff.unified_diff.startswith("--- llama3")
    assert "-\t\tv. You will not use the Llama Materials" in diff.unified_diff


@needs_real
def test_llama2_to_3() -> None:
    diff = diff_texts(
        _read("llama2.LICENSE.txt"), _read("llama3.LICENSE.txt"), old_id="llama2", new_id="llama3"
    )
    summary = "\n".join(diff.summary)
    assert 'Attribution "Built with Meta Llama 3" is now required.' in summary
    assert 'Derivative model names must now begin with "Llama 3".' in summary
    # Both versions forbid improving other LLMs with outputs: no flip to report.
    assert all(c.term != "output_restriction" for c in diff.term_changes)
    modified = {c.key for c in diff.section_changes if c.kind == "modified"}
    assert {"1.b.i", "5.a"} <= modified
    assert "acceptable use policy text included in the file was appended" in summary


def test_section_parsing_handles_letters_and_roman_numerals() -> None:
    text = """TEST LICENSE

"Thing" means a thing.

1. Rights.
    a. Grant. You may use it.
    b. Redistribution.
        i. Keep this file.
        ii. Keep the notice.
    h. Eighth.
    i. Ninth letter, not a roman numeral.
2. Law. Governed by the laws of Ruritania, without conflicts rules.
"""
    keys = [s.key for s in split_sections(text)]
    assert keys == [
        "preamble",
        "definition Thing",
        "1",
        "1.a",
        "1.b",
        "1.b.i",
        "1.b.ii",
        "1.h",
        "1.i",
        "2",
    ]
    assert extract_terms(text).governing_law == "Ruritania"


def test_terms_read_from_text_detect_added_restrictions() -> None:
    base = "SAMPLE MODEL LICENSE\n\n1. Grant. You may use the model.\n"
    stricter = (
        base + "2. Limits. If your products have more than 50 million monthly active users, ask "
        'us. Display "Built with Sample" in your product. With respect to the models, the rights '
        "are not being granted to you if you are domiciled in the European Union.\n"
    )
    diff = diff_texts(base, stricter)
    messages = "\n".join(diff.summary)
    assert "monthly-active-user threshold changed from none to 50000000" in messages
    assert 'Attribution "Built with Sample" is now required.' in messages
    assert "The EU restriction" in messages and "was added" in messages
    assert any(c.key == "2" and c.kind == "added" for c in diff.section_changes)
    assert diff_texts(base, base).summary == ("No substantive change.",)


def test_kb_only_diff() -> None:
    diff = diff_license_ids("llama3.1", "llama3.2")
    assert diff.summary[0].startswith("License changed from Llama 3.1")
    assert any("Geographic restrictions were added" in line for line in diff.summary)
    to_nc = diff_license_ids("apache-2.0", "cc-by-nc-4.0")
    assert "The commercial use changed from yes to no." in to_nc.summary
    llama = diff_license_ids("llama3", "llama3.1")
    assert any("outputs to improve" in line and "removed" in line for line in llama.summary)
