"""Choosing, per author, how a recheck asks the Hub: one paged status listing or a request per
watched model. Pure: the counts come from the caller (what earlier cycles recorded)."""

from __future__ import annotations

from typing import Literal

RecheckPlan = Literal["listing", "per_model"]


def listing_pages(catalogue: int, page_size: int) -> int:
    """The requests a status listing of ``catalogue`` repos takes at ``page_size`` a page (>= 1)."""
    return max(1, -(-catalogue // max(1, page_size)))


def choose_plan(*, checkable: int, catalogue: int, page_size: int) -> RecheckPlan:
    """``listing`` when paging the author's whole catalogue costs no more requests than the
    per-model plan, else ``per_model``.

    ``checkable``: the author's models to check that have a previous snapshot (a first check
    needs the full fetch whatever the listing says). ``catalogue``: the author's repos earlier
    listings recorded; 0 (never listed) is ``per_model``, whose family listing then records them.
    The per-model plan costs one ``model_info`` per checkable model plus one family listing
    page, so a listing of up to ``checkable`` pages is never dearer, and is cheaper by one
    request while the catalogue stays as large as recorded (an author with one watched model
    and a one-page catalogue: 1 request instead of 2). ``catalogue`` is only a lower bound
    (catalogues grow, the server may send smaller pages than asked for): a catalogue that grew
    by a page costs what the per-model plan would have.
    """
    if checkable == 0 or catalogue == 0:
        return "per_model"
    return "listing" if listing_pages(catalogue, page_size) <= checkable else "per_model"
