"""The approver directory: ``approvers [list | add @user | remove @user]``.

Slack sends a mention as ``<@U123|name>`` (the command's ``should_escape``) and a user group as
``<!subteam^S123|@handle>``; the console and CLI take a user id or console name as typed.
"""

from __future__ import annotations

import re

from bot.grammar.spec.invocation import Args, Invocation
from bot.grammar.spec.subcommand import Subcommand
from bot.render.approvers import approver_changed_reply, approvers_reply
from bot.render.blocks import Reply
from governance.core.db import transaction
from governance.core.errors import InvalidInput
from governance.registry import approvers as directory
from governance.registry import audit
from governance.registry.approvers import ApproverEntry
from governance.registry.models import USER_ID_MAX, ApproverKind, AuditChannel
from governance.registry.validation import validate_user_id

USAGE = "approvers [list | add @user | remove @user]"
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_GROUP_MENTION = re.compile(r"^<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>$")
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def parse_principal(text: str, *, slack: bool) -> tuple[ApproverKind, str]:
    """The person or user group ``text`` names: a Slack mention, an id, or a console name.

    In Slack only ids count (a name Slack did not turn into a mention names nobody it knows).

    Raises:
        InvalidInput: one sentence saying how to name someone.
    """
    text = text.strip()
    if found := _USER_MENTION.match(text):
        return ApproverKind.USER, found.group(1)
    if found := _GROUP_MENTION.match(text):
        return ApproverKind.USERGROUP, found.group(1)
    bare = text.removeprefix("@")
    shown = text[:40]
    if slack and not _SLACK_USER_ID.match(bare):
        raise InvalidInput(
            f"I cannot tell who {shown!r} is; mention them (type @ and pick the person from "
            f"the list) so Slack sends their user id."
        )
    try:
        return ApproverKind.USER, validate_user_id(bare)
    except InvalidInput:
        raise InvalidInput(
            f"{shown!r} is not a user I can add; give a user id like U012AB3CD or a console "
            f"user name (letters, digits, '.', '_', '-', '@'; at most {USER_ID_MAX} characters)."
        ) from None


def approvers(inv: Invocation, args: Args) -> Reply:
    """List the approvers and where each comes from; add or remove one (approvers only)."""
    words = args.positionals
    verb = words[0].lower() if words else "list"
    s = inv.services
    if verb == "list" and len(words) <= 1:
        with transaction(inv.session_factory) as session:
            entries = directory.list_approvers(session, s.approvers)
            changes = audit.events_with_actions(session, audit.APPROVER_ACTIONS, limit=5)
            return approvers_reply(entries, changes)
    if verb not in {"add", "remove"} or len(words) != 2:
        raise InvalidInput(f"Usage: `/models {USAGE}` (one person or group at a time).")
    slack = inv.origin is not None and inv.origin.channel is AuditChannel.SLACK
    kind, principal = parse_principal(words[1], slack=slack)
    with transaction(inv.session_factory) as session:
        if verb == "add":
            row = directory.add_approver(
                session,
                principal=principal,
                kind=kind,
                actor=inv.user,
                approvers=s.approvers,
                clock=s.clock,
            )
            return approver_changed_reply(ApproverEntry.added(row), added=True)
        removed = directory.remove_approver(
            session,
            principal=principal,
            kind=kind,
            actor=inv.user,
            approvers=s.approvers,
            clock=s.clock,
        )
        return approver_changed_reply(removed, added=False)


def _only_lists(words: list[str]) -> bool:
    return not words or (words[0].lower() == "list" and len(words) == 1)


def _asks_slack(inv: Invocation, words: list[str]) -> bool:
    """Whether ``list`` would ask Slack for a user group's members (usergroups.users.list):
    then Slack acks first, so a slow answer from Slack never costs the 3-second ack."""
    if not _only_lists(words) or inv.services.approvers.group_members is None:
        return False
    if inv.services.approvers.groups:
        return True
    with transaction(inv.session_factory) as session:
        return directory.has_stored_groups(session)


SUBCOMMANDS = [
    Subcommand(
        "approvers",
        USAGE,
        "Who may decide and where each comes from; approvers add or remove others.",
        approvers,
        max_args=2,
        reads_only=_only_lists,
        slow=_asks_slack,
        description=(
            "Approvers come from MODELGOV_APPROVERS (the environment), the user group "
            "MODELGOV_APPROVER_GROUP, or were added here by another approver; every approval "
            "check asks all three. Anyone may list them. Adding and removing is for approvers "
            "and audited; someone listed in MODELGOV_APPROVERS is removed there, and the last "
            "approver cannot be removed. In Slack, mention the person (or a user group)."
        ),
        examples=(
            ("approvers", "who may decide, and where each comes from"),
            ("approvers add @dana", "make Dana an approver (a Slack mention, or a user id)"),
            ("approvers add @legal-team", "let the members of a Slack user group decide"),
            ("approvers remove @dana", "take Dana's approver rights away"),
        ),
    ),
]
