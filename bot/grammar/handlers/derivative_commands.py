"""Derivative subcommands: ``variants`` (a base model's derivatives on the Hub) and ``fit``
(which quantizations of a model fit the team's machines). Both ask the Hub, so both are slow:
Slack acks first and answers from a worker."""

from __future__ import annotations

from bot.grammar.spec.invocation import Args, Invocation
from bot.grammar.spec.subcommand import Subcommand
from bot.render.blocks import Reply
from bot.render.hardware import fit_reply
from bot.render.variants import variants_reply
from governance.core.db import transaction
from governance.hardware.profiles import machine_from_options, parse_context, parse_profiles
from governance.upstream.sizing import MachinesFrom, fit_report
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


def fit(inv: Invocation, args: Args) -> Reply:
    """The memory each quantization needs, against --ram/--vram or the team's profiles."""
    context = parse_context(args.option("context"))
    given = machine_from_options(args.option("ram"), args.option("vram"))
    machines = (given,) if given else parse_profiles(inv.services.settings.hardware_profiles)
    source: MachinesFrom = "options" if given else "profiles" if machines else "none"
    report = fit_report(
        inv.services.hub,
        args.positionals[0],
        context=context,
        machines=machines,
        machines_from=source,
    )
    return fit_reply(report)


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
    Subcommand(
        "fit",
        "fit <repo> [--ram GB] [--vram GB] [--context N]",
        "Which quantizations of a model fit the given memory or the team's machines "
        "(MODELGOV_HARDWARE_PROFILES), and the Hub files that supply them.",
        fit,
        value_options=frozenset({"ram", "vram", "context"}),
        min_args=1,
        max_args=1,
        slow=True,
    ),
]
