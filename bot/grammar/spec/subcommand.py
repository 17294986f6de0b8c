"""A subcommand's spec: its usage, its handler, and what a frontend needs to know to run it.

Everything a frontend does differently for one subcommand (answer in the ack, run it later,
stream it, open a form, post a card afterwards) is data here, so adding a subcommand never
changes a listener.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from bot.grammar.spec.invocation import Args, Invocation
from bot.render.blocks import Block, Reply
from governance.core.errors import GovernanceError

Handler = Callable[[Invocation, Args], Reply]
# Builds the form opened for a subcommand typed alone, given the channel it was typed in.
FormBuilder = Callable[[str | None], Block]


class CardFollowUp(StrEnum):
    """What a successful run does to the request cards (its Reply's ``data["id"]``)."""

    POST_NEW = "post_new"  # a request was recorded: post its card
    DECIDED = "decided"  # a request was decided: update its card and tell the requester


# One option's help: how it is written (``--use USE``) and what it means.
OptionHelp = tuple[str, str]
# One example: the command line (without ``/models``) and what it does.
Example = tuple[str, str]


@dataclass(frozen=True)
class Subcommand:
    """One subcommand: how it is typed (``usage``), what it does, how a frontend runs it.

    ``summary`` is its line in the list of all commands; ``description``, ``options`` and
    ``examples`` make the page ``help <name>`` (and ``modelgov models <name> --help``) shows.
    """

    name: str
    usage: str
    summary: str
    handler: Handler
    value_options: frozenset[str] = frozenset()
    min_args: int = 0
    max_args: int | None = None  # None: everything after the fixed arguments is free text
    # Talks to the Hub or the language model: Slack acks first and finishes on a worker.
    # A predicate when it depends on the arguments (``info`` of a model not tracked yet).
    slow: bool | Callable[[Invocation, list[str]], bool] = False
    # The rest of the line is one argument, as typed (a question: "what's pending?").
    free_text: bool = False
    # For a frontend that edits one message as the answer grows (Slack): called as
    # ``stream(services, text, on_partial=..., on_queued=...)`` and returns the final Reply.
    stream: Callable[..., Reply] | None = None
    # Only reads the database (never writes): Slack answers it in the ack, from a read-only
    # session that never waits for a writer. Anything else is acked first and runs after.
    # A predicate when it depends on the arguments (``policy show`` vs ``policy set``).
    reads_only: bool | Callable[[list[str]], bool] = False
    # The answer depends only on the words typed, the day and the database (not on who asks,
    # the Hub or the clock's time of day): a frontend may keep it while the data is unchanged
    # (``bot.grammar.read_cache``).
    cached: bool = False
    # Typed with no arguments, a frontend with forms (Slack) opens this one instead.
    form: FormBuilder | None = None
    # What a frontend showing request cards (Slack) does after a successful run.
    card_follow_up: CardFollowUp | None = None
    # The help page: a longer description, each option's meaning, examples.
    description: str = ""
    options: tuple[OptionHelp, ...] = ()
    examples: tuple[Example, ...] = ()

    def option_help(self) -> list[OptionHelp]:
        """Every option of ``value_options`` with its meaning, in the order ``options`` gives
        them, then any option without help (named ``--name VALUE``, meaning unknown)."""
        described = {
            spelled.split()[0].removeprefix("--"): (spelled, meaning)
            for spelled, meaning in self.options
        }
        rows = [described[name] for name in described if name in self.value_options]
        rows += [(f"--{name} VALUE", "") for name in sorted(self.value_options - described.keys())]
        return rows

    def only_reads(self, arguments: list[str]) -> bool:
        """Whether this invocation only reads (so it may be answered within the ack)."""
        if callable(self.reads_only):
            return self.reads_only(arguments)
        return self.reads_only

    def is_slow(self, invocation: Invocation, arguments: list[str]) -> bool:
        """Whether this invocation may take longer than Slack's 3-second ack allows."""
        if callable(self.slow):
            try:
                return self.slow(invocation, arguments)
            except GovernanceError:
                return False  # bad input: answered at once with its error
        return self.slow

    def form_for(self, arguments: list[str], channel: str | None) -> Block | None:
        """The form a frontend with forms opens instead of running this invocation (``form``,
        typed without arguments), built for ``channel``; None to run it as typed."""
        if self.form is None or arguments:
            return None
        return self.form(channel)


class CommandTable:
    """The subcommands the grammar knows, in help order."""

    def __init__(self, subcommands: list[Subcommand]) -> None:
        self._by_name = {s.name: s for s in subcommands}

    def get(self, name: str) -> Subcommand | None:
        """The subcommand called ``name`` (any case), or None."""
        return self._by_name.get(name.lower())

    def names(self) -> list[str]:
        """The subcommands' names, in help order."""
        return list(self._by_name)

    def __iter__(self) -> Iterator[Subcommand]:
        return iter(self._by_name.values())
