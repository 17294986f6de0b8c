"""Team policy: rules stored by approvers, evaluation per rule, and approvals it blocks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select

from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.core.db import transaction
from governance.flows.policy_enforcement import policy_verdict
from governance.licenses.evidence import ModelEvidence, evidence_from_facts, openness_facts
from governance.licenses.models import PolicySetting
from governance.licenses.openness import assess_openness
from governance.licenses.policy_eval import evaluate
from governance.licenses.policy_rules import Policy
from governance.registry.models import AuditEvent, IntendedUse, TrackedModel
from governance.upstream.facts import FileFact, LicenseFileFact, SnapshotFacts
from tests.support.blocks_walk import mrkdwn_texts
from tests.support.license_fixtures import (
    MIT_TEXT,
    WEIGHTS,
    Governed,
    governed,
    needs_real,
    real_text,
)

REPO = "acme/model-7b"
TODAY = date(2026, 11, 27)


@pytest.fixture
def gov(settings: Settings, clock: FrozenClock) -> Iterator[Governed]:
    yield from governed(settings, clock)


def _found(
    license: str | None,
    texts: dict[str, str | None] | None = None,
    files: tuple[str, ...] = ("README.md", "config.json", "model.safetensors"),
    gated: str | None = None,
) -> ModelEvidence:
    """Evidence for a synthetic snapshot; a None text stands for a gated, unreadable file."""
    texts = texts or {}
    store = {f"h{i}": t for i, t in enumerate(texts.values()) if t is not None}
    hashes = {t: h for h, t in store.items()}
    facts = SnapshotFacts(
        repo_id=REPO,
        sha="a" * 40,
        license=license,
        gated=gated,
        tags=("transformers",),
        files=tuple(FileFact(p, 1, None, None) for p in (*files, *texts)),
        license_files=tuple(
            LicenseFileFact(
                path,
                None,
                "fetched" if t is not None else "gated_no_access",
                hashes.get(t) if t is not None else None,
            )
            for path, t in texts.items()
        ),
    )
    evidence = evidence_from_facts(facts, store.get)
    return ModelEvidence(
        TrackedModel(repo_id=REPO),
        facts,
        evidence,
        assess_openness(openness_facts(facts, evidence, {})),
    )


def _eval(policy: Policy, found: ModelEvidence | None, use: str = "commercial", **kw):  # type: ignore[no-untyped-def]
    report = evaluate(policy, found, IntendedUse(use), repo_id=REPO, today=TODAY, **kw)
    return {r.rule: r.outcome for r in report.results}, report


# ---------------------------------------------------------------------------- evaluation


def test_no_rules_pass_and_show_the_terms() -> None:
    outcomes, report = _eval(Policy(), _found("llama3.1"))
    assert outcomes == {} and report.outcome == "pass" and not report.blocking
    assert any("700,000,000 monthly active users" in t for t in report.terms)
    assert any("Built with Llama" in t for t in report.terms)


def test_denied_and_allowed_licenses() -> None:
    outcomes, _ = _eval(Policy(denied_licenses=("cc-by-nc-4.0",)), _found("cc-by-nc-4.0"))
    assert outcomes == {"denied-licenses": "fail"}
    outcomes, _ = _eval(Policy(allowed_licenses=("mit", "apache-2.0")), _found("mit"))
    assert outcomes == {"allowed-licenses": "pass"}  # a missing text is license-text-required's
    bespoke = _found("mit", {"LICENSE": "Bespoke terms of Acme, read carefully. " * 20})
    outcomes, report = _eval(Policy(allowed_licenses=("mit",)), bespoke)
    assert outcomes == {"allowed-licenses": "warn"}
    assert "unidentified: needs a human" in report.results[0].message
    outcomes, _ = _eval(Policy(allowed_licenses=("mit",)), _found("mit", {"LICENSE": MIT_TEXT}))
    assert outcomes == {"allowed-licenses": "pass"}


@needs_real
def test_card_and_text_disagree_the_text_counts_too() -> None:
    found = _found("apache-2.0", {"LICENSE": real_text("llama3_1.LICENSE.txt")})
    assert found.evidence.license_ids[:2] == ("llama3.1", "apache-2.0")
    outcomes, report = _eval(Policy(allowed_licenses=("apache-2.0", "mit")), found)
    assert outcomes == {"allowed-licenses": "fail"}
    assert "llama3.1 is not on the allowed list" in report.failures[0].message


def test_unknown_facts_warn_never_fail() -> None:
    policy = Policy(
        allowed_licenses=("mit",),
        commercial_use=True,
        deny_output_restrictions=True,
        min_openness="open-weights",
        license_text_required=True,
    )
    outcomes, report = _eval(policy, None)
    assert set(outcomes.values()) == {"warn"} and not report.checked
    outcomes, _ = _eval(policy, _found("other", {"LICENSE": "Some bespoke terms " * 30}))
    assert outcomes["allowed-licenses"] == "warn" and outcomes["commercial-use"] == "warn"


def test_commercial_use_depends_on_the_intended_use() -> None:
    policy = Policy(commercial_use=True)
    assert _eval(policy, _found("cc-by-nc-4.0"))[0] == {"commercial-use": "fail"}
    assert _eval(policy, _found("cc-by-nc-4.0"), "research")[0] == {"commercial-use": "pass"}
    assert _eval(policy, _found("llama3.1"))[0] == {"commercial-use": "warn"}  # conditional
    assert _eval(policy, _found("mit"))[0] == {"commercial-use": "pass"}


def test_output_restrictions_openness_and_license_text() -> None:
    assert _eval(Policy(deny_output_restrictions=True), _found("llama3"))[0] == {
        "deny-output-restrictions": "fail"
    }
    assert _eval(Policy(deny_output_restrictions=True), _found("llama3.1"))[0] == {
        "deny-output-restrictions": "pass"
    }
    gated = _found("llama3.1", gated="manual")
    assert gated.openness.spectrum.result == "restricted weights"
    assert _eval(Policy(min_openness="open-weights"), gated)[0] == {"min-openness": "fail"}
    assert _eval(Policy(min_openness="restricted"), gated)[0] == {"min-openness": "pass"}
    text = Policy(license_text_required=True)
    assert _eval(text, _found("mit"))[0] == {"license-text-required": "fail"}
    assert _eval(text, _found("mit", {"LICENSE": None}))[0] == {"license-text-required": "warn"}
    assert _eval(text, _found("mit", {"LICENSE": MIT_TEXT}))[0] == {"license-text-required": "pass"}


def test_max_duration_and_dry_run() -> None:
    policy = Policy(max_approval_days=90, denied_licenses=("mit",), dry_run=True)
    outcomes, report = _eval(policy, _found("mit"), expires_on=date(2027, 6, 1))
    assert outcomes == {"denied-licenses": "fail", "max-approval-days": "fail"}
    assert report.latest_expiry == date(2027, 2, 25)
    assert report.outcome == "fail" and not report.blocking  # dry run reports only


# ---------------------------------------------------------------------------- stored rules


def _counts(gov: Governed) -> tuple[int, int]:
    with transaction(gov.services.session_factory) as session:
        return (
            session.scalar(select(func.count()).select_from(PolicySetting)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def test_set_show_unset_are_audited(gov: Governed) -> None:
    reply = gov.run("policy set allowed-licenses Apache-2.0, mit")
    assert reply.ok and reply.data == {"rule": "allowed-licenses", "value": ["apache-2.0", "mit"]}
    assert gov.run("policy set max_approval_days 180").ok
    shown = gov.run("policy show", user="carol").data["rules"]
    assert shown["allowed-licenses"]["value"] == ["apache-2.0", "mit"]
    assert shown["max-approval-days"] == {"value": 180, "updated_by": "alice"}
    assert shown["dry-run"]["value"] is None
    assert gov.run("policy unset allowed-licenses").ok
    with transaction(gov.services.session_factory) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["policy_set", "policy_set", "policy_unset"]
        assert events[-1].before == {"rule": "allowed-licenses", "value": ["apache-2.0", "mit"]}


@pytest.mark.parametrize(
    ("text", "user", "fragment"),
    [
        ("policy set allowed-licenses apache-2.0", "carol", "Only approvers"),
        ("policy set frobnicate on", "alice", "Unknown policy rule"),
        ("policy set dry-run maybe", "alice", "takes on or off"),
        ("policy set min-openness very", "alice", "min-openness takes one of"),
        ("policy set max-approval-days 0", "alice", "from 1 to 3650"),
        ("policy set max-approval-days ٣٠", "alice", "from 1 to 3650"),  # Arabic-Indic 30
        ("policy set max-approval-days ３０", "alice", "from 1 to 3650"),  # fullwidth 30
        ("policy set denied-licenses lama3", "alice", "Did you mean"),
        ("policy set denied-licenses", "alice", "Usage"),
        ("policy unset dry-run", "alice", "is not set"),
        ("policy drop everything", "alice", "Usage"),
        ("policy set denied-licenses <!channel>", "alice", "No license"),
    ],
)
def test_bad_policy_input_gets_one_sentence_and_writes_nothing(
    gov: Governed, text: str, user: str, fragment: str
) -> None:
    before = _counts(gov)
    reply = gov.run(text, user=user)
    assert not reply.ok and fragment in reply.text, reply.text
    assert "\n" not in reply.text and len(reply.text) < 400
    assert all("<!channel>" not in t for t in mrkdwn_texts(reply.blocks))
    assert _counts(gov) == before


# ---------------------------------------------------------------------------- enforcement


def test_request_shows_the_verdict_and_a_fail_blocks_approval(gov: Governed) -> None:
    gov.hub.add_model(REPO, license="cc-by-nc-4.0", files=WEIGHTS)
    gov.track(REPO)
    gov.cycle()
    gov.run("policy set commercial-use on")
    reply = gov.run(f"request {REPO} --use commercial support bot", user="carol")
    assert reply.ok  # the request is recorded whatever the policy says
    text = "\n".join(mrkdwn_texts(reply.blocks))
    assert "fails the team policy" in text and "does not permit commercial use" in text
    assert "Terms that matter for commercial use" in text
    before = _counts(gov)
    refused = gov.run(f"approve {REPO}", user="bob")
    assert not refused.ok and "Team policy blocks approving #1" in refused.text
    assert "\n" not in refused.text and _counts(gov) == before
    assert gov.run(f"request {REPO} --use research", user="carol").ok
    assert gov.run(f"approve {REPO} --use research", user="bob").ok  # research passes
    gov.run("policy set dry-run on")
    assert gov.run(f"approve {REPO} --use commercial", user="bob").ok


def test_max_approval_days_caps_and_sets_the_expiry(gov: Governed) -> None:
    gov.run("policy set max-approval-days 30")
    gov.run(f"request {REPO} --use research", user="carol")
    refused = gov.run(f"approve {REPO} --expires 2027-06-01", user="bob")
    assert not refused.ok and "the latest allowed is 2026-12-27" in refused.text
    approved = gov.run(f"approve {REPO}", user="bob")
    assert approved.ok and approved.data["expires_on"] == "2026-12-27"


def test_policy_verdict_for_the_request_card(gov: Governed) -> None:
    gov.run("policy set license-text-required on")
    with transaction(gov.services.session_factory) as session:
        report = policy_verdict(
            session, repo_id="never/seen", use=IntendedUse.INTERNAL, clock=gov.services.clock
        )
    assert report.outcome == "warn" and not report.checked
    assert report.data()["rules"][0]["rule"] == "license-text-required"
