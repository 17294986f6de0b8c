"""The arithmetic of hardware fit: weights, KV cache, overhead, and whether a machine holds it.

The formula (``FORMULA``), for each quantization level::

    weights  = parameters x bits per weight / 8
    KV cache = 2 (K and V) x layers x KV heads x head dim x context x 2 bytes (F16)
    needed   = weights + KV cache + overhead

Assumptions, said with every answer: the bits per weight are llama.cpp's whole-file averages
(``models.QUANT_LEVELS``: measured on Llama-3.1-8B, so a model with a much larger or smaller
share of embedding weights differs by a few percent); every layer caches the whole context
(models with sliding-window layers need less); the KV cache is F16 (llama.cpp's default); the
overhead is a flat allowance (``models.OVERHEAD_BYTES``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from governance.core.errors import InvalidInput
from governance.hardware.models import (
    KV_BYTES_PER_VALUE,
    OVERHEAD_BYTES,
    QUANT_LEVELS,
    TIGHT_SHARE,
    AttentionShape,
    Estimate,
    Fit,
    Machine,
    ParameterCount,
    QuantLevel,
    Verdict,
)

FORMULA = (
    "needed = parameters x bits per weight / 8 + KV cache + overhead; "
    "KV cache = 2 x layers x KV heads x head dim x context x 2 bytes (F16)"
)
ASSUMPTIONS = (
    "bits per weight are llama.cpp's whole-file averages measured on Llama-3.1-8B "
    "(other models differ by a few percent)",
    "every layer caches the whole context (sliding-window models need less)",
    "the KV cache is F16, llama.cpp's default",
    "a flat 0.5 GiB overhead for llama.cpp's compute buffers and the runtime "
    "(longer contexts need more)",
)
# Safetensors dtypes that hold several weights packed into one value (GPTQ/AWQ pack eight
# 4-bit weights into an I32; bitsandbytes packs two into a U8).
PACKED_DTYPES = frozenset({"I32", "U32", "U8"})
CONTEXT_MAX = 10_000_000


def weights_bytes(parameters: int, level: QuantLevel) -> int:
    """The bytes ``parameters`` weights take at ``level``, rounded to the nearest byte."""
    bits = Decimal(parameters) * level.bits_per_weight
    return int((bits / 8).to_integral_value(rounding=ROUND_HALF_UP))


def kv_cache_bytes(shape: AttentionShape, context: int) -> int:
    """The F16 KV cache for ``context`` tokens: 2 x layers x KV heads x head dim x context x 2."""
    return 2 * shape.layers * shape.kv_heads * shape.head_dim * context * KV_BYTES_PER_VALUE


def estimates(parameters: int, shape: AttentionShape | None, context: int) -> tuple[Estimate, ...]:
    """The memory each of ``QUANT_LEVELS`` needs for ``context`` tokens, highest precision
    first; without a ``shape`` the KV cache is left out (``Estimate.kv_bytes`` None)."""
    kv = kv_cache_bytes(shape, context) if shape is not None else None
    return tuple(
        Estimate(level, weights_bytes(parameters, level), kv, OVERHEAD_BYTES)
        for level in QUANT_LEVELS
    )


def fit(needed: int, machine: Machine) -> Fit:
    """Whether ``needed`` bytes fit ``machine``: all in VRAM first; else, with a GPU, split
    across VRAM and RAM (llama.cpp offloads what fits to the GPU and runs the rest on the CPU,
    which is faster than the CPU alone); else in RAM on the CPU.

    "tight" when it takes more than 90% of the memory it lands in.
    """
    vram, ram = machine.vram_bytes, machine.ram_bytes
    if vram is not None and needed <= vram:
        return Fit(_verdict(needed, vram), "vram", vram - needed)
    if vram is not None and ram is not None and needed <= vram + ram:
        return Fit(_verdict(needed, vram + ram), "split", vram + ram - needed)
    if ram is not None and needed <= ram:
        return Fit(_verdict(needed, ram), "ram", ram - needed)
    total = (vram or 0) + (ram or 0)
    return Fit("no", "none", total - needed)


def _verdict(needed: int, memory: int) -> Verdict:
    return "tight" if Decimal(needed) > Decimal(memory) * TIGHT_SHARE else "fits"


def check_context(context: int, window: int | None, repo_id: str) -> int:
    """``context`` if it is a usable context length for the model, else InvalidInput.

    Raises:
        InvalidInput: not positive, absurdly large, or longer than the model's context window
            (``window``: config.json's ``max_position_embeddings`` or the GGUF metadata's).
    """
    if context < 1 or context > CONTEXT_MAX:
        raise InvalidInput(
            f"--context must be a number of tokens from 1 to {CONTEXT_MAX:,}; got {context:,}."
        )
    if window is not None and context > window:
        raise InvalidInput(
            f"--context {context:,} is longer than {repo_id}'s context window of {window:,} tokens."
        )
    return context


def _positive_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value


def _first(config: Mapping[str, Any], *names: str) -> int | None:
    for name in names:
        found = _positive_int(config.get(name))
        if found is not None:
            return found
    return None


def attention_shape(config: Mapping[str, Any], repo_id: str) -> AttentionShape | None:
    """The KV cache's shape from a transformers ``config.json``; None when it lacks the fields.

    Reads ``num_hidden_layers``, ``num_attention_heads``, ``num_key_value_heads`` (grouped-query
    attention; absent means one KV head per attention head), ``hidden_size``, ``head_dim``
    (absent or null: hidden size / heads) and ``max_position_embeddings``; GPT-2-style names
    (``n_layer``, ``n_head``, ``n_embd``, ``n_positions``) too. A multimodal config's
    ``text_config`` is read when the top level has no layers.
    """
    text = config.get("text_config")
    if _first(config, "num_hidden_layers", "n_layer") is None and isinstance(text, Mapping):
        config = text
    layers = _first(config, "num_hidden_layers", "n_layer")
    heads = _first(config, "num_attention_heads", "n_head")
    hidden = _first(config, "hidden_size", "n_embd", "d_model")
    if layers is None or heads is None or hidden is None:
        return None
    kv_heads = _first(config, "num_key_value_heads") or heads
    head_dim = _first(config, "head_dim") or (hidden // heads if hidden % heads == 0 else None)
    if head_dim is None or kv_heads > heads:
        return None
    return AttentionShape(
        layers=layers,
        attention_heads=heads,
        kv_heads=kv_heads,
        hidden_size=hidden,
        head_dim=head_dim,
        max_context=_first(config, "max_position_embeddings", "n_positions"),
        repo_id=repo_id,
    )


def parameters_from_safetensors(
    safetensors: Mapping[str, Any] | None, repo_id: str
) -> ParameterCount | None:
    """The Hub's ``safetensors`` field (``{"parameters": {"BF16": n}, "total": n}``) as a
    ParameterCount; None when absent or not of that shape."""
    if not isinstance(safetensors, Mapping):
        return None
    total = _positive_int(safetensors.get("total"))
    raw = safetensors.get("parameters")
    if total is None or not isinstance(raw, Mapping):
        return None
    by_dtype = {str(k): v for k, v in raw.items() if _positive_int(v) is not None}
    return ParameterCount(
        total=total,
        source="safetensors",
        repo_id=repo_id,
        by_dtype=by_dtype,
        packed=bool(PACKED_DTYPES & set(by_dtype)),
    )


def parameters_from_gguf(gguf: Mapping[str, Any] | None, repo_id: str) -> ParameterCount | None:
    """The Hub's ``gguf`` field (``{"total": n, "architecture": ..., "context_length": ...}``)
    as a ParameterCount; None when absent or without a total."""
    if not isinstance(gguf, Mapping):
        return None
    total = _positive_int(gguf.get("total"))
    if total is None:
        return None
    return ParameterCount(total=total, source="gguf", repo_id=repo_id)


def best_fit(rows: Sequence[Estimate], machine: Machine) -> Estimate | None:
    """The highest-precision estimate of ``rows`` that fits ``machine`` without being tight,
    else the highest that fits at all (tight), else None: what an answer leads with."""
    verdicts = [(e, fit(e.total_bytes, machine).verdict) for e in rows]
    return next((e for e, v in verdicts if v == "fits"), None) or next(
        (e for e, v in verdicts if v == "tight"), None
    )
