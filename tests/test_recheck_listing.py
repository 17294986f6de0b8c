"""Listing-first rechecks against the Hub stand-in: one status listing per author vouches for
every unchanged model; what it cannot vouch for gets the full check; a failed listing is never
a change; authors with huge catalogues and few watched models are checked per model."""

from __future__ import annotations

import httpx2
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from governance.registry.models import ApprovalState
from governance.upstream.hub import LISTING_EXPAND, STATUS_PAGE_LIMIT
from governance.upstream.plan import choose_plan, listing_pages
from tests.support.hub_standin import HubStandin
from tests.support.watch_fixtures import Watched

AUTHOR = "acme"
MODELS = [f"{AUTHOR}/widget-{i}b" for i in range(5)]
APACHE = "Apache License\nVersion 2.0, January 2004\n\nTERMS AND CONDITIONS\n"


def _listings(hub: HubStandin) -> int:
    """Requests to the list endpoint (``/api/models`` itself, not ``/api/models/{id}``)."""
    return hub.count("/api/models") - hub.count("/api/models/")


def _model_requests(hub: HubStandin, repo: str) -> int:
    """Requests for ``repo``'s model info or file list (not for a repo whose id extends it)."""
    path = f"/api/models/{repo}"
    return sum(1 for r in hub.requests if r.path == path or r.path.startswith(path + "/"))


def _settled(w: Watched, repos: list[str] = MODELS) -> None:
    """Watch ``repos`` (plus an unwatched repo of the author) and run the first cycle."""
    for repo in repos:
        w.hub.add_model(repo, files={"LICENSE": APACHE, "model.safetensors": b"\0" * 8})
        w.watch(repo)
    w.hub.add_model(f"{AUTHOR}/tokenizer-tools")
    first = w.cycle()
    assert first.first == len(repos) and first.per_model_authors == 1
    w.hub.reset_counts()


def test_unchanged_author_costs_one_listing_request(watched: Watched) -> None:
    _settled(watched)
    report = watched.cycle()
    assert (report.unchanged, report.failed, report.changed) == (5, 0, 0)
    assert (report.listed_authors, report.listing_pages) == (1, 1)
    assert _listings(watched.hub) == 1 and report.requests == 1
    assert watched.hub.count("/api/models/") == 0 and watched.hub.count(f"/{AUTHOR}/") == 0
    query = watched.hub.requests[0].query
    assert query["author"] == [AUTHOR] and query["expand"] == list(LISTING_EXPAND)
    assert query["limit"] == [str(STATUS_PAGE_LIMIT)]
    assert watched.changes() == []


def test_listing_pages_are_followed(watched: Watched) -> None:
    watched.hub.page_size = 2  # the server sends fewer than the client asked for
    _settled(watched)
    report = watched.cycle()
    assert report.unchanged == 5 and report.listing_pages == 3 and _listings(watched.hub) == 3
    assert watched.hub.count("/api/models/") == 0


def test_moved_models_get_the_full_check_and_the_rest_nothing(watched: Watched) -> None:
    _settled(watched)
    approval_id = watched.approve(MODELS[0])
    watched.cycle()
    watched.hub.reset_counts()
    watched.hub.commit(MODELS[0], card_data={"license": "mit"})
    watched.hub.set_gated(MODELS[1], "manual")
    report = watched.cycle()
    kinds = sorted(k for k, _ in watched.changes())
    assert "license_changed" in kinds and "gating_changed" in kinds
    assert report.unchanged == 3 and report.changed == 2
    # The listing, then for each moved model model_info and the file list (sha or gating moved).
    assert _listings(watched.hub) == 1
    assert _model_requests(watched.hub, MODELS[0]) == 2
    assert _model_requests(watched.hub, MODELS[1]) == 2
    for repo in MODELS[2:]:
        assert _model_requests(watched.hub, repo) == 0
    assert watched.approval(approval_id).state is ApprovalState.NEEDS_REVIEW


def test_missing_from_the_listing_tells_renamed_deleted_private(watched: Watched) -> None:
    _settled(watched)
    watched.hub.rename(MODELS[0], f"{AUTHOR}/widget-0b-v2")
    watched.hub.delete(MODELS[1])
    watched.hub.set_private(MODELS[2])
    watched.hub.disable(MODELS[3])
    report = watched.cycle()
    changes = watched.changes()
    assert ("renamed", f"{MODELS[0]} was renamed to {AUTHOR}/widget-0b-v2.") in changes
    assert sorted(k for k, _ in changes) == ["disabled", "renamed", "unavailable", "unavailable"]
    assert report.failed == 0 and report.unchanged == 1
    # One request each for the three missing ones (the rename's 307 is followed), one for the
    # disabled one the listing still shows; the renamed model then needs no files.
    for repo in MODELS[:4]:
        assert _model_requests(watched.hub, repo) == 1
    assert _model_requests(watched.hub, MODELS[4]) == 0
    # Nothing was a release in the family: the renamed repo is the watched model itself.
    assert not any(k == "new_release_in_family" for k, _ in changes)


def test_family_release_comes_from_the_status_listing(watched: Watched) -> None:
    _settled(watched)
    watched.hub.add_model(f"{AUTHOR}/widget-9b")
    report = watched.cycle()
    assert report.listed_authors == 1 and report.requests == 1
    assert sorted(watched.changes()) == sorted(
        ("new_release_in_family", f"{AUTHOR}/widget-9b was published, in the family of {m}.")
        for m in MODELS
    )
    assert len(watched.changes()) == 5  # one per watched model of the family, once
    watched.cycle()
    assert len(watched.changes()) == 5


@pytest.mark.parametrize(
    ("fault", "kwargs"),
    [
        ("status", {"status": 503}),
        ("status", {"status": 500}),
        ("malformed", {}),
        ("drop", {}),
        ("rate_limit", {"seconds": 30}),
    ],
)
def test_failed_listing_falls_back_per_model_and_is_never_a_change(
    watched: Watched,
    fault: str,
    kwargs: dict,  # type: ignore[type-arg]
) -> None:
    _settled(watched)
    approval_id = watched.approve(MODELS[0])
    watched.cycle()
    watched.hub.reset_counts()
    # Only the listing fails (times=1 on the first /api/models request, which is the listing);
    # the per-model checks it falls back to answer.
    times = 3 if fault == "rate_limit" else 1  # a 429 is retried twice before giving up
    watched.hub.inject(fault, times=times, path="/api/models", **kwargs)  # type: ignore[arg-type]
    report = watched.cycle()
    assert (report.unchanged, report.failed, report.changed) == (5, 0, 0)
    assert [a for a, _ in report.listing_failures] == [AUTHOR]
    assert report.failures == []  # no model failed: the listing is counted on its own
    assert watched.hub.count("/api/models/") == 5
    assert watched.changes() == []
    assert watched.approval(approval_id).state is ApprovalState.APPROVED


def test_failed_second_page_leaves_its_models_to_the_per_model_check(watched: Watched) -> None:
    watched.hub.page_size = 2
    _settled(watched)
    # Page 1 (the unwatched tokenizer-tools and widget-4b, newest first) answers; page 2 fails.
    watched.hub.inject("status", status=503, path="/api/models", after=1)
    report = watched.cycle()
    assert (report.unchanged, report.failed, report.changed) == (5, 0, 0)
    assert report.listing_pages == 1 and _listings(watched.hub) == 2
    assert _model_requests(watched.hub, MODELS[4]) == 0
    assert all(_model_requests(watched.hub, repo) == 1 for repo in MODELS[:4])
    assert [a for a, _ in report.listing_failures] == [AUTHOR]
    assert report.failures == []  # no model failed: the listing is counted on its own
    assert watched.changes() == []


def test_listing_and_models_all_failing_are_failed_checks_only(watched: Watched) -> None:
    _settled(watched)
    watched.hub.inject("status", status=503, times=100, path="/api/models")
    report = watched.cycle()
    assert (report.failed, report.changed, report.unchanged) == (5, 0, 0)
    assert watched.changes() == []
    watched.hub.clear_faults()
    assert watched.cycle().unchanged == 5 and watched.changes() == []


def test_huge_catalogue_with_few_watched_is_checked_per_model(watched: Watched) -> None:
    watched_repos = [f"{AUTHOR}/widget-{i}b" for i in range(2)]
    for i in range(250):  # older than the watched ones: only the newest page is seen at first
        watched.hub.add_model(f"{AUTHOR}/widget-old-{i}")
    _settled(watched, watched_repos)
    # The first cycle's family page recorded 100 repos: a one-page listing looks cheaper than
    # two model_info requests, so this cycle lists (3 pages) and learns the catalogue's size ...
    learning = watched.cycle()
    assert learning.listed_authors == 1 and learning.listing_pages == 3
    assert learning.unchanged == 2
    # ... and no repo seen for the first time there is a release: all are older than the newest.
    assert watched.changes() == []
    watched.hub.reset_counts()
    report = watched.cycle()
    assert report.per_model_authors == 1 and report.unchanged == 2
    assert watched.hub.count("/api/models/") == 2 and _listings(watched.hub) == 1
    assert report.requests == 3


@pytest.mark.parametrize(
    ("checkable", "catalogue", "plan"),
    [
        (20, 20, "listing"),
        (5, 100, "listing"),
        (1, 1, "listing"),  # 1 request instead of model_info + family page
        (2, 250, "per_model"),  # 3 pages against 2 model_info + 1 family page
        (3, 2000, "per_model"),
        (30, 2000, "listing"),
        (20, 0, "per_model"),  # never listed: the per-model plan's family page learns it
        (0, 50, "per_model"),  # only first checks, which need the full fetch anyway
    ],
)
def test_choose_plan(checkable: int, catalogue: int, plan: str) -> None:
    assert choose_plan(checkable=checkable, catalogue=catalogue, page_size=100) == plan
    assert listing_pages(2000, 100) == 20 and listing_pages(0, 100) == 1


def test_standin_refuses_model_info_only_expand_values_on_the_listing() -> None:
    with HubStandin() as hub:
        hub.add_model("acme/a")
        api = HfApi(endpoint=hub.endpoint, token=False)
        listed = list(api.list_models(author="acme", expand=list(LISTING_EXPAND)))
        assert [m.id for m in listed] == ["acme/a"] and listed[0].sha
        assert api.model_info("acme/a", expand=["usedStorage"]).id == "acme/a"
        for value in ("baseModels", "childrenModelCount", "usedStorage"):
            with pytest.raises(HfHubHTTPError) as refused:
                list(api.list_models(author="acme", expand=[value]))
            assert refused.value.response is not None
            assert refused.value.response.status_code == 400
        with httpx2.Client(base_url=hub.endpoint) as raw:
            page = raw.get("/api/models", params={"author": "acme", "expand": "sha"})
            assert page.headers["RateLimit"].startswith('"api";r=')
            assert page.headers["RateLimit-Policy"] == '"fixed window";"api";q=500;w=300'
