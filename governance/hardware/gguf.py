"""GGUF files in a repo's file list: which quantization each holds and how large it is.

Uploaders name files after llama.cpp's quantization types (``Meta-Llama-3.1-8B-Instruct-
Q4_K_M.gguf``, ``model.Q4_K_M.gguf``, ``Q8_0/model-Q8_0-00001-of-00002.gguf``), and that name is
what Ollama and llama.cpp take after the colon of ``hf.co/<repo>:<quant>``. Shards of one
quantization (``-00001-of-00003``) are counted as one file whose size is their sum. Vision
projectors (``mmproj-*.gguf``) are not the language model's weights and are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from governance.hardware.models import QUANT_LEVELS, QuantLevel

_QUANT = re.compile(
    r"(?<![A-Za-z0-9])("
    r"(?:UD-)?(?:IQ[1-4]_(?:XXS|XS|NL|S|M)|Q[2-8]_K(?:_(?:XL|S|M|L))?|Q[2-8]_[01](?:_\d_\d)?"
    r"|TQ[12]_0|MXFP4(?:_MOE)?|BF16|FP16|F16|F32)"
    r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_SHARD = re.compile(r"-(\d{5})-of-(\d{5})(?=\.gguf$)", re.IGNORECASE)
_BY_NAME = {name: level for level in QUANT_LEVELS for name in level.names}


@dataclass(frozen=True)
class GgufFile:
    """One quantization of a model in a repo: its label (``Q4_K_M``; None when the name does
    not say), the first shard's path, the shards' total size (None when one is unknown)."""

    quant: str | None
    path: str
    size: int | None
    shards: int = 1

    @property
    def level(self) -> QuantLevel | None:
        """The ``QUANT_LEVELS`` entry this file is (None for IQ4_XS, Q2_K, ...)."""
        if self.quant is None:
            return None
        return _BY_NAME.get(self.quant.upper().removeprefix("UD-"))


def quant_label(path: str) -> str | None:
    """The quantization a GGUF path names (upper case, e.g. ``Q4_K_M``), or None.

    The file name's last match wins; a folder's name counts when the file name has none.
    """
    parts = path.split("/")
    for part in reversed(parts):
        found = _QUANT.findall(part)
        if found:
            return str(found[-1]).upper()
    return None


def is_projector(path: str) -> bool:
    """Whether ``path`` is a multimodal projector (``mmproj``), not language-model weights."""
    return "mmproj" in path.rsplit("/", 1)[-1].lower()


def gguf_files(files: Iterable[tuple[str, int | None]]) -> tuple[GgufFile, ...]:
    """The GGUF quantizations among ``(path, size)`` pairs, shards merged, sorted by size
    (unknown sizes last), projectors left out."""
    groups: dict[str, list[tuple[str, int | None]]] = {}
    for path, size in files:
        if not path.lower().endswith(".gguf") or is_projector(path):
            continue
        key = _SHARD.sub("", path)
        groups.setdefault(key, []).append((path, size))
    found = []
    for key, shards in groups.items():
        shards.sort()
        sizes = [s for _, s in shards]
        total = sum(s for s in sizes if s is not None) if None not in sizes else None
        found.append(GgufFile(quant_label(key), shards[0][0], total, len(shards)))
    return tuple(sorted(found, key=lambda f: (f.size is None, f.size or 0, f.path)))


def ollama_reference(repo_id: str, quant: str) -> str:
    """The reference Ollama and llama.cpp pull a GGUF by: ``hf.co/<repo>:<quant>``."""
    return f"hf.co/{repo_id}:{quant}"
