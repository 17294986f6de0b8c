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
        description="Lists the derivatives the Hub tags with base_model:<relation>:<repo>, most "
        "downloaded first, 15 a page. For each: its card license and whether it agrees with "
        "the base's (a quantization or adapter is bound by its base's terms whatever its card "
        "says), its formats, its GGUF files with their sizes, and whether the team tracks or "
        "approved it. Card metadata only: license-check reads the LICENSE files.",
        options=(
            ("--relation RELATION", "quantized (default), finetune, adapter, merge or all"),
            ("--page N", "the page to show, 1 to 10"),
        ),
        examples=(
            ("variants meta-llama/Llama-3.1-8B-Instruct", "its quantized versions"),
            (
                "variants meta-llama/Llama-3.1-8B-Instruct --relation finetune",
                "its fine-tunes",
            ),
        ),
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
        description="Needed = parameters x bits per weight / 8 (llama.cpp's measured averages) "
        "+ the F16 KV cache (2 x layers x KV heads x head dim x context x 2 bytes, from "
        "config.json) + a 0.5 GiB overhead, for each of F16/BF16, Q8_0, Q6_K, Q5_K_M, Q4_K_M "
        "and Q3_K_M; checked against --ram/--vram, else the team's MODELGOV_HARDWARE_PROFILES. "
        "GB means GiB, as memory is sold. Also names the GGUF files on the Hub that supply "
        "each size.",
        options=(
            ("--ram GB", "memory the model may use on the CPU, e.g. 16 or 16GB"),
            ("--vram GB", "GPU memory; with --ram too, a model may be split across both"),
            ("--context N", "tokens of context to hold, e.g. 8192 or 8k (default 4096)"),
        ),
        examples=(
            ("fit meta-llama/Llama-3.1-8B-Instruct --ram 16", "on a 16 GB laptop"),
            ("fit meta-llama/Llama-3.1-8B-Instruct --vram 24 --context 32k", "on a 24 GB GPU"),
        ),
    ),
]
