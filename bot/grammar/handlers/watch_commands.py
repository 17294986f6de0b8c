"""Upstream subcommands: watch, unwatch, check, changes, diff."""

from __future__ import annotations

from sqlalchemy import select

from bot.grammar.spec.invocation import Args, Invocation
from bot.grammar.spec.subcommand import Subcommand
from bot.render.blocks import Reply, message_reply
from bot.render.upstream import changes_reply, cycle_reply, diff_reply
from governance.core.db import transaction
from governance.flows.recheck import run_cycle
from governance.licenses.diffs import clause_diffs
from governance.registry.models import TrackedModel
from governance.registry.validation import validate_repo_id
from governance.upstream import service
from governance.wiring.contexts import watch_context


def watch(inv: Invocation, args: Args) -> Reply:
    """Start rechecking a model upstream on the schedule (tracking it if new)."""
    s = inv.services
    with transaction(inv.session_factory) as session:
        model = service.watch(session, repo_id=args.positionals[0], actor=inv.user, clock=s.clock)
        return message_reply(
            f"Watching {model.repo_id} upstream; the next recheck will take its first snapshot "
            f"(or run `/models check {model.repo_id}` now).",
            data={"repo_id": model.repo_id, "watched": True},
        )


def unwatch(inv: Invocation, args: Args) -> Reply:
    """Stop rechecking a model; its approvals stay as they are (approvers)."""
    s = inv.services
    with transaction(inv.session_factory) as session:
        model = service.unwatch(
            session,
            repo_id=args.positionals[0],
            actor=inv.user,
            approvers=s.approvers,
            clock=s.clock,
        )
        return message_reply(
            f"Stopped watching {model.repo_id}; its approvals stay as they are.",
            data={"repo_id": model.repo_id, "watched": False},
        )


def check(inv: Invocation, args: Args) -> Reply:
    """Recheck now: every watched model, or the ones named; the cycle's summary."""
    for repo in args.positionals:
        validate_repo_id(repo)
    report = run_cycle(
        watch_context(inv.services), repo_ids=args.positionals or None, trigger="manual"
    )
    return cycle_reply(report)


def changes(inv: Invocation, args: Args) -> Reply:
    """The 20 most recent upstream changes, of one model or of all."""
    repo = args.positionals[0] if args.positionals else None
    with transaction(inv.session_factory) as session:
        rows = service.recent_changes(session, repo_id=repo, limit=20)
        names = dict(session.execute(select(TrackedModel.id, TrackedModel.repo_id)).all())
        title = f"Upstream changes of {repo}" if repo else "Recent upstream changes"
        return changes_reply([(c, names.get(c.model_id, "?")) for c in rows], title=title)


def diff(inv: Invocation, args: Args) -> Reply:
    """What changed in a model's license texts between two snapshots (the last two by default)."""
    repo = args.positionals[0]
    refs = args.positionals[1:]
    with transaction(inv.session_factory) as session:
        old, new, texts = service.license_diff(
            session,
            repo_id=repo,
            from_ref=refs[0] if refs else None,
            to_ref=refs[1] if len(refs) > 1 else None,
        )
        diffs = clause_diffs(texts, old_ref=(old.sha or "?")[:12], new_ref=(new.sha or "?")[:12])
        return diff_reply(new.repo_id, old, new, diffs)


SUBCOMMANDS = [
    Subcommand(
        "watch",
        "watch <repo>",
        "Recheck a model upstream on the schedule.",
        watch,
        description="Tracks the model if it is new and rechecks it on the Hub on every "
        "scheduled cycle (license, gating, revisions); a change becomes an "
        "alert.",
        examples=(("watch meta-llama/Llama-3.1-8B-Instruct", "recheck it from now on"),),
        min_args=1,
        max_args=1,
    ),
    Subcommand(
        "unwatch",
        "unwatch <repo>",
        "Stop rechecking a model (approvers).",
        unwatch,
        description="Approvers only. The model is no longer rechecked upstream; its "
        "approvals stay as they are.",
        examples=(("unwatch org/old-model", "stop rechecking it"),),
        min_args=1,
        max_args=1,
    ),
    Subcommand(
        "check",
        "check [<repo>...]",
        "Recheck now: all watched models, or those named.",
        check,
        description="Runs a recheck cycle now, on every watched model or on the ones "
        "named (up to 20), and answers with the cycle's summary. A timeout "
        "or rate limit on the Hub is a failed check, never a change.",
        examples=(
            ("check", "recheck every watched model"),
            ("check org/a org/b", "recheck two"),
        ),
        max_args=20,
        slow=True,
    ),
    Subcommand(
        "changes",
        "changes [<repo>]",
        "Recent upstream changes.",
        changes,
        description="The 20 most recent upstream changes seen by the watcher, of one "
        "model or of all.",
        examples=(
            ("changes", "the latest changes of every model"),
            ("changes org/model", "of one"),
        ),
        max_args=1,
        reads_only=True,
    ),
    Subcommand(
        "diff",
        "diff <repo> [<from-sha> <to-sha>]",
        "What changed in the license texts, clause by clause, then the diff.",
        diff,
        description="Compares a model's license texts between two snapshots (the last "
        "two unless two revision shas are given): the clauses that changed "
        "first, then the text diff.",
        examples=(
            ("diff meta-llama/Llama-3.1-8B-Instruct", "the last license change"),
            ("diff org/model 1a2b3c4 5d6e7f8", "between two revisions"),
        ),
        min_args=1,
        max_args=3,
        reads_only=True,
    ),
]
