"""``/models variants``: a base model's derivatives from the Hub stand-in's tag-filtered listing,
with license agreement, GGUF files and sizes, paging, the team's standing and Hub failures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.grammar.dispatch import run_text
from bot.grammar.spec.invocation import Invocation
from bot.render.text import render_reply
from governance.core.errors import InvalidInput
from governance.registry.models import IntendedUse
from governance.upstream.hub import HubClient, TransientHubError
from governance.upstream.variants import PAGE_SIZE, find_variants, parse_page, parse_relation
from tests.support.hub_fixtures import make_client, standin
from tests.support.hub_hardware import (
    BASE,
    FINETUNE,
    GGUF,
    GGUF_SIZES,
    add_base,
    add_family,
    add_gguf,
    gguf_file,
)
from tests.support.hub_standin import HubStandin
from tests.support.watch_fixtures import Watched


@pytest.fixture
def hub() -> Iterator[HubStandin]:
    yield from standin()


@pytest.fixture
def client(hub: HubStandin) -> HubClient:
    return make_client(hub)


def test_stand_in_tags_relations_and_filters_listings_like_the_hub(hub: HubStandin) -> None:
    add_family(hub)
    hub.add_model("acme/unrelated-7b", license="mit")
    with hub.lock:
        tags = hub.repos[GGUF.lower()].head.tags
        finetune_tags = hub.repos[FINETUNE.lower()].head.tags
    # No relation on the GGUF repo's card: inferred from its .gguf files, as the Hub does.
    assert f"base_model:{BASE}" in tags and f"base_model:quantized:{BASE}" in tags
    assert f"base_model:finetune:{BASE}" in finetune_tags
    client = make_client(hub)
    pages = list(client.iter_listing([("filter", f"base_model:quantized:{BASE}")], what="x"))
    assert [item["id"] for page in pages for item in page] == [GGUF]
    pages = list(client.iter_listing([("filter", f"base_model:{BASE}")], what="x"))
    assert sorted(item["id"] for page in pages for item in page) == sorted([GGUF, FINETUNE])


def test_quantized_variants_say_the_gguf_license_disagrees_and_list_file_sizes(
    hub: HubStandin, client: HubClient
) -> None:
    add_family(hub)
    page = find_variants(client, base=BASE, relation="quantized")
    assert page.base_license.license_id == "llama3.1"
    (variant,) = page.variants
    assert variant.repo_id == GGUF and variant.relation == "quantized"
    assert variant.license.declared == "apache-2.0"
    assert variant.agreement == "disagrees"
    assert variant.agreement_note == (
        f"says apache-2.0; its base {BASE} is under Llama 3.1 Community License Agreement, "
        "which binds it"
    )
    assert variant.formats == ("GGUF",)
    assert variant.sizes_read
    # Smallest first, each with the size the file list gave; the imatrix file is not a GGUF.
    assert [(f.quant, f.size, f.path) for f in variant.gguf] == [
        (q.upper(), size, gguf_file(q))
        for q, size in sorted(GGUF_SIZES.items(), key=lambda item: item[1])
    ]
    assert page.more is False and page.problems == ()


def test_finetune_and_all_relations(hub: HubStandin, client: HubClient) -> None:
    add_family(hub)
    (finetune,) = find_variants(client, base=BASE, relation="finetune").variants
    assert finetune.repo_id == FINETUNE and finetune.relation == "finetune"
    assert finetune.agreement == "agrees"
    assert finetune.agreement_note == "same as its base: Llama 3.1 Community License Agreement"
    assert finetune.gguf == () and not finetune.sizes_read  # no GGUF files: no file list asked
    every = find_variants(client, base=BASE, relation=None).variants
    assert {(v.repo_id, v.relation) for v in every} == {
        (GGUF, "quantized"),
        (FINETUNE, "finetune"),
    }


def test_a_card_without_a_license_is_unclear(hub: HubStandin, client: HubClient) -> None:
    add_base(hub)
    hub.add_model(
        "someone/llama-8b-q4-gguf",
        license=None,
        files={"llama-8b.Q4_K_M.gguf": b"GGUF"},
        card_data={"base_model": BASE},
    )
    (variant,) = find_variants(client, base=BASE, relation="quantized").variants
    assert variant.agreement == "unclear"
    assert "declares no license" in variant.agreement_note


def test_requests_are_bounded_and_pages_follow_the_link_header() -> None:
    with HubStandin(page_size=4) as hub:
        add_base(hub)
        count = PAGE_SIZE + 3
        for i in range(count):
            add_gguf(hub, repo_id=f"quant{i:02d}/Llama-3.1-8B-GGUF")
        client = make_client(hub)
        before = hub.count()
        first = find_variants(client, base=BASE, relation="quantized")
        assert len(first.variants) == PAGE_SIZE and first.more
        # The base, ceil(16 / 4) listing pages (one more item than the page shows), and one
        # file list per GGUF repo shown.
        assert hub.count() - before == 1 + 4 + PAGE_SIZE
        second = find_variants(client, base=BASE, relation="quantized", page=2)
        assert len(second.variants) == 3 and not second.more
        seen = {v.repo_id for v in first.variants} | {v.repo_id for v in second.variants}
        assert len(seen) == count


def test_a_listing_failure_is_one_transient_error(hub: HubStandin, client: HubClient) -> None:
    add_family(hub)
    hub.inject("status", status=503, path="/api/models", times=5, after=1)
    with pytest.raises(TransientHubError) as raised:
        find_variants(client, base=BASE, relation="quantized")
    assert raised.value.message == (
        "The Hub could not answer now: it had a server error (HTTP 503); try again later."
    )


def test_a_file_list_failure_is_reported_and_the_rest_is_listed(
    hub: HubStandin, client: HubClient
) -> None:
    add_family(hub)
    hub.inject("status", status=502, path=f"/api/models/{GGUF}", times=1)
    page = find_variants(client, base=BASE, relation="quantized")
    (variant,) = page.variants
    assert not variant.sizes_read
    assert {f.size for f in variant.gguf} == {None}
    assert page.problems == (
        f"The sizes of {GGUF}'s files could not be read: The Hub could not answer now: it had "
        "a server error (HTTP 502); try again later.",
    )


def test_options_are_checked_in_one_sentence() -> None:
    assert parse_relation(None) == "quantized"
    assert parse_relation("ALL") is None
    with pytest.raises(InvalidInput, match=r"^--relation is one of quantized, finetune"):
        parse_relation("distilled")
    with pytest.raises(InvalidInput, match=r"^--page is a number from 1 to 10"):
        parse_page("0")


# ---------------------------------------------------------------- through the grammar (DB)


def _run(watched: Watched, text: str):  # type: ignore[no-untyped-def]
    return run_text(text, Invocation(services=watched.services, user="alice"))


def test_variants_command_shows_license_files_and_the_team_standing(watched: Watched) -> None:
    add_family(watched.hub)
    watched.approve(GGUF, IntendedUse.INTERNAL)
    reply = _run(watched, f"/models variants {BASE}")
    assert reply.ok, reply.text
    (item,) = reply.data["variants"]
    assert item["repo_id"] == GGUF and item["agreement"] == "disagrees"
    assert item["tracked"] and item["standing"] == "approved"
    text = render_reply(reply)
    assert "says apache-2.0" in text and "which binds it" in text
    assert "Q4_K_M 4.58 GiB" in text
    assert "approved (#1 internal)" in text
    every = _run(watched, f"/models variants {BASE} --relation all")
    assert {v["repo_id"]: v["tracked"] for v in every.data["variants"]} == {
        GGUF: True,
        FINETUNE: False,
    }


def test_variants_command_failures_are_one_sentence(watched: Watched) -> None:
    reply = _run(watched, "/models variants nobody/missing-model")
    assert not reply.ok
    assert reply.text == "nobody/missing-model is not available on the Hub (not found)."
    bad = _run(watched, "/models variants some/model --relation distilled")
    assert not bad.ok and bad.text.startswith("--relation is one of")
    add_base(watched.hub)
    watched.hub.inject("status", status=500, path="/api/models", times=5, after=1)
    failed = _run(watched, f"/models variants {BASE}")
    assert failed.text == (
        "The Hub could not answer now: it had a server error (HTTP 500); try again later."
    )


def test_a_derivative_with_no_derivatives_points_at_its_base(watched: Watched) -> None:
    add_family(watched.hub)
    reply = _run(watched, f"/models variants {GGUF}")
    assert reply.ok and reply.data["variants"] == []
    assert reply.text.splitlines()[-1] == (
        f"The Hub lists no quantized derivatives of {GGUF}. It derives from {BASE} itself: "
        f"`/models variants {BASE}`."
    )
