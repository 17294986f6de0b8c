"""A Llama-3.1-8B-shaped family on the Hub stand-in: the base, a GGUF quantization whose card
says apache-2.0 (its base's Llama 3.1 license binds it), and a fine-tune.

The base's numbers are meta-llama/Llama-3.1-8B-Instruct's: 8,030,261,248 parameters in BF16
(the Hub's safetensors metadata), its config.json (32 layers, 32 attention heads, 8 KV heads,
hidden size 4096, so head dim 128, a 131,072-token context). The GGUF repo's metadata is what
the Hub reports for bartowski's quantizations of it (``total`` counts the 64 ``rope_freqs``
values the conversion adds); its file sizes are close to those that repo lists.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from typing import Any

from tests.support.hub_repos import HubRepos, SizedFile

BASE = "meta-llama/Llama-3.1-8B-Instruct"
GGUF = "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF"
FINETUNE = "acme-labs/Llama-3.1-8B-Instruct-support"
PARAMETERS = 8_030_261_248
GGUF_TOTAL = 8_030_261_312

BASE_CONFIG: dict[str, Any] = {
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": False,
    "bos_token_id": 128000,
    "eos_token_id": [128001, 128008, 128009],
    "hidden_act": "silu",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "max_position_embeddings": 131072,
    "model_type": "llama",
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {
        "factor": 8.0,
        "high_freq_factor": 4.0,
        "low_freq_factor": 1.0,
        "original_max_position_embeddings": 8192,
        "rope_type": "llama3",
    },
    "rope_theta": 500000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "vocab_size": 128256,
}

# Quantization -> file size in bytes, close to what bartowski's repo lists.
GGUF_SIZES = {
    "Q3_K_M": 4_018_917_632,
    "Q4_K_M": 4_920_734_016,
    "Q5_K_M": 5_732_987_136,
    "Q6_K": 6_596_006_144,
    "Q8_0": 8_540_770_560,
    "f16": 16_068_891_904,
}
LICENSE_TEXT = (
    "LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\nLlama 3.1 Version Release Date: July 23, 2024\n"
)


def safetensors_header(tensors: Mapping[str, tuple[str, Sequence[int]]]) -> bytes:
    """A .safetensors file holding only its header (8-byte little-endian length, then the JSON
    map of tensor name to dtype, shape and data offsets): what the Hub reads to count
    parameters. The data offsets point past the end; the stand-in never reads the weights."""
    offset = 0
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    for name, (dtype, shape) in tensors.items():
        size = 2
        for dim in shape:
            size *= dim
        header[name] = {
            "dtype": dtype,
            "shape": list(shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw


def llama_8b_tensors() -> dict[str, tuple[str, list[int]]]:
    """Llama-3.1-8B's tensors: embeddings and output 128,256 x 4,096; per layer q/o 4,096 x
    4,096, k/v 1,024 x 4,096 (8 KV heads x 128), gate/up/down 14,336 x 4,096, two norms; 32
    layers: 8,030,261,248 parameters in all."""
    tensors: dict[str, tuple[str, list[int]]] = {
        "model.embed_tokens.weight": ("BF16", [128256, 4096]),
        "model.norm.weight": ("BF16", [4096]),
        "lm_head.weight": ("BF16", [128256, 4096]),
    }
    for i in range(32):
        p = f"model.layers.{i}."
        tensors |= {
            p + "self_attn.q_proj.weight": ("BF16", [4096, 4096]),
            p + "self_attn.k_proj.weight": ("BF16", [1024, 4096]),
            p + "self_attn.v_proj.weight": ("BF16", [1024, 4096]),
            p + "self_attn.o_proj.weight": ("BF16", [4096, 4096]),
            p + "mlp.gate_proj.weight": ("BF16", [14336, 4096]),
            p + "mlp.up_proj.weight": ("BF16", [14336, 4096]),
            p + "mlp.down_proj.weight": ("BF16", [4096, 14336]),
            p + "input_layernorm.weight": ("BF16", [4096]),
            p + "post_attention_layernorm.weight": ("BF16", [4096]),
        }
    return tensors


def gguf_file(quant: str) -> str:
    """The GGUF repo's file name for ``quant``."""
    return f"Meta-Llama-3.1-8B-Instruct-{quant}.gguf"


def add_base(hub: HubRepos, *, repo_id: str = BASE, gated: bool = False) -> None:
    """The base: safetensors shards, config.json, LICENSE; the Hub's parameter count."""
    shards = {
        f"model-0000{i}-of-00004.safetensors": SizedFile(size, seed=repo_id)
        for i, size in enumerate((4_976_698_672, 4_999_802_720, 4_915_916_176, 1_168_138_808), 1)
    }
    hub.add_model(
        repo_id,
        license="llama3.1",
        gated="manual" if gated else False,
        files={"LICENSE": LICENSE_TEXT, "config.json": json.dumps(BASE_CONFIG), **shards},
        card_data={"library_name": "transformers", "pipeline_tag": "text-generation"},
        tags=["transformers", "safetensors", "llama", "text-generation", "conversational"],
    )
    hub.set_weights_metadata(repo_id, safetensors={"BF16": PARAMETERS})


def add_gguf(
    hub: HubRepos, *, repo_id: str = GGUF, base: str = BASE, license: str = "apache-2.0"
) -> None:
    """The GGUF quantization: no base_model_relation on the card (the Hub infers quantized from
    the .gguf files), a card license of its own."""
    hub.add_model(
        repo_id,
        license=license,
        files={
            **{gguf_file(q): SizedFile(size, seed=repo_id) for q, size in GGUF_SIZES.items()},
            f"{repo_id.split('/')[1]}.imatrix": "imatrix data",
        },
        card_data={
            "base_model": base,
            "pipeline_tag": "text-generation",
            "quantized_by": "bartowski",
        },
        tags=["gguf", "llama", "text-generation", "conversational"],
    )
    hub.set_weights_metadata(
        repo_id,
        gguf={
            "total": GGUF_TOTAL,
            "architecture": "llama",
            "context_length": 131072,
            "bos_token": "<|begin_of_text|>",
            "eos_token": "<|eot_id|>",
        },
    )


def add_finetune(hub: HubRepos, *, repo_id: str = FINETUNE, base: str = BASE) -> None:
    """A full fine-tune in safetensors under the base's license, relation stated on the card."""
    hub.add_model(
        repo_id,
        license="llama3.1",
        files={
            "config.json": json.dumps(BASE_CONFIG),
            "model-00001-of-00002.safetensors": SizedFile(9_976_576_152, seed=repo_id),
            "model-00002-of-00002.safetensors": SizedFile(6_084_050_272, seed=repo_id),
        },
        card_data={"base_model": base, "base_model_relation": "finetune"},
        tags=["transformers", "safetensors", "llama"],
    )
    hub.set_weights_metadata(repo_id, safetensors={"BF16": PARAMETERS})


def add_family(hub: HubRepos, *, gated: bool = False) -> None:
    """The base, its GGUF quantization and its fine-tune."""
    add_base(hub, gated=gated)
    add_gguf(hub)
    add_finetune(hub)
