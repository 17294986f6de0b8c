"""Alert subcommands: alerts (what waits in the outbox, read without consuming it), subscribe,
unsubscribe, subscriptions (like ``/github subscribe``), and the handler of an alert's
Acknowledge button.

Changing routing and acknowledging are for approvers (the service enforces it); listing is for
everyone.
"""

from __future__ import annotations

from bot.grammar.spec.invocation import Args, Invocation
from bot.grammar.spec.subcommand import Subcommand
from bot.render.alerts import (
    alert_detail_reply,
    alerts_reply,
    describe_filter,
    subscriptions_reply,
)
from bot.render.blocks import Reply, escape, message_reply, section
from bot.render.mentions import channel_ref
from governance.alerts import acks, listing
from governance.alerts import subscriptions as alert_subscriptions
from governance.alerts.outgoing import outgoing_alert
from governance.core.db import transaction
from governance.core.errors import InvalidInput
from governance.registry.validation import parse_number


def alerts(inv: Invocation, args: Args) -> Reply:
    """``alerts [pending|delivered|all] [--limit N]``: the alerts in the outbox, newest first
    (pending by default: those still waiting for Slack); ``alerts #N``: one alert in full.
    Reads only: nothing is claimed or marked delivered.

    Raises InvalidInput for an unknown state or a bad limit, NotFound for an unknown number."""
    word = args.positionals[0] if args.positionals else None
    number = parse_number(word, what="alert") if word is not None else None
    with transaction(inv.session_factory) as session:
        if number is not None:
            if args.option("limit") is not None:
                raise InvalidInput("--limit lists alerts; `alerts #N` shows one.")
            alert = acks.get_alert(session, number)
            return alert_detail_reply(outgoing_alert(session, alert), alert)
        page = listing.list_alerts(
            session,
            state=listing.parse_state(word),
            limit=listing.parse_limit(args.option("limit")),
        )
        return alerts_reply(page, slack_configured=bool(inv.services.settings.slack_bot_token))


def subscribe(inv: Invocation, args: Args) -> Reply:
    """Route alerts to a channel: every kind, or the kinds and groups named (``--kinds
    license,gating`` or as words), about every model or those matching ``--repo`` patterns
    (repeatable: ``--repo meta-llama/* --repo google/gemma-*``); approvers only.

    Raises InvalidInput for a bad channel, kind or pattern; PermissionDenied for a
    non-approver."""
    s = inv.services
    destination = alert_subscriptions.parse_destination(args.positionals[0])
    kinds = alert_subscriptions.parse_kinds([*args.values("kinds"), *args.positionals[1:]])
    repos = alert_subscriptions.parse_repo_patterns(args.values("repo"))
    with transaction(inv.session_factory) as session:
        alert_subscriptions.subscribe(
            session,
            destination=destination,
            kinds=kinds,
            repos=repos,
            actor=inv.user,
            clock=s.clock,
            approvers=s.approvers,
        )
    what = describe_filter(kinds, repos)
    return Reply(
        text=f"{what} now go to {destination}.",
        blocks=[section(f":bell: {escape(what)} now go to {channel_ref(destination)}.")],
        data={"destination": destination, "kinds": kinds, "repos": repos},
    )


def unsubscribe(inv: Invocation, args: Args) -> Reply:
    """Stop routing alerts to a channel; approvers only."""
    s = inv.services
    destination = alert_subscriptions.parse_destination(args.positionals[0])
    with transaction(inv.session_factory) as session:
        alert_subscriptions.unsubscribe(
            session, destination=destination, actor=inv.user, clock=s.clock, approvers=s.approvers
        )
    return Reply(
        text=f"{destination} no longer receives alerts.",
        blocks=[section(f"{channel_ref(destination)} no longer receives alerts.")],
        data={"destination": destination, "kinds": None, "removed": True},
    )


def subscriptions(inv: Invocation, args: Args) -> Reply:
    """Where each kind of alert goes (the alerts channel when nothing is routed)."""
    with transaction(inv.session_factory) as session:
        rows = [
            (s.destination, s.kinds, s.repos)
            for s in alert_subscriptions.list_subscriptions(session)
        ]
    return subscriptions_reply(rows, default=inv.services.settings.alerts_channel)


def acknowledge(inv: Invocation, args: Args) -> Reply:
    """Acknowledge alert ``args.positionals[0]`` (its number); a button's handler, not typed.

    Raises:
        InvalidInput: not a number. NotFound: no such alert. PermissionDenied: not an approver.
        Conflict: it was already acknowledged (the message says by whom).
    """
    s = inv.services
    alert_id = parse_number(args.positionals[0], what="alert")
    if alert_id is None:
        raise InvalidInput(f"{args.positionals[0][:30]!r} is not an alert number.")
    with transaction(inv.session_factory) as session:
        acks.acknowledge(
            session, alert_id=alert_id, actor=inv.user, clock=s.clock, approvers=s.approvers
        )
    return message_reply(f"Alert #{alert_id} acknowledged.", data={"alert_id": alert_id})


SUBCOMMANDS = [
    Subcommand(
        "alerts",
        "alerts [pending|delivered|all|#N] [--limit N]",
        "Alerts waiting for Slack (or delivered, or all), newest first; #N shows one in full.",
        alerts,
        value_options=frozenset({"limit"}),
        max_args=1,
        reads_only=True,
        description="The outbox's alerts, newest first: by default those still waiting for "
        "Slack (a process without SLACK_BOT_TOKEN delivers none; a worker with one posts each "
        "once). Looking never consumes them.",
        options=(("--limit N", "show at most N alerts (1-100, default 20)"),),
        examples=(
            ("alerts", "what waits for Slack"),
            ("alerts delivered --limit 5", "the last five delivered"),
            ("alerts #12", "alert 12 in full, as Slack shows it"),
        ),
    ),
    Subcommand(
        "subscribe",
        "subscribe <#channel> [--repo PATTERN]... [--kinds KIND,...]",
        "Send alerts to a channel: all, or some kinds, about models matching --repo (approvers).",
        subscribe,
        value_options=frozenset({"repo", "kinds"}),
        min_args=1,
        description="Routes alerts to a channel, replacing its previous subscription. Alerts no "
        "subscription takes go to the alerts channel. Kinds: kind ids or the groups license, "
        "gating, revision, availability, release, upstream, expiry, policy.",
        options=(
            (
                "--repo PATTERN",
                "only models whose repo id matches this glob (repeatable; an owner alone means "
                "all its models)",
            ),
            ("--kinds KIND,...", "only these kinds or groups (default: every kind)"),
        ),
        examples=(
            (
                "subscribe #llama --repo meta-llama/* --kinds license,gating",
                "Meta's license and gating changes to #llama",
            ),
            ("subscribe #releases --kinds release", "new releases and successors of any model"),
        ),
    ),
    Subcommand(
        "unsubscribe",
        "unsubscribe <#channel>",
        "Stop sending alerts to a channel (approvers).",
        unsubscribe,
        description="Approvers only. Removes the channel's subscription, whatever kinds and "
        "models it named; an alert no other subscription takes goes to the alerts channel "
        "(MODELGOV_ALERTS_CHANNEL).",
        examples=(("unsubscribe #ml-legal", "no more alerts in #ml-legal"),),
        min_args=1,
        max_args=1,
    ),
    Subcommand(
        "subscriptions",
        "subscriptions",
        "Where alerts go: each channel with the kinds and models it takes.",
        subscriptions,
        description="Every subscription: its channel, the kinds of alert and the models "
        "(repo patterns) it takes. An alert no subscription takes goes to the alerts "
        "channel (MODELGOV_ALERTS_CHANNEL).",
        examples=(("subscriptions", "where each alert goes"),),
        max_args=0,
        reads_only=True,
    ),
]
