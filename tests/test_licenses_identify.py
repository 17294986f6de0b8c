"""Identification of license texts and card metadata, and their reconciliation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from governance.licenses.identify import (
    NEEDS_HUMAN,
    identify_metadata,
    identify_text,
    reconcile,
)
from governance.licenses.knowledge import load_knowledge_base

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "licenses"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="shared/realdata/licenses is absent")

CASES = [
    ("llama2.LICENSE.txt", "llama2", "license"),
    ("llama3.LICENSE.txt", "llama3", "license"),
    ("llama3_1.LICENSE.txt", "llama3.1", "license"),
    ("llama2.USE_POLICY.md", "llama2", "use_policy"),
    ("llama3.USE_POLICY.md", "llama3", "use_policy"),
    ("llama3_1.USE_POLICY.md", "llama3.1", "use_policy"),
]


def _without_fingerprints():
    """The knowledge base with fingerprints removed, to exercise the signature path."""
    kb = load_knowledge_base()
    signatures = tuple(dataclasses.replace(s, fingerprints=()) for s in kb.signatures)
    clone = type(kb)(kb.all(), kb.hub_ids(), signatures, kb.families)
    return clone


@needs_real
@pytest.mark.parametrize(("name", "license_id", "document"), CASES)
def test_real_texts_are_identified(name: str, license_id: str, document: str) -> None:
    text = (REAL / name).read_text(encoding="utf-8")
    exact = identify_text(text)
    assert (exact.status, exact.license_id, exact.document) == ("identified", license_id, document)
    assert exact.method == "fingerprint"
    by_signature = identify_text(text + "\nA trailing line.", kb=_without_fingerprints())
    assert by_signature.license_id == license_id
    assert by_signature.document == document
    assert by_signature.method == "signature"
    assert by_signature.confidence >= 0.85


@needs_real
@pytest.mark.parametrize(("name", "license_id", "document"), CASES)
def test_whitespace_and_header_reordering(name: str, license_id: str, document: str) -> None:
    text = (REAL / name).read_text(encoding="utf-8")
    rewrapped = "\n\n".join("   ".join(line.split()) for line in text.splitlines()) + "\n\n\n"
    assert identify_text(rewrapped).license_id == license_id
    lines = text.strip().splitlines()
    second = next(i for i, line in enumerate(lines[1:], 1) if line.strip())
    lines[0], lines[second] = lines[second], lines[0]
    swapped = identify_text("\n".join(lines), kb=_without_fingerprints())
    assert (swapped.license_id, swapped.document) == (license_id, document)


@needs_real
def test_one_clause_removed_is_identified_but_reported() -> None:
    text = (REAL / "llama3.LICENSE.txt").read_text(encoding="utf-8")
    edited = "\n".join(line for line in text.splitlines() if "improve any other" not in line)
    result = identify_text(edited)
    assert result.license_id == "llama3"
    assert result.method == "signature"
    assert "improve any other large language model" in result.missing
    assert result.confidence < 0.95


@needs_real
def test_other_version_of_a_known_license_is_not_called_the_known_one() -> None:
    text = (REAL / "llama3_1.LICENSE.txt").read_text(encoding="utf-8")
    # Same family, a version date we have never reviewed: must not be called 3.1.
    redated = text.replace("July 23, 2024", "March 3, 2026")
    result = identify_text(redated)
    assert not result.identified
    assert result.message.startswith(NEEDS_HUMAN)
    assert result.family_hint == "llama"
    # A Llama "3.9" text (renamed throughout) is not any version we know.
    renamed = text.replace("3.1", "3.9").replace("3_1", "3_9")
    assert identify_text(renamed).license_id is None


def test_unrelated_texts_are_unidentified() -> None:
    eula = """ACME WIDGET END USER LICENSE AGREEMENT
    Acme grants you a personal, revocable permission to run one copy of the widget on a
    single computer you own. You may not rent it out, take it apart to learn how it works,
    or pass it on to anyone else. Acme may end this permission if you break these rules.
    Everything is provided as it is, without promises. Delaware law applies."""
    gpl_like = """GNU GENERAL PUBLIC LICENSE
    Version 3, 29 June 2007
    Preamble
    A few words about shared programs: whoever wrote them wants every recipient to be able to
    share and change them, and the Free Software Foundation helps them do it. When you pass the
    program on, you pass on the same freedoms you received, and nothing less."""
    for text in (eula, gpl_like, "", "MIT"):
        result = identify_text(text)
        assert result.status == "unidentified", text[:30]
        assert result.license_id is None
        assert result.message.startswith(NEEDS_HUMAN)
    assert identify_text(gpl_like).family_hint == "gnu"


def test_written_permissive_texts_are_identified() -> None:
    mit = """MIT License

    Copyright (c) 2026 Example Org

    Permission is hereby granted, free of charge, to any person obtaining a copy of this
    software and associated documentation files (the "Software"), to deal in the Software
    without restriction, subject to the following conditions:

    The above copyright notice and this permission notice shall be included in all copies or
    substantial portions of the Software.

    THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND."""
    assert identify_text(mit).license_id == "mit"
    # MIT plus a vendor model license in one file is not "MIT": it needs a human.
    bundle = mit + (
        "\n\nTongyi Qianwen LICENSE AGREEMENT\n\nTongyi Qianwen Release Date: August 3, 2023\n"
        "Alibaba Cloud grants you rights. If your product has more than 100 million monthly "
        "active users, ask Alibaba Cloud. You may not use the outputs to improve any other "
        "large language model. Governed by the laws of China."
    )
    result = identify_text(bundle)
    assert result.status == "multiple"
    assert set(result.candidates) == {"mit", "tongyi-qianwen"}
    assert result.license_id is None


def test_metadata_identification() -> None:
    assert identify_metadata({"license": "llama3.1"}).license_id == "llama3.1"
    other = identify_metadata(
        {"license": "other", "license_name": "mrl", "license_link": "https://x.example/LICENSE"}
    )
    assert (other.status, other.license_id) == ("identified", "mrl")
    by_link = identify_metadata(
        {"license": "other", "license_link": "https://mistral.ai/licenses/MRL-0.1.md"}
    )
    assert by_link.license_id == "mrl"
    unresolved = identify_metadata({"license": "other", "license_name": "acme-model-license"})
    assert unresolved.status == "unresolved"
    assert unresolved.license_id is None
    assert identify_metadata({}, ["license:apache-2.0"]).license_id == "apache-2.0"
    assert identify_metadata(None).status == "missing"
    assert identify_metadata({"license": ["mit", "apache-2.0"]}).status == "conflict"


@needs_real
def test_reconcile_reports_card_and_text_disagreement() -> None:
    text = identify_text((REAL / "llama3_1.LICENSE.txt").read_text(encoding="utf-8"))
    policy = identify_text((REAL / "llama3.USE_POLICY.md").read_text(encoding="utf-8"))
    findings = reconcile(identify_metadata({"license": "apache-2.0"}), text, policy)
    codes = {f.code for f in findings}
    assert "license_mismatch" in codes
    assert "policy_mismatch" in codes
    mismatch = next(f for f in findings if f.code == "license_mismatch")
    assert mismatch.message == (
        "The card says apache-2.0 but LICENSE is the Llama 3.1 Community License Agreement."
    )
    agree = reconcile(identify_metadata({"license": "llama3.1"}), text)
    assert [f.code for f in agree] == ["consistent"]


def test_reconcile_without_text_or_with_unknown_text() -> None:
    meta = identify_metadata({"license": "apache-2.0"})
    assert {f.code for f in reconcile(meta, None)} == {"no_license_text"}
    unknown = identify_text("Some words that are no license at all. " * 10)
    assert "text_unidentified" in {f.code for f in reconcile(meta, unknown)}
