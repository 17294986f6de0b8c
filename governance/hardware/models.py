"""The value types of hardware fit, and llama.cpp's measured bits per weight.

Sizes are bytes; ``GIB`` (2**30) is the unit people read them in, because RAM and VRAM are
sold in binary gigabytes (a "16 GB" laptop holds 16 GiB).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

GIB = 2**30

# Where the bits-per-weight figures come from (llama.cpp, tools/quantize in its repository).
QUANTIZE_README = (
    "llama.cpp tools/quantize/README.md, table for meta-llama/Llama-3.1-8B (measured bits/weight)"
)
QUANTIZE_OPTIONS = (
    "llama.cpp tools/quantize/quantize.cpp QUANT_OPTIONS: Q3_K_M '3.74G @ Llama-3-8B' "
    "(3.74 GiB x 8 bits / 8,030,261,248 parameters)"
)


@dataclass(frozen=True)
class QuantLevel:
    """One quantization: its llama.cpp name and the average bits each weight takes in it.

    The average is the whole file's (k-quant mixtures keep some tensors at higher precision,
    so Q4_K_M averages 4.89 bits, not 4.5); ``source`` says where the figure comes from.
    """

    name: str
    bits_per_weight: Decimal
    source: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Its name and the other names GGUF files use for it (upper case)."""
        return (self.name, *self.aliases)


# Highest precision first. F16 and BF16 store 16 bits a weight alike (llama.cpp keeps the norm
# tensors in F32: hence 16.0005).
QUANT_LEVELS: tuple[QuantLevel, ...] = (
    QuantLevel("F16/BF16", Decimal("16.0005"), QUANTIZE_README, ("F16", "BF16", "FP16")),
    QuantLevel("Q8_0", Decimal("8.5008"), QUANTIZE_README),
    QuantLevel("Q6_K", Decimal("6.5633"), QUANTIZE_README),
    QuantLevel("Q5_K_M", Decimal("5.7036"), QUANTIZE_README, ("Q5_K",)),
    QuantLevel("Q4_K_M", Decimal("4.8944"), QUANTIZE_README, ("Q4_K",)),
    QuantLevel("Q3_K_M", Decimal("4.0007"), QUANTIZE_OPTIONS, ("Q3_K",)),
)

# A flat allowance for what llama.cpp needs beside the weights and the KV cache: its compute
# buffers (about a quarter of a GiB for an 8B model at batch 512 and a 4k context) and the
# runtime itself. An assumption, stated with every estimate; long contexts need more.
OVERHEAD_BYTES = GIB // 2
# The KV cache llama.cpp keeps by default: F16, two bytes per value.
KV_BYTES_PER_VALUE = 2
# The context used when none is asked for: Ollama's and LM Studio's default context length.
DEFAULT_CONTEXT = 4096
# Above this share of a machine's memory a fit is "tight": it needs nearly all of it free.
TIGHT_SHARE = Decimal("0.9")

ParameterSource = Literal["safetensors", "gguf"]
Verdict = Literal["fits", "tight", "no"]


@dataclass(frozen=True)
class ParameterCount:
    """A model's parameter count as the Hub computed it from the weight files' headers.

    ``by_dtype`` is the safetensors breakdown (``{"BF16": n}``); ``packed`` is True when some
    weights are stored packed into integers (GPTQ/AWQ ``I32``, bitsandbytes ``U8``), so the
    count undercounts the weights.
    """

    total: int
    source: ParameterSource
    repo_id: str
    by_dtype: Mapping[str, int] = field(default_factory=dict)
    packed: bool = False


@dataclass(frozen=True)
class AttentionShape:
    """What the KV cache depends on, from a config.json (``repo_id``'s)."""

    layers: int
    attention_heads: int
    kv_heads: int
    hidden_size: int
    head_dim: int
    max_context: int | None
    repo_id: str


@dataclass(frozen=True)
class Estimate:
    """The memory one quantization of a model needs: weights + KV cache + overhead, in bytes.

    ``kv_bytes`` is None when the model's shape is unknown (the total then counts weights and
    overhead only, and says so).
    """

    level: QuantLevel
    weights_bytes: int
    kv_bytes: int | None
    overhead_bytes: int

    @property
    def total_bytes(self) -> int:
        """Weights, KV cache (when known) and overhead."""
        return self.weights_bytes + (self.kv_bytes or 0) + self.overhead_bytes


@dataclass(frozen=True)
class Machine:
    """Memory a model may use on one machine: a named team profile, or ``--ram``/``--vram``."""

    name: str
    ram_bytes: int | None = None
    vram_bytes: int | None = None

    def describe(self) -> str:
        """``16 GiB RAM``, ``24 GiB VRAM`` or both joined with ``+``."""
        parts = []
        if self.vram_bytes is not None:
            parts.append(f"{format_gib(self.vram_bytes)} VRAM")
        if self.ram_bytes is not None:
            parts.append(f"{format_gib(self.ram_bytes)} RAM")
        return " + ".join(parts)


@dataclass(frozen=True)
class Fit:
    """Whether an estimate fits a machine, where it runs, and the memory left over.

    ``where``: ``vram`` (all on the GPU), ``ram`` (on the CPU), ``split`` (layers offloaded to
    the GPU, the rest in RAM: runs, slower), or ``none``. ``spare_bytes`` is negative when it
    does not fit (the shortfall).
    """

    verdict: Verdict
    where: Literal["vram", "ram", "split", "none"]
    spare_bytes: int


def format_gib(size: int) -> str:
    """``size`` bytes in GiB with two decimals (``4.58 GiB``), whole numbers without them;
    below 0.01 GiB in MiB (``12.5 MiB``), below a MiB in bytes."""
    if abs(size) < 2**20:
        return f"{size:,} bytes"
    if abs(size) * 100 < GIB:
        return f"{Decimal(size) / 2**20:.1f} MiB"
    value = Decimal(size) / GIB
    if value == value.to_integral_value():
        return f"{int(value)} GiB"
    return f"{value:.2f} GiB"
