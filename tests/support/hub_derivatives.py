"""Realistic derivative repos on the Hub stand-in: a Llama base, a third-party GGUF, a LoRA
adapter, a fine-tune of two bases.

Cards and tags follow what the Hub serves for such repos (e.g. bartowski's GGUF uploads): the
card names ``base_model`` (and sometimes ``base_model_relation``); the Hub derives the tags
``base_model:<id>`` and ``base_model:<relation>:<id>`` (the relation inferred when the card is
silent), and the uploader's tooling adds ``gguf`` / ``peft`` / ``lora``. The stand-in derives
``license:`` and ``base_model:<id>`` from the card; the relation tag is passed here too, as the Hub
serves it (the stand-in drops a tag it derived itself already).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.support.hub_repos import Gated, HubRepos

BASE = "meta-llama/Llama-3.1-8B-Instruct"
GGUF = "bartowski/Llama-3.1-8B-Instruct-GGUF"
ADAPTER = "acme/llama-3.1-8b-support-lora"
SECOND_BASE = "NousResearch/Hermes-3-Llama-3.1-8B"

REAL = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "licenses"
# Enough of the Llama 3.1 Community License for identification when the real text is absent.
LLAMA31_FALLBACK = (
    "LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\nLlama 3.1 Version Release Date: July 23, 2024\n"
)
APACHE = "Apache License\nVersion 2.0, January 2004\n\nTERMS AND CONDITIONS\n1. Definitions.\n"
CONFIG = (
    '{"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "num_hidden_layers": 32, '
    '"num_attention_heads": 32, "num_key_value_heads": 8, "model_type": "llama"}'
)


def _real(name: str, fallback: str) -> str:
    path = REAL / name
    return path.read_text(encoding="utf-8") if path.is_file() else fallback


def add_llama_base(hub: HubRepos, repo_id: str = BASE, *, gated: Gated = False) -> str:
    """A Llama 3.1 base as Meta publishes it: card license llama3.1, LICENSE and USE_POLICY.md."""
    return hub.add_model(
        repo_id,
        license="llama3.1",
        gated=gated,
        files={
            "LICENSE": _real("llama3_1.LICENSE.txt", LLAMA31_FALLBACK),
            "USE_POLICY.md": _real("llama3_1.USE_POLICY.md", "Llama 3.1 Acceptable Use Policy\n"),
            "config.json": CONFIG,
            "model-00001-of-00004.safetensors": b"\x00" * 64,
        },
        card_data={"library_name": "transformers", "pipeline_tag": "text-generation"},
        tags=("transformers", "safetensors", "llama", "text-generation", "conversational"),
    )


def add_apache_base(hub: HubRepos, repo_id: str = SECOND_BASE) -> str:
    """A base under Apache-2.0 (which lets fine-tunes carry terms of their own)."""
    return hub.add_model(
        repo_id,
        license="apache-2.0",
        files={"LICENSE": APACHE, "config.json": CONFIG, "model.safetensors": b"\x00" * 64},
        tags=("transformers", "safetensors", "llama", "text-generation"),
    )


def _relation_tags(relation: str | None, bases: Sequence[str]) -> tuple[str, ...]:
    return tuple(f"base_model:{relation}:{b}" for b in bases) if relation else ()


def add_gguf(
    hub: HubRepos,
    repo_id: str = GGUF,
    *,
    base: str = BASE,
    license: str | None = "apache-2.0",
    files: dict[str, str | bytes] | None = None,
) -> str:
    """A third-party GGUF upload: card names the base but no relation, quant files, no LICENSE
    (the Hub infers and tags the relation ``quantized``)."""
    quant_files: dict[str, str | bytes] = {
        "Llama-3.1-8B-Instruct-Q4_K_M.gguf": b"GGUF" + b"\x00" * 60,
        "Llama-3.1-8B-Instruct-Q8_0.gguf": b"GGUF" + b"\x01" * 60,
    }
    return hub.add_model(
        repo_id,
        license=license,
        files=quant_files if files is None else files,
        card_data={
            "base_model": base,
            "pipeline_tag": "text-generation",
            "quantized_by": repo_id.split("/")[0],
        },
        tags=(
            "gguf",
            "llama",
            "text-generation",
            *_relation_tags("quantized", [base]),
            "endpoints_compatible",
            "region:us",
            "conversational",
        ),
    )


def add_adapter(hub: HubRepos, repo_id: str = ADAPTER, *, base: str = BASE) -> str:
    """A LoRA adapter: adapter files, peft/lora tags, card without a relation or license."""
    return hub.add_model(
        repo_id,
        license=None,
        files={
            "adapter_config.json": '{"peft_type": "LORA", "r": 16}',
            "adapter_model.safetensors": b"\x00" * 64,
        },
        card_data={"base_model": base, "library_name": "peft"},
        tags=("peft", "safetensors", "lora", *_relation_tags("adapter", [base])),
    )


def add_finetune(
    hub: HubRepos,
    repo_id: str,
    *,
    bases: Sequence[str],
    license: str | None = "llama3.1",
    files: dict[str, str | bytes] | None = None,
) -> str:
    """A fine-tune whose card names its bases and ``base_model_relation: finetune``."""
    return hub.add_model(
        repo_id,
        license=license,
        files=files if files is not None else {"config.json": CONFIG, "model.safetensors": b"1"},
        card_data={"base_model": list(bases), "base_model_relation": "finetune"},
        tags=("transformers", "safetensors", "llama", *_relation_tags("finetune", bases)),
    )
