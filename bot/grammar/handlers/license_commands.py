"""License, identification, openness and team-policy subcommands.

license <id> · license-check <repo> · openness <repo> [set|clear ...] · policy [show|set|unset]
"""

from __future__ import annotations

from bot.grammar.spec.invocation import Args, Invocation
from bot.grammar.spec.subcommand import Subcommand
from bot.render.blocks import Reply, message_reply
from bot.render.licenses import (
    license_check_reply,
    license_reply,
    not_checked_reply,
    openness_reply,
)
from bot.render.lineage import with_binding
from bot.render.policy import policy_show_reply
from governance.core.db import transaction
from governance.core.errors import InvalidInput
from governance.flows.lineage_view import lineage_view
from governance.licenses import overrides, policy_store
from governance.licenses.knowledge import load_knowledge_base
from governance.registry.tracking import get_model
from governance.upstream.snapshot_evidence import latest_evidence


def license_(inv: Invocation, args: Args) -> Reply:
    """The reviewed terms of one license, by its Hub id."""
    return license_reply(load_knowledge_base().get(args.rest(0)))


def license_check(inv: Invocation, args: Args) -> Reply:
    """What a tracked model's card and LICENSE text say about its license."""
    with transaction(inv.session_factory) as session:
        model = get_model(session, args.positionals[0])
        found = latest_evidence(session, model)
        if found is None:
            return not_checked_reply(model, "license evidence")
        view = lineage_view(session, model, today=inv.services.clock.now().date())
        return with_binding(license_check_reply(found), view)


def openness(inv: Invocation, args: Args) -> Reply:
    """Where a model sits on the openness spectrum; ``set`` / ``clear`` an override (approvers)."""
    repo, action = args.positionals[0], [p.lower() for p in args.positionals[1:2]]
    services = inv.services
    with transaction(inv.session_factory) as session:
        if action == ["set"]:
            if len(args.positionals) != 5:
                raise InvalidInput(
                    "Usage: `openness <repo> set <component> <open|partial|closed> <evidence-url>`."
                )
            _, _, component, status, url = args.positionals
            row = overrides.set_override(
                session,
                repo_id=repo,
                component=component,
                status=status,
                evidence_url=url,
                actor=inv.user,
                approvers=services.approvers,
                clock=services.clock,
            )
            message = f"Openness of {repo}: {row.component} is now {row.status} (evidence: {url})."
            return message_reply(message, data={"component": row.component, "status": row.status})
        if action == ["clear"]:
            if len(args.positionals) != 3:
                raise InvalidInput("Usage: `openness <repo> clear <component>`.")
            component = overrides.clear_override(
                session,
                repo_id=repo,
                component=args.positionals[2],
                actor=inv.user,
                approvers=services.approvers,
                clock=services.clock,
            )
            return message_reply(f"Openness of {repo}: the override of {component} was removed.")
        if action:
            raise InvalidInput(
                f"Unknown openness action {args.positionals[1][:30]!r}; expected set or clear."
            )
        model = get_model(session, repo)
        found = latest_evidence(session, model)
        return openness_reply(found) if found else not_checked_reply(model, "openness")


def policy(inv: Invocation, args: Args) -> Reply:
    """Show the team policy, or ``set`` / ``unset`` one rule (approvers)."""
    services = inv.services
    action = args.positionals[0].lower() if args.positionals else "show"
    with transaction(inv.session_factory) as session:
        if action == "show" and len(args.positionals) <= 1:
            return policy_show_reply(policy_store.show_policy(session))
        if action == "set" and len(args.positionals) >= 3:
            setting = policy_store.set_rule(
                session,
                rule=args.positionals[1],
                words=args.positionals[2:],
                actor=inv.user,
                approvers=services.approvers,
                clock=services.clock,
            )
            return message_reply(
                f"Policy rule {setting.name} is now {setting.shown}.",
                data={"rule": setting.name, "value": setting.value},
            )
        if action == "unset" and len(args.positionals) == 2:
            name = policy_store.unset_rule(
                session,
                rule=args.positionals[1],
                actor=inv.user,
                approvers=services.approvers,
                clock=services.clock,
            )
            return message_reply(f"Policy rule {name} is no longer set.", data={"rule": name})
    raise InvalidInput(
        "Usage: `policy show`, `policy set <rule> <value>` or `policy unset <rule>`."
    )


SUBCOMMANDS = [
    Subcommand(
        "license",
        "license <id>",
        "The reviewed terms of a license (a Hub id such as llama3.1 or apache-2.0).",
        license_,
        description="The terms the team's license knowledge base records for a license, "
        "by the id the Hub uses: its SPDX id, commercial use and its "
        "conditions, attribution, the restrictions (on outputs, by place, "
        "research only) and whether they flow down.",
        examples=(
            ("license llama3.1", "the Llama 3.1 Community License"),
            ("license apache-2.0", "the Apache License 2.0"),
        ),
        min_args=1,
        reads_only=True,
    ),
    Subcommand(
        "license-check",
        "license-check <repo>",
        "What the card and the LICENSE text say about a model's license, and where they differ.",
        license_check,
        description="For a tracked model, from its latest snapshot: the license its "
        "card declares, the license its LICENSE text is identified as (with "
        "the confidence), and where they disagree.",
        examples=(("license-check meta-llama/Llama-3.1-8B-Instruct", "card against LICENSE text"),),
        min_args=1,
        max_args=1,
        reads_only=True,
    ),
    Subcommand(
        "openness",
        "openness <repo> [set <component> <open|partial|closed> <url> | clear <component>]",
        "Where a model sits on the openness spectrum (OSI OSAID, MOF); approvers can override.",
        openness,
        description="Which components are released openly (architecture, weights, "
        "training code, training data, inference code, model card, data "
        "card, paper) and the verdicts that follow (OSI OSAID, MOF). "
        "Approvers can set a component's status with evidence, or clear it.",
        examples=(
            ("openness org/model", "the verdicts and the evidence"),
            (
                "openness org/model set training-data open https://example.org/data",
                "override one component, citing evidence (approvers)",
            ),
            ("openness org/model clear training-data", "remove that override (approvers)"),
        ),
        min_args=1,
        max_args=5,
        reads_only=lambda arguments: len(arguments) <= 1,
    ),
    Subcommand(
        "policy",
        "policy [show | set <rule> <value> | unset <rule>]",
        "The team policy that requests and upstream changes are checked against (approvers set).",
        policy,
        description="The rules every request and upstream change is checked against. "
        "Rules: allowed-licenses, denied-licenses, commercial-use, "
        "deny-output-restrictions, min-openness, license-text-required, "
        "max-approval-days, derivatives, dry-run. An unset rule is not "
        "checked; approvers set and unset them.",
        examples=(
            ("policy", "every rule and its value"),
            ("policy set denied-licenses cc-by-nc-4.0", "never approve that license"),
            ("policy unset max-approval-days", "stop capping approvals"),
        ),
        max_args=12,
        reads_only=lambda arguments: not arguments or arguments[0].lower() == "show",
    ),
]
