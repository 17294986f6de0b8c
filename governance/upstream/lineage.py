"""Lineage of a Hub repo: which base model(s) it derives from, and how. Pure functions.

The card names its bases in ``base_model`` (a string or a list) and may say how it derives from
them in ``base_model_relation`` (``quantized``, ``finetune``, ``adapter``, ``merge``). The Hub
turns both into tags, ``base_model:<id>`` and ``base_model:<relation>:<id>``, inferring the
relation itself when the card is silent. When the card states no relation, it is inferred here
from the Hub's relation tags, then from other tags (``gguf``, ``quantized``, ``lora``, ``peft``,
``merge``) and files (``*.gguf``, ``adapter_config.json``, ``adapter_model.safetensors``), and
the lineage says which evidence it was inferred from. Nothing is guessed from a repo's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

QUANTIZED: Final = "quantized"
FINETUNE: Final = "finetune"
ADAPTER: Final = "adapter"
MERGE: Final = "merge"
RELATIONS: tuple[str, ...] = (QUANTIZED, FINETUNE, ADAPTER, MERGE)
CARD_SOURCE = "card (base_model_relation)"
ASSUMED_SOURCE = (
    "assumed: the card names a base but no relation, and no tag or file suggests one "
    "(finetune is the Hub's default)"
)

_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
# Tags that suggest a relation by themselves (lowercase), with the relation they suggest.
_TAG_CLUES = {
    "gguf": QUANTIZED,
    "quantized": QUANTIZED,
    "gptq": QUANTIZED,
    "awq": QUANTIZED,
    "exl2": QUANTIZED,
    "mlx": QUANTIZED,
    "lora": ADAPTER,
    "peft": ADAPTER,
    "merge": MERGE,
    "mergekit": MERGE,
}
_ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin")
# When clues disagree, the more specific wins: an adapter may ship GGUF files, a merge may be
# quantized by the same uploader, but a repo with adapter files is an adapter.
_PRIORITY = (ADAPTER, QUANTIZED, MERGE, FINETUNE)
# Ollama and llama.cpp name a GGUF file of a Hub repo as ``hf.co/<repo>:<quant>``.
_GGUF_REF = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:hf\.co|huggingface\.co)/(?P<repo>"
    + _REPO_ID.pattern
    + r")(?::(?P<quant>[A-Za-z0-9._-]+))?$"
)


@dataclass(frozen=True)
class Lineage:
    """A derivative's bases (card order), its relation to them, and where the relation came from
    (``card (base_model_relation)``, ``inferred from …`` or ``assumed: …``)."""

    bases: tuple[str, ...]
    relation: str
    source: str

    @property
    def stated(self) -> bool:
        """True when the card itself states the relation."""
        return self.source == CARD_SOURCE

    def describe(self) -> str:
        """``quantized from meta-llama/Llama-3.1-8B-Instruct (inferred from the gguf tag)``."""
        verb = {
            QUANTIZED: "quantized from",
            FINETUNE: "fine-tuned from",
            ADAPTER: "an adapter of",
            MERGE: "a merge of",
        }[self.relation]
        return f"{verb} {' and '.join(self.bases)} ({self.source})"


def is_repo_id(value: str) -> bool:
    """Whether ``value`` has the shape of a Hub model id (``owner/name``)."""
    return _REPO_ID.fullmatch(value) is not None


def _tag_bases(tags: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """Bases named by ``base_model:`` tags, and the relation per base from the relation form."""
    bases: list[str] = []
    relations: dict[str, str] = {}
    for tag in tags:
        if not tag.startswith("base_model:"):
            continue
        rest = tag.removeprefix("base_model:")
        head, _, tail = rest.partition(":")
        if tail and head in RELATIONS and is_repo_id(tail):
            relations[tail.lower()] = head
            bases.append(tail)
        elif is_repo_id(rest):
            bases.append(rest)
    return bases, relations


def _unique(ids: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for repo_id in ids:
        seen.setdefault(repo_id.lower(), repo_id)
    return tuple(seen.values())


def lineage_of(
    *,
    base_model: Sequence[str],
    relation: str | None,
    tags: Sequence[str],
    files: Sequence[str] | None,
) -> Lineage | None:
    """The lineage a card's ``base_model`` and ``base_model_relation``, the repo's tags and its
    file paths (None when not listed) show; None when no base is named (an original model).

    A base that is not a Hub model id (a local path, a URL) is left out.
    """
    tag_bases, tag_relations = _tag_bases(tags)
    bases = _unique(b.strip() for b in base_model if is_repo_id(b.strip()))
    if not bases:
        bases = _unique(tag_bases)
    if not bases:
        return None
    stated = (relation or "").strip().lower()
    if stated in RELATIONS:
        return Lineage(bases, stated, CARD_SOURCE)
    hub = {tag_relations[b.lower()] for b in bases if b.lower() in tag_relations}
    if len(hub) == 1:
        (found,) = hub
        tag = f"base_model:{found}:{bases[0]}"
        return Lineage(bases, found, f"inferred from the Hub's tag {tag}")
    clues: dict[str, list[str]] = {}
    for tag in tags:
        clue = _TAG_CLUES.get(tag.lower())
        if clue:
            clues.setdefault(clue, []).append(f"the {tag.lower()} tag")
    names = [path.rsplit("/", 1)[-1].lower() for path in files or ()]
    if any(name.endswith(".gguf") for name in names):
        clues.setdefault(QUANTIZED, []).append("the *.gguf files")
    for adapter in _ADAPTER_FILES:
        if adapter in names:
            clues.setdefault(ADAPTER, []).append(adapter)
    if len(bases) > 1 and not clues:
        clues[MERGE] = [f"{len(bases)} bases and no other clue"]
    for candidate in _PRIORITY:
        if candidate in clues:
            return Lineage(bases, candidate, "inferred from " + " and ".join(clues[candidate]))
    return Lineage(bases, FINETUNE, ASSUMED_SOURCE)


@dataclass(frozen=True)
class GgufRef:
    """A model reference in the Ollama / llama.cpp form: the repo and the quantization asked for."""

    repo_id: str
    quant: str | None


def parse_gguf_ref(value: str) -> GgufRef | None:
    """``hf.co/bartowski/Llama-3.1-8B-Instruct-GGUF:Q4_K_M`` as (repo, ``Q4_K_M``); None when
    ``value`` is not such a reference."""
    match = _GGUF_REF.match(value.strip())
    if match is None:
        return None
    return GgufRef(match.group("repo"), match.group("quant"))
