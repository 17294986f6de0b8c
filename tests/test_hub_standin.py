"""The Hub stand-in speaks the Hub's wire shapes; huggingface_hub reads them as it reads the Hub."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx2
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import (
    BadRequestError,
    DisabledRepoError,
    GatedRepoError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.support.hub_fixtures import FakeTime, standin
from tests.support.hub_repos import git_blob_id
from tests.support.hub_standin import HubStandin

REPO = "acme/Widget-7B"
LICENSE = "Acme Model License\n\n1. You may use the model.\n"


@pytest.fixture
def hub() -> Iterator[HubStandin]:
    yield from standin()


@pytest.fixture
def http(hub: HubStandin) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=hub.endpoint, follow_redirects=False, timeout=5) as client:
        yield client


def api(hub: HubStandin, token: str | bool = False) -> HfApi:
    return HfApi(endpoint=hub.endpoint, token=token)


def add_widget(hub: HubStandin, **kwargs: object) -> str:
    files = {"LICENSE": LICENSE, "config.json": "{}", "model.safetensors": b"\x00" * 64}
    return hub.add_model(REPO, files=files, **kwargs)  # type: ignore[arg-type]


def test_git_blob_id_matches_git() -> None:
    # `printf 'hello\n' | git hash-object --stdin`
    assert git_blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_model_info_has_the_hub_fields(hub: HubStandin, http: httpx2.Client) -> None:
    sha = add_widget(
        hub,
        license="other",
        license_name="acme",
        license_link="LICENSE",
        card_data={"base_model": ["acme/base"], "extra_gated_prompt": "Agree"},
        tags=["text-generation"],
    )
    data = http.get(f"/api/models/{REPO}").json()
    for key in ("id", "_id", "modelId", "sha", "lastModified", "createdAt", "private"):
        assert key in data
    assert data["id"] == REPO and data["sha"] == sha and len(data["_id"]) == 24
    assert data["gated"] is False and data["disabled"] is False
    assert data["cardData"]["license_name"] == "acme"
    assert data["cardData"]["extra_gated_prompt"] == "Agree"
    assert {"license:other", "base_model:acme/base", "text-generation"} <= set(data["tags"])
    assert all(set(s) == {"rfilename"} for s in data["siblings"])
    assert {s["rfilename"] for s in data["siblings"]} >= {"LICENSE", "README.md", "config.json"}


def test_blobs_true_adds_sizes_blob_ids_and_lfs(hub: HubStandin, http: httpx2.Client) -> None:
    add_widget(hub)
    siblings = {
        s["rfilename"]: s for s in http.get(f"/api/models/{REPO}?blobs=true").json()["siblings"]
    }
    lic = siblings["LICENSE"]
    assert lic["blobId"] == git_blob_id(LICENSE.encode()) and lic["size"] == len(LICENSE)
    assert "lfs" not in lic
    weights = siblings["model.safetensors"]
    assert weights["lfs"]["sha256"] == hashlib.sha256(b"\x00" * 64).hexdigest()
    assert weights["lfs"]["size"] == 64 and weights["lfs"]["pointerSize"] > 0
    # The library parses the same answer.
    info = api(hub).model_info(REPO, files_metadata=True)
    by_name = {s.rfilename: s for s in info.siblings or []}
    assert by_name["model.safetensors"].lfs is not None
    assert by_name["LICENSE"].blob_id == lic["blobId"]


def test_expand_limits_fields_and_rejects_unknown_or_blobs(
    hub: HubStandin, http: httpx2.Client
) -> None:
    add_widget(hub)
    data = http.get(f"/api/models/{REPO}", params=[("expand", "sha"), ("expand", "gated")]).json()
    assert set(data) == {"id", "_id", "sha", "gated"}
    bad = http.get(f"/api/models/{REPO}", params={"expand": "nonsense"})
    assert bad.status_code == 400 and "error" in bad.json()
    both = http.get(f"/api/models/{REPO}", params={"expand": "sha", "blobs": "true"})
    assert both.status_code == 400
    with pytest.raises(BadRequestError):
        api(hub).model_info(REPO, expand=["nonsense"])  # type: ignore[list-item]


def test_old_revisions_stay_fetchable_and_unknown_revision_is_404(hub: HubStandin) -> None:
    first = add_widget(hub)
    second = hub.commit(REPO, files={"LICENSE": "changed"}, card_data={"license": "mit"})
    assert second != first and len(second) == 40
    client = api(hub)
    assert client.model_info(REPO).sha == second
    old = client.model_info(REPO, revision=first)
    assert old.sha == first and old.card_data is not None
    assert old.card_data.license == "apache-2.0"
    assert "license:apache-2.0" in (old.tags or []) and "license:mit" in (
        client.model_info(REPO).tags or []
    )
    with pytest.raises(RevisionNotFoundError):
        client.model_info(REPO, revision="0" * 40)


def test_listing_is_paginated_with_link_headers() -> None:
    hub_small = HubStandin(page_size=2)
    with hub_small:
        for i in range(5):
            hub_small.add_model(f"acme/m-{i}")
        hub_small.add_model("other/x")
        ids = [
            m.id
            for m in api(hub_small).list_models(
                author="acme", sort="created_at", expand=["createdAt"]
            )
        ]
        assert ids == [f"acme/m-{i}" for i in (4, 3, 2, 1, 0)]
        assert hub_small.count("/api/models") == 3  # 2 + 2 + 1
        with httpx2.Client(base_url=hub_small.endpoint) as raw:
            first = raw.get("/api/models", params={"author": "acme", "expand": "createdAt"})
            assert first.links["next"]["url"].startswith(hub_small.endpoint)
            assert all(set(item) == {"id", "_id", "createdAt"} for item in first.json())
            second = raw.get(first.links["next"]["url"])
            last = raw.get(second.links["next"]["url"])
            assert "next" not in last.links and [m["id"] for m in last.json()] == ["acme/m-4"]


def test_resolve_headers_and_head(hub: HubStandin, http: httpx2.Client) -> None:
    sha = add_widget(hub)
    got = http.get(f"/{REPO}/resolve/main/LICENSE")
    assert got.status_code == 200 and got.text == LICENSE
    assert got.headers["X-Repo-Commit"] == sha
    assert got.headers["ETag"] == f'"{git_blob_id(LICENSE.encode())}"'
    assert got.headers["Content-Length"] == str(len(LICENSE))
    head = http.head(f"/{REPO}/resolve/{sha}/model.safetensors")
    assert head.status_code == 200 and head.content == b""
    weights_sha256 = hashlib.sha256(b"\x00" * 64).hexdigest()
    assert head.headers["X-Linked-Etag"] == f'"{weights_sha256}"'
    meta = api(hub).get_hf_file_metadata(url=f"{hub.endpoint}/{REPO}/resolve/main/config.json")
    assert meta.commit_hash == sha and meta.etag == git_blob_id(b"{}")


def test_resolve_errors_carry_the_hub_error_codes(hub: HubStandin, http: httpx2.Client) -> None:
    add_widget(hub)
    missing = http.get(f"/{REPO}/resolve/main/nope.txt")
    assert missing.status_code == 404 and missing.headers["X-Error-Code"] == "EntryNotFound"
    norev = http.get(f"/{REPO}/resolve/{'f' * 40}/LICENSE")
    assert norev.status_code == 404 and norev.headers["X-Error-Code"] == "RevisionNotFound"
    with pytest.raises(RemoteEntryNotFoundError):
        api(hub).get_hf_file_metadata(url=f"{hub.endpoint}/{REPO}/resolve/main/nope.txt")


def test_gated_files_need_a_granted_token(hub: HubStandin, http: httpx2.Client) -> None:
    add_widget(hub, gated="manual")
    # Metadata stays public for gated repos.
    assert http.get(f"/api/models/{REPO}").json()["gated"] == "manual"
    anon = http.get(f"/{REPO}/resolve/main/LICENSE")
    assert anon.status_code == 401 and anon.headers["X-Error-Code"] == "GatedRepo"
    assert anon.headers["X-Error-Message"]
    denied = http.get(f"/{REPO}/resolve/main/LICENSE", headers={"Authorization": "Bearer t1"})
    assert denied.status_code == 403 and denied.headers["X-Error-Code"] == "GatedRepo"
    with pytest.raises(GatedRepoError):
        api(hub, "t1").get_hf_file_metadata(url=f"{hub.endpoint}/{REPO}/resolve/main/LICENSE")
    hub.grant_access("t1", REPO)
    ok = http.get(f"/{REPO}/resolve/main/LICENSE", headers={"Authorization": "Bearer t1"})
    assert ok.status_code == 200 and ok.text == LICENSE


def test_rename_answers_307_to_the_new_id(hub: HubStandin, http: httpx2.Client) -> None:
    sha = add_widget(hub)
    hub.rename(REPO, "acme/Widget-7B-v1")
    moved = http.get(f"/api/models/{REPO}", params={"expand": "sha"})
    assert moved.status_code == 307
    assert moved.headers["Location"] == "/api/models/acme/Widget-7B-v1?expand=sha"
    moved_rev = http.get(f"/api/models/{REPO}/revision/{sha}")
    assert moved_rev.headers["Location"] == f"/api/models/acme/Widget-7B-v1/revision/{sha}"
    moved_file = http.get(f"/{REPO}/resolve/main/LICENSE")
    assert moved_file.status_code == 307
    assert moved_file.headers["Location"] == "/acme/Widget-7B-v1/resolve/main/LICENSE"
    assert api(hub).model_info(REPO).id == "acme/Widget-7B-v1"  # the library follows
    # A second rename: the first alias goes straight to the newest name.
    hub.rename("acme/Widget-7B-v1", "acme/Widget-7B-v2")
    again = http.get(f"/api/models/{REPO}")
    assert again.headers["Location"] == "/api/models/acme/Widget-7B-v2"


def test_missing_private_and_deleted_repos(hub: HubStandin, http: httpx2.Client) -> None:
    anon = http.get("/api/models/acme/none")
    assert anon.status_code == 401 and anon.headers["X-Error-Code"] == "RepoNotFound"
    assert anon.json() == {"error": "Repository not found"}
    authed = http.get("/api/models/acme/none", headers={"Authorization": "Bearer t"})
    assert authed.status_code == 404 and authed.headers["X-Error-Code"] == "RepoNotFound"
    hub.add_model("acme/secret", private=True)
    assert http.get("/api/models/acme/secret").headers["X-Error-Code"] == "RepoNotFound"
    hub.grant_access("t", "acme/secret")
    granted = http.get("/api/models/acme/secret", headers={"Authorization": "Bearer t"})
    assert granted.json()["private"] is True
    add_widget(hub)
    hub.delete(REPO)
    with pytest.raises(RepositoryNotFoundError) as caught:
        api(hub).model_info(REPO)
    assert not isinstance(caught.value, GatedRepoError)


def test_disabled_repo_maps_to_disabled_repo_error(hub: HubStandin) -> None:
    add_widget(hub)
    hub.disable(REPO)
    with pytest.raises(DisabledRepoError):
        api(hub).model_info(REPO)


def test_rate_limit_window_and_headers() -> None:
    time = FakeTime()
    with (
        HubStandin(api_quota=3, clock=time.monotonic) as hub,
        httpx2.Client(base_url=hub.endpoint) as http,
    ):
        hub.add_model(REPO)
        remaining = [http.get(f"/api/models/{REPO}").headers["RateLimit"] for _ in range(3)]
        assert remaining == ['"api";r=2;t=300', '"api";r=1;t=300', '"api";r=0;t=300']
        time.advance(100)
        limited = http.get(f"/api/models/{REPO}")
        assert limited.status_code == 429
        assert limited.headers["RateLimit"] == '"api";r=0;t=200'
        assert limited.headers["RateLimit-Policy"] == '"fixed window";"api";q=3;w=300'
        assert limited.headers["Retry-After"] == "200"
        assert "error" in limited.json()
        # Files have their own bucket.
        assert http.get(f"/{REPO}/resolve/main/README.md").status_code == 200
        time.advance(200)
        assert http.get(f"/api/models/{REPO}").status_code == 200


def test_fault_injection_matches_paths_and_counts_down(
    hub: HubStandin, http: httpx2.Client
) -> None:
    add_widget(hub)
    hub.add_model("acme/other")
    hub.inject("status", status=502, times=2, path=f"/api/models/{REPO}")
    assert http.get("/api/models/acme/other").status_code == 200
    assert [http.get(f"/api/models/{REPO}").status_code for _ in range(3)] == [502, 502, 200]
    hub.inject("malformed")
    with pytest.raises(ValueError):
        http.get(f"/api/models/{REPO}").json()
    hub.inject("rate_limit", seconds=42)
    limited = http.get(f"/api/models/{REPO}")
    assert limited.status_code == 429 and limited.headers["RateLimit"] == '"api";r=0;t=42'
    hub.inject("drop")
    with pytest.raises(httpx2.RemoteProtocolError):
        http.get(f"/api/models/{REPO}")
    hub.inject("hang", seconds=30)
    with pytest.raises(httpx2.TimeoutException):
        http.get(f"/api/models/{REPO}", timeout=0.3)
    assert http.get(f"/api/models/{REPO}").status_code == 200


def test_request_log_counts_by_prefix_and_method(hub: HubStandin, http: httpx2.Client) -> None:
    add_widget(hub)
    http.get(f"/api/models/{REPO}", params={"expand": "sha"})
    http.head(f"/{REPO}/resolve/main/LICENSE")
    assert hub.count("/api/models/") == 1
    assert hub.count(f"/{REPO}/resolve/", method="HEAD") == 1
    assert hub.requests[0].query == {"expand": ["sha"]}
    hub.reset_counts()
    assert hub.count() == 0


def test_siblings_announce_the_blob_id_and_lfs_sha256_the_downloads_hash_to(
    hub: HubStandin, http: httpx2.Client
) -> None:
    sha = add_widget(hub)
    siblings = {
        s["rfilename"]: s
        for s in http.get(f"/api/models/{REPO}/revision/{sha}?blobs=true").json()["siblings"]
    }
    for path, entry in siblings.items():
        body = http.get(f"/{REPO}/resolve/{sha}/{path}").content
        assert entry["size"] == len(body)
        if "lfs" in entry:
            assert entry["lfs"]["sha256"] == hashlib.sha256(body).hexdigest()
        else:
            assert entry["blobId"] == git_blob_id(body)


@pytest.mark.parametrize(
    "corruption", ["truncated", "html_error_page", "json_error", "empty", "stale", "altered"]
)
def test_corrupted_downloads_are_200s_that_do_not_hash_to_the_blob_id(
    hub: HubStandin, http: httpx2.Client, corruption: str
) -> None:
    add_widget(hub)
    sha = hub.commit(REPO, files={"LICENSE": LICENSE + "2. Attribution is required.\n"})
    good = http.get(f"/{REPO}/resolve/{sha}/LICENSE")
    hub.corrupt_download(REPO, corruption, path="LICENSE")  # type: ignore[arg-type]
    hub.corrupt_download(REPO, corruption, path="LICENSE")  # type: ignore[arg-type]
    assert http.get(f"/{REPO}/resolve/{sha}/config.json").content == b"{}"  # other files: fine
    bad = http.get(f"/{REPO}/resolve/{sha}/LICENSE")
    assert bad.status_code == 200 and bad.content != good.content
    assert git_blob_id(bad.content) != git_blob_id(good.content)
    assert bad.headers["Content-Length"] == str(len(bad.content))
    if corruption in ("html_error_page", "json_error"):  # made up by a proxy: its own headers
        assert "X-Repo-Commit" not in bad.headers and "ETag" not in bad.headers
    else:  # looks like the file: the Hub's headers, so only the hash tells
        assert bad.headers["X-Repo-Commit"] == sha and bad.headers["ETag"] == good.headers["ETag"]
    if corruption == "stale":
        assert bad.content == LICENSE.encode()
    assert http.get(f"/{REPO}/resolve/{sha}/LICENSE").content != good.content  # times=2
    assert http.get(f"/{REPO}/resolve/{sha}/LICENSE").content == good.content


def test_hide_blob_id_leaves_it_out_of_the_file_list(hub: HubStandin, http: httpx2.Client) -> None:
    sha = add_widget(hub)
    hub.hide_blob_id(REPO, "LICENSE")
    siblings = {
        s["rfilename"]: s
        for s in http.get(f"/api/models/{REPO}/revision/{sha}?blobs=true").json()["siblings"]
    }
    assert "blobId" not in siblings["LICENSE"] and siblings["LICENSE"]["size"] > 0
    assert "blobId" in siblings["config.json"]
