"""Alert routing subcommands: subscribe, unsubscribe, subscriptions (like ``/github subscribe``).

Changing routing is for approvers (the service enforces it); listing is for everyone.
"""

from __future__ import annotations

from bot.grammar.spec import Args, Invocation, Subcommand
from bot.render.alerts import subscriptions_reply
from bot.render.blocks import Reply, escape, section
from bot.render.mentions import channel_ref
from governance.alerts import subscriptions as service
from governance.core.db import transaction


def subscribe(inv: Invocation, args: Args) -> Reply:
    s = inv.services
    destination = service.parse_destination(args.positionals[0])
    kinds = service.parse_kinds([w.strip(",") for w in args.positionals[1:] if w.strip(",")])
    with transaction(inv.session_factory) as session:
        service.subscribe(
            session,
            destination=destination,
            kinds=kinds,
            actor=inv.user,
            clock=s.clock,
            approvers=s.approvers,
        )
    what = ", ".join(kinds) if kinds else "every kind of"
    return Reply(
        text=f"{what} alerts now go to {destination}.",
        blocks=[section(f":bell: {escape(what)} alerts now go to {channel_ref(destination)}.")],
        data={"destination": destination, "kinds": kinds},
    )


def unsubscribe(inv: Invocation, args: Args) -> Reply:
    s = inv.services
    destination = service.parse_destination(args.positionals[0])
    with transaction(inv.session_factory) as session:
        service.unsubscribe(
            session, destination=destination, actor=inv.user, clock=s.clock, approvers=s.approvers
        )
    return Reply(
        text=f"{destination} no longer receives alerts.",
        blocks=[section(f"{channel_ref(destination)} no longer receives alerts.")],
        data={"destination": destination, "kinds": None, "removed": True},
    )


def subscriptions(inv: Invocation, args: Args) -> Reply:
    with transaction(inv.session_factory) as session:
        rows = [(s.destination, s.kinds) for s in service.list_subscriptions(session)]
    return subscriptions_reply(rows, default=inv.services.settings.alerts_channel)


SUBCOMMANDS = [
    Subcommand(
        "subscribe",
        "subscribe <#channel> [kinds...]",
        "Send alerts (all, or the kinds named) to a channel (approvers).",
        subscribe,
        min_args=1,
    ),
    Subcommand(
        "unsubscribe",
        "unsubscribe <#channel>",
        "Stop sending alerts to a channel (approvers).",
        unsubscribe,
        min_args=1,
        max_args=1,
    ),
    Subcommand(
        "subscriptions",
        "subscriptions",
        "Where each kind of alert goes.",
        subscriptions,
        max_args=0,
        reads_only=True,
    ),
]
