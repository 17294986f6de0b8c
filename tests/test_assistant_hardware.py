"""The assistant's exact hardware-fit answers ("can we run X on a 16 GB laptop?", "will Llama
3.1 8B fit on our gpu-box?"): computed from the Hub stand-in's figures, never by the model
(runtime=None: a question that reached the model would fail)."""

from __future__ import annotations

import dataclasses

from governance.assistant.answers import Answer
from governance.assistant.service import answer
from governance.core.config import Settings
from tests.support.hub_hardware import BASE, GGUF, add_family
from tests.support.watch_fixtures import Watched


def ask(watched: Watched, question: str, *, profiles: str | None = None) -> Answer:
    services = watched.services
    settings: Settings = services.settings
    if profiles is not None:
        settings = settings.model_copy(update={"hardware_profiles": profiles})
    return answer(
        question,
        session_factory=services.session_factory,
        clock=services.clock,
        runtime=None,
        settings=settings,
        hub=services.hub,
    )


def test_can_we_run_it_on_a_16_gb_laptop(watched: Watched) -> None:
    add_family(watched.hub)
    watched.watch(BASE)
    result = ask(watched, "Can we run Llama 3.1 8B Instruct on a 16 GB laptop?")
    assert (result.kind, result.intent) == ("exact", "hardware_fit")
    lines = result.text.splitlines()
    assert lines[0] == (
        f"Yes. {BASE} fits 16 GiB RAM at up to Q8_0: 8.95 GiB in RAM, on the CPU "
        "(weights 7.95 GiB). [1] [2]"
    )
    assert lines[1] == (
        f"{GGUF} supplies Q8_0 as Meta-Llama-3.1-8B-Instruct-Q8_0.gguf (7.95 GiB, "
        f"hf.co/{GGUF}:Q8_0); its card says apache-2.0, which disagrees with its base's "
        "license. [3]"
    )
    assert lines[2].startswith("The figures: 8,030,261,248 parameters x llama.cpp's measured")
    assert "KV cache 0.50 GiB for 4,096 tokens" in lines[2]
    assert [s.title for s in result.sources] == [
        f"Hub metadata of {BASE} (safetensors parameter count)",
        f"config.json of {BASE}",
        f"Meta-Llama-3.1-8B-Instruct-Q8_0.gguf in {GGUF}",
    ]


def test_will_it_fit_on_our_gpu_box_reads_the_team_profiles(watched: Watched) -> None:
    add_family(watched.hub)
    watched.watch(BASE)
    profiles = "laptop=16GB RAM, gpu-box=24GB VRAM"
    result = ask(watched, "will Llama 3.1 8B fit on our gpu-box?", profiles=profiles)
    assert result.intent == "hardware_fit"
    assert result.text.splitlines()[0] == (
        f"Yes. {BASE} fits gpu-box (24 GiB VRAM) at up to F16/BF16: 15.96 GiB in VRAM "
        "(weights 14.96 GiB). [1] [2]"
    )
    # The laptop profile: F16 would need nearly all of its 16 GiB; Q8_0 fits with room.
    laptop = ask(watched, "can we run llama 3.1 8b on the laptop?", profiles=profiles)
    assert laptop.text.splitlines()[0].startswith(f"Yes. {BASE} fits laptop (16 GiB RAM) at up")


def test_a_4_gb_machine_is_told_no_with_the_shortfall(watched: Watched) -> None:
    add_family(watched.hub)
    result = ask(watched, f"Can we run {BASE} on a 4 GB laptop?")  # untracked, by its id
    assert result.intent == "hardware_fit"
    assert result.text.splitlines()[0] == (
        f"No. {BASE} does not fit 4 GiB RAM at any quantization down to Q3_K_M, which needs "
        "4.74 GiB (0.74 GiB more than it has). [1] [2]"
    )


def test_hub_trouble_and_missing_machines_are_one_sentence(watched: Watched) -> None:
    add_family(watched.hub)
    watched.watch(BASE)
    unnamed = ask(watched, "how much memory does llama 3.1 8b instruct need?")
    assert unnamed.text.splitlines()[0] == (
        f"{BASE} needs, by quantization: F16/BF16 15.96 GiB, Q8_0 8.95 GiB, Q6_K 7.14 GiB, "
        "Q5_K_M 6.33 GiB, Q4_K_M 5.58 GiB, Q3_K_M 4.74 GiB. [1] [2]"
    )
    assert unnamed.text.splitlines()[1].startswith("Say how much memory the machine has")
    bad = ask(watched, "can we run llama 3.1 8b instruct on the laptop?", profiles="laptop=16")
    assert bad.text.startswith("MODELGOV_HARDWARE_PROFILES: 'laptop=16' needs a size")
    watched.hub.inject("status", status=503, path="/api/models", times=3)
    down = ask(watched, "can we run llama 3.1 8b instruct on a 16 GB laptop?")
    assert down.intent == "hardware_fit"
    assert down.text == (
        f"I cannot size {BASE} now: The Hub could not answer now: it had a server error "
        "(HTTP 503); try again later."
    )


def test_without_a_hub_client_fit_questions_are_not_claimed(watched: Watched) -> None:
    add_family(watched.hub)
    watched.watch(BASE)
    services = dataclasses.replace(watched.services)
    result = answer(
        "can we run llama 3.1 8b instruct on a 16 GB laptop?",
        session_factory=services.session_factory,
        clock=services.clock,
        runtime=None,
        settings=services.settings,
    )
    assert result.intent != "hardware_fit"


def test_a_fit_question_naming_no_known_model_asks_which(watched: Watched) -> None:
    add_family(watched.hub)
    result = ask(watched, "can we run some llama on a 16 GB laptop?")
    assert result.intent == "hardware_fit"
    assert result.text.startswith("Which model? I size a model the registry tracks")


def test_is_24gb_of_vram_enough(watched: Watched) -> None:
    add_family(watched.hub)
    watched.watch(BASE)
    result = ask(watched, "Is 24GB of VRAM enough for llama 3.1 8b instruct?")
    assert result.text.splitlines()[0] == (
        f"Yes. {BASE} fits 24 GiB VRAM at up to F16/BF16: 15.96 GiB in VRAM "
        "(weights 14.96 GiB). [1] [2]"
    )
    # "good enough" names no machine: not a hardware question.
    other = ask(watched, "is llama 3.1 8b instruct good enough for commercial use?")
    assert other.intent != "hardware_fit"
