"""license, license-check, openness (with reviewer overrides) and the info section, end to end
through the watcher and the /models grammar."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.core.db import transaction
from governance.licenses.diffs import clause_diff
from governance.licenses.models import OpennessOverride
from governance.registry.models import AuditEvent
from tests.support.blocks_walk import mrkdwn_texts
from tests.support.license_fixtures import (
    MIT_TEXT,
    WEIGHTS,
    Governed,
    governed,
    needs_real,
    real_text,
)

REPO = "acme/open-7b"


@pytest.fixture
def gov(settings: Settings, clock: FrozenClock) -> Iterator[Governed]:
    yield from governed(settings, clock)


def _counts(gov: Governed) -> tuple[int, int]:
    with transaction(gov.services.session_factory) as session:
        return (
            session.scalar(select(func.count()).select_from(OpennessOverride)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def test_license_shows_the_knowledge_base_entry(gov: Governed) -> None:
    reply = gov.run("license llama3.1")
    assert reply.ok and reply.data["user_threshold"] == 700_000_000
    assert "Built with Llama" in "\n".join(mrkdwn_texts(reply.blocks))
    assert gov.run("license Apache License 2.0").data["id"] == "apache-2.0"
    missing = gov.run("license lama3")
    assert not missing.ok and "Did you mean 'llama3'" in missing.text
    assert "\n" not in missing.text


@needs_real
def test_license_check_finds_the_card_and_text_disagreeing(gov: Governed) -> None:
    gov.hub.add_model(
        REPO,
        license="apache-2.0",
        files={"LICENSE": real_text("llama3_1.LICENSE.txt"), **WEIGHTS},
    )
    gov.track(REPO)
    gov.cycle()
    reply = gov.run(f"license-check {REPO}")
    assert reply.ok
    codes = {f["code"]: f["message"] for f in reply.data["findings"]}
    assert codes["license_mismatch"] == (
        "The card says apache-2.0 but LICENSE is the Llama 3.1 Community License Agreement."
    )
    info = "\n".join(mrkdwn_texts(gov.run(f"info {REPO}").blocks))
    assert "LICENSE is the Llama 3.1 Community License" in info
    assert "restricted weights" in info  # the text governs, and it restricts use


def test_unknown_text_needs_a_human_and_upstream_text_is_escaped(gov: Governed) -> None:
    bespoke = "<!channel> Acme Model Terms. You may look but not touch. " * 10
    gov.hub.add_model(
        REPO,
        license="other",
        license_name="<!here> acme-terms",
        files={"LICENSE": bespoke, **WEIGHTS},
    )
    gov.track(REPO)
    gov.cycle()
    reply = gov.run(f"license-check {REPO}")
    assert "unidentified: needs a human" in reply.text
    for command in (f"license-check {REPO}", f"info {REPO}", f"openness {REPO}"):
        texts = list(mrkdwn_texts(gov.run(command).blocks))
        assert all("<!channel>" not in t and "<!here>" not in t for t in texts), command


def test_openness_and_reviewer_overrides(gov: Governed) -> None:
    gov.hub.add_model(
        REPO,
        license="mit",
        files={"LICENSE": MIT_TEXT, **WEIGHTS},
        tags=["transformers", "dataset:acme/corpus", "arxiv:2401.00001"],
    )
    gov.track(REPO)
    gov.cycle()
    reply = gov.run(f"openness {REPO}")
    assert reply.ok
    assert reply.data["verdicts"]["seed spectrum"]["result"] == "open weights"
    components = {c["component"]: c for c in reply.data["components"]}
    assert components["weights"]["status"] == "open"
    assert components["training_code"]["status"] == "unknown"
    url = "https://github.com/acme/open-7b-training"
    set_reply = gov.run(f"openness {REPO} set training-code open {url}")
    assert set_reply.ok, set_reply.text
    after = gov.run(f"openness {REPO}").data
    training = next(c for c in after["components"] if c["component"] == "training_code")
    assert training["overridden"] and url in training["evidence"][0]
    assert after["verdicts"]["seed spectrum"]["result"] == "fully open"
    assert after["verdicts"]["OSI OSAID 1.0"]["result"] == "open source AI"
    assert gov.run(f"openness {REPO} clear training_code").ok
    history = [e["action"] for e in gov.run(f"history {REPO}").data["events"]]
    assert history[-2:] == ["openness_override_set", "openness_override_cleared"]
    assert _counts(gov)[0] == 0


@pytest.mark.parametrize(
    ("text", "user", "fragment"),
    [
        (f"openness {REPO} set weights open https://x.org/e", "carol", "Only approvers"),
        (f"openness {REPO} set wheels open https://x.org/e", "alice", "Unknown openness component"),
        (f"openness {REPO} set weights shut https://x.org/e", "alice", "expected open, partial"),
        (f"openness {REPO} set weights open javascript:alert(1)", "alice", "is not a link"),
        (f"openness {REPO} set weights open <!channel>", "alice", "is not a link"),
        (f"openness {REPO} set weights open", "alice", "Usage"),
        (f"openness {REPO} frob", "alice", "expected set or clear"),
        (f"openness {REPO} clear weights", "alice", "no reviewer override"),
        ("openness nobody/here set weights open https://x.org/e", "alice", "not tracked"),
        ("license-check llama", "alice", "namespace/name"),
    ],
)
def test_bad_openness_input_gets_one_sentence_and_writes_nothing(
    gov: Governed, text: str, user: str, fragment: str
) -> None:
    gov.track(REPO)
    before = _counts(gov)
    reply = gov.run(text, user=user)
    assert not reply.ok and fragment in reply.text, reply.text
    assert "\n" not in reply.text and len(reply.text) < 400
    assert all("<!channel>" not in t for t in mrkdwn_texts(reply.blocks))
    assert _counts(gov) == before


def test_not_checked_yet(gov: Governed) -> None:
    gov.track(REPO)
    for command in (f"license-check {REPO}", f"openness {REPO}"):
        reply = gov.run(command)
        assert reply.ok and "not been checked upstream yet" in reply.text
    assert "not checked upstream yet" in "\n".join(mrkdwn_texts(gov.run(f"info {REPO}").blocks))


@needs_real
def test_clause_diff_names_the_licenses_and_leads_with_the_summary() -> None:
    diff = clause_diff(
        "LICENSE",
        real_text("llama3.LICENSE.txt"),
        real_text("llama3_1.LICENSE.txt"),
        old_ref="abc123",
        new_ref="def456",
    )
    assert diff.summary[0] == (
        "LICENSE changed from the Meta Llama 3 Community License Agreement to the "
        "Llama 3.1 Community License Agreement."
    )
    assert any("output" in line.lower() for line in diff.summary)
    assert diff.unified_diff.startswith("--- LICENSE@abc123\n+++ LICENSE@def456\n")
    added = clause_diff("USE_POLICY.md", "", real_text("llama3_1.USE_POLICY.md"))
    assert added.summary[0] == "USE_POLICY.md was added."
