"""HubClient against the stand-in over real HTTP: mappings, request counts, renames, rate limits."""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from governance.core.errors import InvalidInput
from governance.licenses.normalize import content_hash, normalize_text
from governance.upstream.hub import (
    STATUS_EXPAND,
    HubClient,
    RepoUnavailable,
    TransientHubError,
    is_license_file,
)
from governance.upstream.ratelimit import RequestBudget
from tests.support.hub_fixtures import FakeTime, make_client, standin
from tests.support.hub_repos import git_blob_id
from tests.support.hub_standin import HubStandin

REPO = "meta-llama/Llama-3.1-8B"
LICENSE_31 = (
    "LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\r\n\r\n\r\n"
    "Llama 3.1 Version Release Date: July 23, 2024  \r\n"
)
POLICY = "Llama 3.1 Acceptable Use Policy\n"


@pytest.fixture
def hub() -> Iterator[HubStandin]:
    yield from standin()


@pytest.fixture
def client(hub: HubStandin) -> HubClient:
    return make_client(hub)


def add_llama(hub: HubStandin, **kwargs: object) -> str:
    files = {
        "LICENSE": LICENSE_31,
        "USE_POLICY.md": POLICY,
        "config.json": "{}",
        "model-00001-of-00002.safetensors": b"\x01" * 32,
        "original/consolidated.00.pth": b"\x02" * 32,
    }
    card = {
        "base_model": "meta-llama/Llama-3.1-8B-base",
        "extra_gated_prompt": "You agree to the Llama 3.1 license.",
        "extra_gated_fields": {"First Name": "text", "Country": "country"},
    }
    defaults: dict[str, object] = {"license": "llama3.1", "files": files, "card_data": card}
    return hub.add_model(REPO, **{**defaults, **kwargs})  # type: ignore[arg-type]


# -- status -----------------------------------------------------------------------------------


def test_fetch_status_reads_every_field_in_one_request(hub: HubStandin, client: HubClient) -> None:
    sha = add_llama(hub, gated="manual", tags=["text-generation"])
    hub.commit(REPO, card_data={"new_version": "meta-llama/Llama-3.3-8B"})
    status = client.fetch_status(REPO)
    assert hub.count() == 1 and client.requests_sent == 1
    assert status.repo_id == REPO and status.requested_id == REPO and status.renamed_from is None
    assert status.sha == hub.head_sha(REPO) != sha
    assert status.gated == "manual" and status.disabled is False and status.private is False
    assert status.license == "llama3.1" and status.license_tags == ("llama3.1",)
    assert status.license_name is None and status.license_link is None
    assert status.base_model == ("meta-llama/Llama-3.1-8B-base",)
    assert status.new_version == "meta-llama/Llama-3.3-8B"
    assert status.gating_prompt == {
        "extra_gated_fields": {"Country": "country", "First Name": "text"},
        "extra_gated_prompt": "You agree to the Llama 3.1 license.",
    }
    assert "text-generation" in status.tags
    assert status.last_modified is not None and status.created_at is not None
    assert status.last_modified >= status.created_at
    (request,) = hub.requests
    assert request.path == f"/api/models/{REPO}"
    assert sorted(request.query["expand"]) == sorted(STATUS_EXPAND)
    assert "blobs" not in request.query


def test_status_of_an_unchanged_model_costs_one_request_per_check(
    hub: HubStandin, client: HubClient
) -> None:
    add_llama(hub)
    first = client.fetch_status(REPO)
    hub.reset_counts()
    for _ in range(5):
        assert client.fetch_status(REPO) == first
    assert hub.count() == 5 and hub.count("/api/models/") == 5


def test_vendor_license_fields(hub: HubStandin, client: HubClient) -> None:
    hub.add_model(
        "mistralai/Ministral-8B",
        license="other",
        license_name="mrl",
        license_link="https://mistral.ai/licenses/MRL-0.1.md",
    )
    status = client.fetch_status("mistralai/Ministral-8B")
    assert (status.license, status.license_name) == ("other", "mrl")
    assert status.license_link == "https://mistral.ai/licenses/MRL-0.1.md"
    assert status.gated == "false" and status.gating_prompt == {}


def test_rename_is_followed_and_reported(hub: HubStandin, client: HubClient) -> None:
    sha = add_llama(hub)
    hub.rename(REPO, "meta-llama/Meta-Llama-3.1-8B")
    status = client.fetch_status(REPO)
    assert status.repo_id == "meta-llama/Meta-Llama-3.1-8B"
    assert status.renamed_from == REPO and status.sha == sha
    assert [r.path for r in hub.requests] == [
        f"/api/models/{REPO}",
        "/api/models/meta-llama/Meta-Llama-3.1-8B",
    ]
    # The redirect kept the expand parameters, so the answer is still the small one.
    assert sorted(hub.requests[1].query["expand"]) == sorted(STATUS_EXPAND)
    files = client.fetch_files(REPO, sha)
    assert files.repo_id == "meta-llama/Meta-Llama-3.1-8B"
    assert {f.status for f in files.license_files} == {"fetched"}


def test_case_only_difference_is_not_a_rename(hub: HubStandin, client: HubClient) -> None:
    add_llama(hub)
    status = client.fetch_status(REPO.lower())
    assert status.repo_id == REPO and status.renamed_from is None


@pytest.mark.parametrize("event", ["never-existed", "deleted", "private", "disabled"])
def test_unavailable_repos_are_permanent_errors(
    hub: HubStandin, client: HubClient, event: str
) -> None:
    add_llama(hub)
    target = REPO
    if event == "never-existed":
        target = "acme/never"
    elif event == "deleted":
        hub.delete(REPO)
    elif event == "private":
        hub.set_private(REPO)
    else:
        hub.disable(REPO)
    with pytest.raises(RepoUnavailable) as caught:
        client.fetch_status(target)
    assert caught.value.reason == ("disabled" if event == "disabled" else "not_found")
    assert caught.value.repo_id == target
    assert hub.count() == 1


def test_private_repo_is_readable_with_a_granted_token(hub: HubStandin) -> None:
    add_llama(hub, private=True)
    hub.grant_access("hf_team", REPO)
    status = make_client(hub, token="hf_team").fetch_status(REPO)
    assert status.private is True
    assert hub.requests[-1].token == "hf_team"


def test_invalid_repo_id_is_invalid_input(client: HubClient, hub: HubStandin) -> None:
    with pytest.raises(InvalidInput):
        client.fetch_status("not a repo id")
    assert hub.count() == 0


# -- transient failures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "reason"),
    [
        ("status", {"status": 500}, "server_error"),
        ("status", {"status": 502}, "server_error"),
        ("status", {"status": 503}, "server_error"),
        ("malformed", {}, "malformed"),
        ("drop", {}, "connection"),
        ("hang", {"seconds": 30}, "timeout"),
    ],
)
def test_transient_failures_are_never_unavailability(
    hub: HubStandin, kind: str, options: dict[str, object], reason: str
) -> None:
    add_llama(hub)
    client = make_client(hub, timeout=0.5)
    hub.inject(kind, **options)  # type: ignore[arg-type]
    with pytest.raises(TransientHubError) as caught:
        client.fetch_status(REPO)
    assert caught.value.reason == reason
    assert hub.count() == 1  # no hidden retry: the next cycle is the retry
    assert client.fetch_status(REPO).sha == hub.head_sha(REPO)


def test_unexpected_field_values_are_malformed(hub: HubStandin, client: HubClient) -> None:
    add_llama(hub)
    hub.set_gated(REPO, "sometimes")  # type: ignore[arg-type]
    with pytest.raises(TransientHubError) as caught:
        client.fetch_status(REPO)
    assert caught.value.reason == "malformed"


def test_connection_refused_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = HubClient(f"http://127.0.0.1:{port}", None, timeout=1.0)
    with pytest.raises(TransientHubError) as caught:
        client.fetch_status(REPO)
    assert caught.value.reason == "connection"


# -- rate limits ------------------------------------------------------------------------------


def test_429_pauses_until_the_announced_reset_then_retries_once() -> None:
    time = FakeTime()
    with HubStandin(api_quota=2, clock=time.monotonic) as hub:
        add_llama(hub)
        client = make_client(hub, time=time)
        client.fetch_status(REPO)
        time.advance(40)
        client.fetch_status(REPO)
        hub.reset_counts()
        status = client.fetch_status(REPO)  # over quota: 429 with t=260, then the retry
        assert status.sha == hub.head_sha(REPO)
        assert hub.count() == 2
        assert time.sleeps == [261.0]  # the reset (t=260) plus one second, slept once
        assert client.budget.paused_until == 1000 + 40 + 261


def test_retry_after_is_used_without_ratelimit_headers(hub: HubStandin) -> None:
    time = FakeTime()
    add_llama(hub)
    client = make_client(hub, time=time)
    hub.inject("status", status=429)  # a bare 429: no RateLimit, no Retry-After
    client.fetch_status(REPO)
    assert time.sleeps == [60.0]  # the client's default wait


def test_429_storm_gives_up_after_bounded_retries(hub: HubStandin) -> None:
    time = FakeTime()
    add_llama(hub)
    client = make_client(hub, time=time, max_rate_limit_retries=2)
    hub.inject("rate_limit", times=10, seconds=30)
    with pytest.raises(TransientHubError) as caught:
        client.fetch_status(REPO)
    assert caught.value.reason == "rate_limited" and caught.value.retry_after == 31.0
    assert hub.count() == 3  # first try + 2 retries, each after the full wait
    assert time.sleeps == [31.0, 31.0]


def test_a_429_pauses_every_caller_sharing_the_budget(hub: HubStandin) -> None:
    time = FakeTime()
    add_llama(hub)
    hub.add_model("acme/other")
    budget = RequestBudget(10_000, sleep=time.sleep, monotonic=time.monotonic)
    one = HubClient(hub.endpoint, None, timeout=5, budget=budget, max_rate_limit_retries=0)
    two = HubClient(hub.endpoint, None, timeout=5, budget=budget)
    hub.inject("rate_limit", seconds=120)
    with pytest.raises(TransientHubError):
        one.fetch_status(REPO)
    assert time.sleeps == []  # no retry allowed for `one`, so it did not wait itself
    two.fetch_status("acme/other")  # another caller: held until the reset
    assert time.sleeps == [121.0]


def test_budget_spreads_requests_inside_the_window() -> None:
    time = FakeTime(0.0)
    budget = RequestBudget(20, 300.0, burst=5, sleep=time.sleep, monotonic=time.monotonic)
    granted: list[float] = []
    for _ in range(60):
        budget.acquire()
        granted.append(time.monotonic())
    assert granted[:5] == [0.0] * 5  # the burst goes at once
    for start in granted:
        in_window = [t for t in granted if start <= t < start + 300.0]
        assert len(in_window) <= 20
    gaps = {round(b - a, 6) for a, b in itertools.pairwise(granted[4:])}
    assert gaps == {20.0}  # then one every 300 / (20 - 5) seconds


def test_budget_is_thread_safe() -> None:
    budget = RequestBudget(1000, burst=1000)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: budget.acquire(), range(800)))
    assert budget.granted == 800


# -- files ------------------------------------------------------------------------------------


def test_fetch_files_lists_blobs_and_fetches_license_texts(
    hub: HubStandin, client: HubClient
) -> None:
    sha = add_llama(hub)
    files = client.fetch_files(REPO, sha)
    assert files.revision == sha and files.repo_id == REPO
    by_path = {f.path: f for f in files.files}
    assert by_path["LICENSE"].blob_id == git_blob_id(LICENSE_31.encode())
    weights = by_path["model-00001-of-00002.safetensors"]
    assert weights.lfs_sha256 is not None and weights.is_weight and weights.size == 32
    assert by_path["original/consolidated.00.pth"].is_weight
    assert not by_path["config.json"].is_weight
    texts = {lf.path: lf for lf in files.license_files}
    assert set(texts) == {"LICENSE", "USE_POLICY.md"}
    lic = texts["LICENSE"]
    assert lic.status == "fetched" and lic.text == normalize_text(LICENSE_31)
    assert lic.content_hash == content_hash(LICENSE_31)
    assert "\r" not in (lic.text or "")
    # One listing request with blobs, then one download per license-like file, pinned to sha.
    paths = [(r.path, r.query) for r in hub.requests]
    assert paths[0] == (f"/api/models/{REPO}/revision/{sha}", {"blobs": ["true"]})
    assert sorted(p for p, _ in paths[1:]) == [
        f"/{REPO}/resolve/{sha}/LICENSE",
        f"/{REPO}/resolve/{sha}/USE_POLICY.md",
    ]


def test_known_blobs_are_not_downloaded_again(hub: HubStandin, client: HubClient) -> None:
    sha = add_llama(hub)
    hub.reset_counts()
    files = client.fetch_files(REPO, sha, known_blobs={git_blob_id(LICENSE_31.encode())})
    statuses = {lf.path: lf.status for lf in files.license_files}
    assert statuses == {"LICENSE": "known", "USE_POLICY.md": "fetched"}
    assert hub.count(f"/{REPO}/resolve/") == 1


def test_old_revision_files_stay_readable(hub: HubStandin, client: HubClient) -> None:
    old = add_llama(hub)
    hub.commit(REPO, files={"LICENSE": "LLAMA 3.2 COMMUNITY LICENSE\n"})
    old_files = client.fetch_files(REPO, old)
    new_files = client.fetch_files(REPO, hub.head_sha(REPO))
    old_text = {lf.path: lf.text for lf in old_files.license_files}["LICENSE"]
    new_text = {lf.path: lf.text for lf in new_files.license_files}["LICENSE"]
    assert old_text == normalize_text(LICENSE_31) and new_text == "LLAMA 3.2 COMMUNITY LICENSE\n"


def test_gated_without_access_records_texts_unavailable(hub: HubStandin) -> None:
    sha = add_llama(hub, gated="manual")
    files = make_client(hub).fetch_files(REPO, sha)
    assert {lf.status for lf in files.license_files} == {"gated_no_access"}
    assert all(lf.text is None and lf.blob_id for lf in files.license_files)
    assert len(files.files) > 2  # the file list itself is public
    hub.grant_access("hf_team", REPO)
    granted = make_client(hub, token="hf_team").fetch_files(REPO, sha)
    assert {lf.status for lf in granted.license_files} == {"fetched"}


def test_unreadable_license_files_are_recorded_not_fatal(
    hub: HubStandin, client: HubClient
) -> None:
    sha = hub.add_model(
        "acme/odd",
        files={
            "LICENSE.txt": b"\xff\xfe\x00binary",
            "NOTICE": "x" * 2_000_000,
            "licenses/LICENSE.safetensors": b"\x00",
        },
    )
    statuses = {lf.path: lf.status for lf in client.fetch_files("acme/odd", sha).license_files}
    assert statuses == {
        "LICENSE.txt": "not_text",
        "NOTICE": "too_large",
        # Stored through LFS but one byte: downloaded, checked against lfs.sha256, not text.
        "licenses/LICENSE.safetensors": "not_text",
    }


def test_vanished_revision_is_transient(hub: HubStandin, client: HubClient) -> None:
    add_llama(hub)
    with pytest.raises(TransientHubError) as caught:
        client.fetch_files(REPO, "e" * 40)
    assert caught.value.reason == "revision_not_found"


def test_5xx_during_a_license_download_fails_the_whole_fetch(
    hub: HubStandin, client: HubClient
) -> None:
    sha = add_llama(hub)
    hub.inject("status", status=503, path=f"/{REPO}/resolve/")
    with pytest.raises(TransientHubError) as caught:
        client.fetch_files(REPO, sha)
    assert caught.value.reason == "server_error"


def test_deleted_repo_files_are_unavailable(hub: HubStandin, client: HubClient) -> None:
    sha = add_llama(hub)
    hub.delete(REPO)
    with pytest.raises(RepoUnavailable) as caught:
        client.fetch_files(REPO, sha)
    assert caught.value.reason == "not_found"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("LICENSE", True),
        ("LICENSE.md", True),
        ("licence.txt", True),
        ("USE_POLICY.md", True),
        ("NOTICE", True),
        ("original/LICENSE", True),
        ("docs/Model-License.md", True),
        ("LLAMA_LICENSE.txt", True),
        ("license_notes.json", True),  # LICENSE* is a prefix rule, whatever the extension
        ("model_license.json", False),
        ("README.md", False),
        ("config.json", False),
        ("model.safetensors", False),
    ],
)
def test_is_license_file(path: str, expected: bool) -> None:
    assert is_license_file(path) is expected


# -- listing ----------------------------------------------------------------------------------


def test_list_author_models_newest_first_one_request_per_page() -> None:
    with HubStandin(page_size=2) as hub:
        for i in range(7):
            hub.add_model(f"meta-llama/Llama-{i}")
        hub.add_model("someone-else/Llama-x")
        client = make_client(hub)
        models = client.list_author_models("meta-llama", limit=5)
        assert [m.repo_id for m in models] == [f"meta-llama/Llama-{i}" for i in (6, 5, 4, 3, 2)]
        assert all(m.created_at is not None for m in models)
        assert hub.count("/api/models") == 3
        first = hub.requests[0].query
        assert first["author"] == ["meta-llama"] and first["sort"] == ["createdAt"]
        assert first["direction"] == ["-1"] and first["expand"] == ["createdAt"]


def test_list_author_models_single_page_and_unknown_author(hub: HubStandin) -> None:
    for i in range(3):
        hub.add_model(f"acme/m-{i}")
    client = make_client(hub)
    assert [m.repo_id for m in client.list_author_models("acme", limit=2)] == [
        "acme/m-2",
        "acme/m-1",
    ]
    assert client.list_author_models("nobody") == []
    assert hub.count("/api/models") == 2


def test_list_author_models_maps_failures(hub: HubStandin, client: HubClient) -> None:
    hub.inject("malformed")
    with pytest.raises(TransientHubError) as caught:
        client.list_author_models("acme")
    assert caught.value.reason == "malformed"


# -- concurrency ------------------------------------------------------------------------------


def test_concurrent_checks_share_one_client(hub: HubStandin, client: HubClient) -> None:
    repos = [f"org{i % 5}/model-{i}" for i in range(40)]
    for repo in repos:
        hub.add_model(repo)
    hub.inject("status", status=502, times=3, path="/api/models/org1/")
    results: dict[str, str] = {}
    lock = threading.Lock()

    def check(repo: str) -> None:
        try:
            sha = client.fetch_status(repo).sha
        except TransientHubError:
            sha = "failed"
        with lock:
            results[repo] = sha

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(check, repos))
    assert sum(1 for sha in results.values() if sha == "failed") == 3
    assert all(results[r] in (hub.head_sha(r), "failed") for r in repos)
    assert hub.count() == 40 and client.requests_sent == 40


@pytest.mark.parametrize(
    "corruption", ["truncated", "html_error_page", "json_error", "empty", "stale", "altered"]
)
def test_a_download_that_does_not_hash_to_its_blob_id_is_a_transient_corrupt_error(
    hub: HubStandin, client: HubClient, corruption: str
) -> None:
    add_llama(hub)
    sha = hub.commit(REPO, files={"LICENSE": LICENSE_31 + "Additional terms apply.\n"})
    hub.corrupt_download(REPO, corruption, path="LICENSE")  # type: ignore[arg-type]
    with pytest.raises(TransientHubError) as caught:
        client.fetch_files(REPO, sha)
    assert caught.value.reason == "corrupt"
    assert caught.value.detail.startswith("LICENSE: got ")
    assert "the file list announced" in caught.value.detail
    files = client.fetch_files(REPO, sha)  # the next read is good and verified
    assert {lf.path: lf.status for lf in files.license_files}["LICENSE"] == "fetched"


def test_a_license_file_without_a_blob_id_is_not_trusted(
    hub: HubStandin, client: HubClient
) -> None:
    sha = add_llama(hub)
    hub.hide_blob_id(REPO, "USE_POLICY.md")
    with pytest.raises(TransientHubError) as caught:
        client.fetch_files(REPO, sha)
    assert caught.value.reason == "malformed"
    assert "USE_POLICY.md is listed without a blob id" in caught.value.detail
