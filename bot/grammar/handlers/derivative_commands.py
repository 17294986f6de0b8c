"""Derivative subcommands: ``variants`` (a base model's derivatives on the Hub) and ``fit``
(which quantizations of a model fit the team's machines). Both ask the Hub, so both are slow:
Slack acks first and answers from a worker."""

from __future__ import annotations

from bot.grammar.spec.invocation import Args, Invocation
from bot.grammar.spec.subcommand import Subcommand
from bot.render.blocks import Reply
from bot.render.variants import variants_reply
from governance.core.db import transaction
from governance.upstream.variants import (
    find_variants,
    parse_page,
    parse_relation,
    team_standing,
)


def variants(inv: Invocation, args: Args) -> Reply:
    """A page of the base model's derivatives on the Hub, with the team's standing on each."""
    relation = parse_relation(args.option("relation"))
    page = parse_page(args.option("page"))
    found = find_variants(inv.services.hub, base=args.positionals[0], relation=relation, page=page)
    with transaction(inv.session_factory) as session:
        standings = team_standing(
            session, [v.repo_id for v in found.variants], today=inv.services.clock.now().date()
        )
    return variants_reply(found, standings)


SUBCOMMANDS = [
    Subcommand(
        "variants",
        "variants <repo> [--relation quantized|finetune|adapter|merge|all] [--page N]",
        "A model's derivatives on the Hub (default: quantized): license vs the base's, GGUF "
        "files and sizes, the team's standing.",
        variants,
        value_options=frozenset({"relation", "page"}),
        min_args=1,
        max_args=1,
        slow=True,
    ),
]
