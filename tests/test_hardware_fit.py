"""Hardware fit: the arithmetic against hand-computed figures for a Llama-3.1-8B-shaped model,
profiles and sizes as people write them, GGUF names, and ``/models fit`` on the Hub stand-in.

The model: 8,030,261,248 parameters (the Hub's safetensors total for meta-llama/Llama-3.1-8B-
Instruct); config.json: 32 layers, 32 attention heads, 8 KV heads, hidden size 4096, so head dim
4096 / 32 = 128; max_position_embeddings 131,072.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.grammar.dispatch import run_text
from bot.grammar.spec.invocation import Invocation
from bot.render.text import render_reply
from governance.core.config import ConfigError, Settings
from governance.core.errors import InvalidInput, NotFound
from governance.hardware.gguf import gguf_files, quant_label
from governance.hardware.models import GIB, OVERHEAD_BYTES, QUANT_LEVELS, Machine
from governance.hardware.profiles import (
    machine_from_options,
    parse_context,
    parse_profiles,
    parse_size,
)
from governance.hardware.service import (
    attention_shape,
    estimates,
    fit,
    kv_cache_bytes,
    parameters_from_safetensors,
)
from governance.upstream.hub import HubClient
from governance.upstream.sizing import fit_report
from governance.wiring.services import build_services
from tests.support.hub_fixtures import make_client, standin
from tests.support.hub_hardware import (
    BASE,
    BASE_CONFIG,
    GGUF,
    GGUF_SIZES,
    GGUF_TOTAL,
    PARAMETERS,
    add_base,
    add_family,
)
from tests.support.hub_standin import HubStandin
from tests.support.watch_fixtures import Watched

# Hand-computed, for 8,030,261,248 parameters (bytes = parameters x bits per weight / 8,
# rounded to the nearest byte):
WEIGHTS = {
    # 8,030,261,248 x 16.0005 / 8 = 16,061,024,387.328
    "F16/BF16": 16_061_024_387,
    # 8,030,261,248 x 8.5008 / 8 = 8,532,955,602.1248
    "Q8_0": 8_532_955_602,
    # 8,030,261,248 x 6.5633 / 8 = 6,588,126,706.1248
    "Q6_K": 6_588_126_706,
    # 8,030,261,248 x 5.7036 / 8 = 5,725,174,756.7616
    "Q5_K_M": 5_725_174_757,
    # 8,030,261,248 x 4.8944 / 8 = 4,912,913,831.5264
    "Q4_K_M": 4_912_913_832,
    # 8,030,261,248 x 4.0007 / 8 = 4,015,833,271.8592
    "Q3_K_M": 4_015_833_272,
}
# KV cache at F16: 2 (K and V) x 32 layers x 8 KV heads x 128 head dim x context x 2 bytes
KV_4096 = 2 * 32 * 8 * 128 * 4096 * 2  # = 536,870,912 bytes = 0.5 GiB
KV_131072 = 17_179_869_184  # = 2 x 32 x 8 x 128 x 131,072 x 2 = 16 GiB
# Needed at 4,096 tokens = weights + 536,870,912 (KV) + 536,870,912 (overhead):
NEEDED_4096 = {
    "F16/BF16": 17_134_766_211,  # 15.96 GiB
    "Q8_0": 9_606_697_426,  # 8.95 GiB
    "Q6_K": 7_661_868_530,  # 7.14 GiB
    "Q5_K_M": 6_798_916_581,  # 6.33 GiB
    "Q4_K_M": 5_986_655_656,  # 5.58 GiB
    "Q3_K_M": 5_089_575_096,  # 4.74 GiB
}


def test_the_config_gives_the_kv_shape() -> None:
    shape = attention_shape(BASE_CONFIG, BASE)
    assert shape is not None
    assert (shape.layers, shape.attention_heads, shape.kv_heads) == (32, 32, 8)
    assert (shape.hidden_size, shape.head_dim, shape.max_context) == (4096, 128, 131072)
    # An explicit head_dim wins over hidden / heads; no num_key_value_heads means MHA.
    mha = {k: v for k, v in BASE_CONFIG.items() if k != "num_key_value_heads"}
    assert attention_shape({**mha, "head_dim": 64}, BASE).kv_heads == 32  # type: ignore[union-attr]
    assert attention_shape({**mha, "head_dim": 64}, BASE).head_dim == 64  # type: ignore[union-attr]
    # A multimodal config keeps the language model's numbers in text_config.
    assert attention_shape({"text_config": BASE_CONFIG}, BASE) == shape
    assert attention_shape({"model_type": "llama"}, BASE) is None


def test_estimates_match_the_hand_computed_figures() -> None:
    shape = attention_shape(BASE_CONFIG, BASE)
    assert shape is not None
    assert kv_cache_bytes(shape, 4096) == KV_4096 == 536_870_912
    assert kv_cache_bytes(shape, 131072) == KV_131072
    assert OVERHEAD_BYTES == 536_870_912
    rows = estimates(PARAMETERS, shape, 4096)
    assert [r.level.name for r in rows] == list(WEIGHTS)
    assert {r.level.name: r.weights_bytes for r in rows} == WEIGHTS
    assert {r.level.name: r.total_bytes for r in rows} == NEEDED_4096
    # Without a shape the KV cache is left out, not guessed.
    bare = estimates(PARAMETERS, None, 4096)
    assert bare[0].kv_bytes is None and bare[0].total_bytes == WEIGHTS["F16/BF16"] + OVERHEAD_BYTES


def test_bits_per_weight_reproduce_llama_cpp_sizes() -> None:
    # llama.cpp's README lists these GiB sizes for Llama-3.1-8B (Q3_K_M: quantize.cpp's 3.74G).
    listed = {
        "F16/BF16": "14.96",
        "Q8_0": "7.95",
        "Q6_K": "6.14",
        "Q5_K_M": "5.33",
        "Q4_K_M": "4.58",
        "Q3_K_M": "3.74",
    }
    for level in QUANT_LEVELS:
        gib = Decimal(WEIGHTS[level.name]) / GIB
        assert f"{gib:.2f}" == listed[level.name], level.name


def test_fit_verdicts_on_16_and_4_gib() -> None:
    laptop = Machine("laptop", ram_bytes=16 * GIB)
    small = Machine("small", ram_bytes=4 * GIB)
    gpu = Machine("gpu-box", vram_bytes=24 * GIB)
    both = Machine("box", vram_bytes=8 * GIB, ram_bytes=16 * GIB)
    verdicts = {name: fit(needed, laptop).verdict for name, needed in NEEDED_4096.items()}
    # 15.96 of 16 GiB is more than 90%: tight; everything below fits.
    assert verdicts == {
        "F16/BF16": "tight",
        "Q8_0": "fits",
        "Q6_K": "fits",
        "Q5_K_M": "fits",
        "Q4_K_M": "fits",
        "Q3_K_M": "fits",
    }
    assert {fit(n, small).verdict for n in NEEDED_4096.values()} == {"no"}
    # Q3_K_M needs 5,089,575,096 bytes; 4 GiB is 4,294,967,296: 794,607,800 short.
    assert fit(NEEDED_4096["Q3_K_M"], small).spare_bytes == 4 * GIB - 5_089_575_096
    assert fit(NEEDED_4096["F16/BF16"], gpu).where == "vram"
    assert fit(NEEDED_4096["F16/BF16"], both).where == "split"  # 8 GiB VRAM + 16 GiB RAM
    assert fit(NEEDED_4096["Q4_K_M"], both).where == "vram"


def test_sizes_profiles_and_context_as_people_write_them() -> None:
    assert parse_size("16", what="--ram") == parse_size("16GB", what="--ram") == 16 * GIB
    assert parse_size("15.5 GiB", what="--ram") == int(Decimal("15.5") * GIB)
    assert parse_size("1TB", what="--ram") == 1024 * GIB
    with pytest.raises(InvalidInput, match=r"^--ram takes a memory size in GB"):
        parse_size("sixteen", what="--ram")
    with pytest.raises(InvalidInput, match=r"^--vram must be more than 0 GB"):
        parse_size("0", what="--vram")
    laptop, box = parse_profiles("laptop=16GB RAM, gpu-box=24GB VRAM + 64 GB RAM")
    assert laptop == Machine("laptop", ram_bytes=16 * GIB)
    assert box == Machine("gpu-box", ram_bytes=64 * GIB, vram_bytes=24 * GIB)
    assert parse_profiles(None) == () and parse_profiles(" ") == ()
    for bad, sentence in [
        ("laptop=16GB", "needs a size followed by RAM or VRAM"),
        ("laptop 16GB RAM", "is not name=<size> RAM|VRAM"),
        ("a=1GB RAM, A=2GB RAM", "the profile 'A' is named twice"),
        ("a=1GB RAM + 2GB RAM", "gives RAM twice"),
        ("a=lots RAM", "needs a size followed by RAM or VRAM"),
    ]:
        with pytest.raises(InvalidInput) as raised:
            parse_profiles(bad)
        assert raised.value.message.startswith("MODELGOV_HARDWARE_PROFILES: ")
        assert sentence in raised.value.message
    given = machine_from_options("16", None)
    assert given == Machine("16 GiB RAM", ram_bytes=16 * GIB)
    assert machine_from_options(None, None) is None
    assert parse_context("8k") == 8192 and parse_context("4096") == 4096
    with pytest.raises(InvalidInput, match=r"^--context takes a number of tokens"):
        parse_context("long")


def test_gguf_file_names() -> None:
    assert quant_label("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf") == "Q4_K_M"
    assert quant_label("llama-3.1-8b-instruct.Q5_K_S.gguf") == "Q5_K_S"
    assert quant_label("model-f16.gguf") == "F16"
    assert quant_label("Qwen2.5-7B-Instruct-IQ4_XS.gguf") == "IQ4_XS"
    assert quant_label("UD-Q4_K_XL/model-UD-Q4_K_XL-00001-of-00002.gguf") == "UD-Q4_K_XL"
    assert quant_label("Q8_0/model-00001-of-00002.gguf") == "Q8_0"
    assert quant_label("ggml-model.gguf") is None
    files = gguf_files(
        [
            ("Q8_0/m-Q8_0-00001-of-00002.gguf", 5 * GIB),
            ("Q8_0/m-Q8_0-00002-of-00002.gguf", 3 * GIB),
            ("m-Q4_K_M.gguf", 4 * GIB),
            ("mmproj-m-f16.gguf", GIB),  # a vision projector, not the model
            ("README.md", 10),
        ]
    )
    assert [(f.quant, f.size, f.shards) for f in files] == [
        ("Q4_K_M", 4 * GIB, 1),
        ("Q8_0", 8 * GIB, 2),
    ]
    assert files[0].level is not None and files[0].level.name == "Q4_K_M"


def test_packed_safetensors_are_flagged() -> None:
    packed = parameters_from_safetensors(
        {"parameters": {"I32": 879_230_976, "F16": 1_051_828_224}, "total": 1_931_059_200}, "x/y"
    )
    assert packed is not None and packed.packed


# ---------------------------------------------------------------- against the Hub stand-in


@pytest.fixture
def hub() -> Iterator[HubStandin]:
    yield from standin()


@pytest.fixture
def client(hub: HubStandin) -> HubClient:
    return make_client(hub)


def test_fit_report_reads_the_hub_and_names_the_files_that_supply_each_level(
    hub: HubStandin, client: HubClient
) -> None:
    add_family(hub)
    laptop = Machine("laptop", ram_bytes=16 * GIB)
    report = fit_report(client, BASE, context=None, machines=[laptop], machines_from="profiles")
    assert report.facts.parameters.total == PARAMETERS
    assert report.facts.parameters.source == "safetensors"
    assert report.context == 4096 and report.context_defaulted
    assert report.kv_bytes == KV_4096
    assert {r.level.name: r.total_bytes for r in report.rows} == NEEDED_4096
    q4 = report.suppliers["Q4_K_M"]
    assert [(s.repo_id, s.file.size, s.agreement) for s in q4] == [
        (GGUF, GGUF_SIZES["Q4_K_M"], "disagrees")
    ]
    # The file's real size + KV + overhead: 4,920,734,016 + 536,870,912 x 2.
    assert report.file_needs(q4[0].file) == 4_920_734_016 + 2 * 536_870_912
    assert report.suppliers["F16/BF16"][0].file.quant == "F16"
    assert report.problems == ()


def test_fit_of_a_gguf_repo_takes_its_shape_from_the_base(
    hub: HubStandin, client: HubClient
) -> None:
    add_family(hub)
    report = fit_report(client, GGUF, context=8192, machines=[], machines_from="none")
    assert report.facts.parameters.source == "gguf"
    assert report.facts.parameters.total == GGUF_TOTAL
    assert report.facts.shape_note == f"from {BASE}'s config.json"
    assert report.kv_bytes == 2 * KV_4096  # 8,192 tokens: twice 4,096's
    assert report.facts.context_window == 131072
    assert {s.repo_id for s in report.suppliers["Q4_K_M"]} == {GGUF}


def test_a_gated_config_leaves_the_kv_cache_out_and_says_why(
    hub: HubStandin, client: HubClient
) -> None:
    add_base(hub, gated=True)
    report = fit_report(client, BASE, context=None, machines=[], machines_from="none")
    assert report.kv_bytes is None
    assert report.facts.shape_note == f"{BASE}'s config.json is gated for us"
    assert report.rows[0].total_bytes == WEIGHTS["F16/BF16"] + OVERHEAD_BYTES


def test_a_context_longer_than_the_window_is_refused(hub: HubStandin, client: HubClient) -> None:
    add_base(hub)
    with pytest.raises(InvalidInput) as raised:
        fit_report(client, BASE, context=200_000, machines=[], machines_from="none")
    assert raised.value.message == (
        f"--context 200,000 is longer than {BASE}'s context window of 131,072 tokens."
    )
    full = fit_report(client, BASE, context=131072, machines=[], machines_from="none")
    assert full.kv_bytes == KV_131072


def test_a_repo_without_weights_metadata_is_one_sentence(
    hub: HubStandin, client: HubClient
) -> None:
    hub.add_model("acme/tokenizer-only", files={"tokenizer.json": json.dumps({})})
    with pytest.raises(NotFound) as raised:
        fit_report(client, "acme/tokenizer-only", context=None, machines=[], machines_from="none")
    assert raised.value.message.startswith("The Hub has no parameter count for acme/tokenizer-only")


# ---------------------------------------------------------------- the command


def _run(watched: Watched, text: str):  # type: ignore[no-untyped-def]
    return run_text(text, Invocation(services=watched.services, user="alice"))


def test_fit_command_with_16_and_4_gb_of_ram(watched: Watched) -> None:
    add_family(watched.hub)
    reply = _run(watched, f"/models fit {BASE} --ram 16")
    assert reply.ok, reply.text
    levels = {lv["quant"]: lv for lv in reply.data["levels"]}
    assert {q: lv["total_bytes"] for q, lv in levels.items()} == NEEDED_4096
    name = "16 GiB RAM"
    assert {q: lv["fits"][name]["verdict"] for q, lv in levels.items()} == {
        "F16/BF16": "tight",
        "Q8_0": "fits",
        "Q6_K": "fits",
        "Q5_K_M": "fits",
        "Q4_K_M": "fits",
        "Q3_K_M": "fits",
    }
    text = render_reply(reply)
    assert "16 GiB RAM: up to Q8_0 fits, 8.95 GiB needed in RAM." in text
    assert (
        "KV cache (F16) = 2 x 32 layers x 8 KV heads x 128 head dim x 4,096 tokens x 2 bytes = "
        "536,870,912 bytes = 0.50 GiB" in text
    )
    assert f"hf.co/{GGUF}:Q4_K_M" in text
    small = _run(watched, f"/models fit {BASE} --ram 4")
    assert small.ok
    assert {lv["fits"]["4 GiB RAM"]["verdict"] for lv in small.data["levels"]} == {"no"}
    assert "4 GiB RAM: no quantization fits; the smallest, Q3_K_M, needs 4.74 GiB." in (
        render_reply(small)
    )


def test_fit_command_uses_the_team_profiles(watched: Watched) -> None:
    add_family(watched.hub)
    services = watched.services
    settings = services.settings.model_copy(
        update={"hardware_profiles": "laptop=16GB RAM, gpu-box=24GB VRAM"}
    )

    profiled = dataclasses.replace(services, settings=settings)
    reply = run_text(f"/models fit {BASE}", Invocation(services=profiled, user="alice"))
    assert reply.ok, reply.text
    assert reply.data["machines_from"] == "profiles"
    f16 = reply.data["levels"][0]
    assert f16["fits"]["laptop"]["verdict"] == "tight"
    assert f16["fits"]["gpu-box"] == {
        "verdict": "fits",
        "where": "vram",
        "spare_bytes": 24 * GIB - NEEDED_4096["F16/BF16"],
    }
    bad = dataclasses.replace(
        services, settings=settings.model_copy(update={"hardware_profiles": "laptop=16"})
    )
    failed = run_text(f"/models fit {BASE}", Invocation(services=bad, user="alice"))
    assert not failed.ok
    assert failed.text == (
        "MODELGOV_HARDWARE_PROFILES: 'laptop=16' needs a size followed by RAM or VRAM, e.g. "
        "laptop=16GB RAM, gpu-box=24GB VRAM."
    )


def test_fit_command_bad_input_is_one_sentence(watched: Watched) -> None:
    add_base(watched.hub)
    reply = _run(watched, f"/models fit {BASE} --ram lots")
    assert not reply.ok and reply.text.startswith("--ram takes a memory size in GB")
    missing = _run(watched, "/models fit nobody/nothing")
    assert missing.text == "nobody/nothing is not available on the Hub (not found)."


def test_own_file_sizes_that_fail_are_a_problem_not_an_error(
    hub: HubStandin, client: HubClient
) -> None:
    add_family(hub)
    # The model info answers; the repo's own blobs=true file list then fails once.
    hub.inject("status", status=502, path=f"/api/models/{GGUF}/revision/", times=1)
    report = fit_report(client, GGUF, context=None, machines=[], machines_from="none")
    assert report.facts.own_gguf == ()
    assert report.problems[0] == (
        f"The sizes of {GGUF}'s own files could not be read: The Hub could not answer now: it "
        "had a server error (HTTP 502); try again later."
    )
    # The listing still supplies the levels, from the same repo's entry.
    assert {s.repo_id for s in report.suppliers["Q4_K_M"]} == {GGUF}


def test_the_stand_in_counts_parameters_from_safetensors_headers_as_the_hub_does(
    hub: HubStandin, client: HubClient
) -> None:
    from tests.support.hub_hardware import llama_8b_tensors, safetensors_header

    tensors = llama_8b_tensors()
    names = sorted(tensors)
    half = len(names) // 2
    hub.add_model(
        "acme/llama-shaped-8b",
        license="llama3.1",
        files={
            "config.json": json.dumps(BASE_CONFIG),
            "model-00001-of-00002.safetensors": safetensors_header(
                {n: tensors[n] for n in names[:half]}
            ),
            "model-00002-of-00002.safetensors": safetensors_header(
                {n: tensors[n] for n in names[half:]}
            ),
        },
    )
    report = fit_report(
        client, "acme/llama-shaped-8b", context=None, machines=[], machines_from="none"
    )
    assert report.facts.parameters.total == PARAMETERS
    assert dict(report.facts.parameters.by_dtype) == {"BF16": PARAMETERS}
    assert {r.level.name: r.total_bytes for r in report.rows} == NEEDED_4096


def test_sizes_read_in_the_unit_that_fits() -> None:
    from governance.hardware.models import format_gib

    assert format_gib(16 * GIB) == "16 GiB"
    assert format_gib(4_912_913_832) == "4.58 GiB"
    assert format_gib(5 * 2**20) == "5.0 MiB"
    assert format_gib(64) == "64 bytes"


def test_a_malformed_profiles_setting_stops_start_up_with_its_sentence(
    settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = settings.model_copy(update={"hardware_profiles": "laptop=16"})
    with pytest.raises(ConfigError) as raised:
        build_services(bad)
    assert raised.value.message.startswith("MODELGOV_HARDWARE_PROFILES: 'laptop=16' needs a size")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MODELGOV_HARDWARE_PROFILES", "laptop=16GB RAM, laptop=8GB RAM")
    result = CliRunner().invoke(main, ["models", "list"])
    assert result.exit_code == 2
    assert result.output == (
        "modelgov: MODELGOV_HARDWARE_PROFILES: the profile 'laptop' is named twice.\n"
    )
