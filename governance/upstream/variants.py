"""A base model's derivatives on the Hub: its quantizations, fine-tunes, adapters and merges.

The Hub tags every derivative with ``base_model:<relation>:<base id>`` (the card's
``base_model_relation``, or what the Hub inferred), and its model listing filters on tags, so
one listing request (``filter=base_model:quantized:<id>``, most downloaded first) finds them.
For each: the card license compared with the base's (card metadata only: ``license-check``
reads the LICENSE files), the formats its tags and files show, its GGUF files with their sizes
(the listing names files without sizes, so one ``blobs=true`` request per GGUF repo on the
page), and where the team stands on it (``team_standing``).

Bounded: a page holds ``PAGE_SIZE`` derivatives, at most ``PAGES_MAX`` pages deep, and only the
page shown has its file sizes fetched. Nothing is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from governance.core.errors import InvalidInput, UpstreamError
from governance.hardware.gguf import GgufFile, gguf_files
from governance.licenses.identify import MetadataIdentification, identify_metadata
from governance.licenses.knowledge import load_knowledge_base
from governance.registry.models import TrackedModel
from governance.registry.standing import Standing, standing_on
from governance.registry.validation import validate_repo_id
from governance.upstream.hub import HubClient, RepoStatus

RELATIONS = ("quantized", "finetune", "adapter", "merge")
DEFAULT_RELATION = "quantized"
PAGE_SIZE = 15
PAGES_MAX = 10
# The listing's fields: the card (license), tags (relation, formats), file names, popularity.
LISTING_EXPAND = ("cardData", "tags", "siblings", "downloads", "gated", "lastModified")
# Tags that name a weight format (lowercase tag -> what people call it).
FORMAT_TAGS = {
    "gguf": "GGUF",
    "mlx": "MLX",
    "awq": "AWQ",
    "gptq": "GPTQ",
    "exl2": "EXL2",
    "bitsandbytes": "bitsandbytes",
    "onnx": "ONNX",
    "safetensors": "safetensors",
}
BINDING_RELATIONS = ("quantized", "adapter")  # the base's terms always bind these

Agreement = Literal["agrees", "disagrees", "unclear"]


@dataclass(frozen=True)
class CardLicense:
    """What a card says about its license: the declared id, the knowledge base's name for it
    (None when unidentified) and why it could not be identified."""

    declared: str | None
    license_id: str | None
    name: str | None
    message: str


@dataclass(frozen=True)
class Variant:
    """One derivative: its relation to the base, license and whether it agrees with the base,
    formats, GGUF files (``sizes_read``: whether their sizes were fetched), downloads."""

    repo_id: str
    relation: str
    license: CardLicense
    agreement: Agreement
    agreement_note: str
    formats: tuple[str, ...]
    gguf: tuple[GgufFile, ...]
    sizes_read: bool
    downloads: int | None
    gated: bool


@dataclass(frozen=True)
class VariantPage:
    """One page of a base model's derivatives, most downloaded first.

    ``more``: another page exists; ``problems``: what could not be read (one sentence each),
    e.g. a derivative whose file sizes the Hub did not give now.
    """

    base: RepoStatus
    base_license: CardLicense
    relation: str | None  # None: every relation
    page: int
    variants: tuple[Variant, ...]
    more: bool
    problems: tuple[str, ...] = ()


def parse_relation(value: str | None) -> str | None:
    """The relation ``--relation`` names: ``quantized`` when absent (what people run
    locally), None (every relation) for ``all``.

    Raises:
        InvalidInput: not one of quantized, finetune, adapter, merge, all.
    """
    if value is None:
        return DEFAULT_RELATION
    if value.lower() == "all":
        return None
    relation = value.lower()
    if relation not in RELATIONS:
        raise InvalidInput(
            f"--relation is one of {', '.join(RELATIONS)} or all; got {value[:30]!r}."
        )
    return relation


def parse_page(value: str | None) -> int:
    """The page ``--page`` names (1 when absent).

    Raises:
        InvalidInput: not a whole number from 1 to ``PAGES_MAX``.
    """
    if value is None:
        return 1
    if not value.isdigit() or not 1 <= int(value) <= PAGES_MAX:
        raise InvalidInput(f"--page is a number from 1 to {PAGES_MAX}; got {value[:20]!r}.")
    return int(value)


def card_license(card: Mapping[str, Any] | None, tags: Sequence[str]) -> CardLicense:
    """The license a card and its tags declare, identified against the knowledge base."""
    meta: MetadataIdentification = identify_metadata(card, tags)
    terms = load_knowledge_base().find(meta.license_id) if meta.license_id else None
    return CardLicense(meta.declared, meta.license_id, terms.name if terms else None, meta.message)


def agreement(
    derivative: CardLicense, base: CardLicense, *, relation: str, base_id: str
) -> tuple[Agreement, str]:
    """Whether a derivative's card license agrees with its base's, and a sentence saying so."""
    if base.license_id is None:
        return "unclear", f"{base_id}'s own license is not identified ({base.message})"
    if derivative.license_id is None:
        return "unclear", f"{derivative.message} Its base is under {base.name}."
    if derivative.license_id == base.license_id:
        return "agrees", f"same as its base: {base.name}"
    says = derivative.declared or derivative.license_id
    if relation in BINDING_RELATIONS:
        return "disagrees", f"says {says}; its base {base_id} is under {base.name}, which binds it"
    return "disagrees", (
        f"says {says}; its base {base_id} is under {base.name}, whose terms bind a {relation} "
        "unless they allow relicensing"
    )


def _relation_of(tags: Iterable[str], base_id: str, wanted: str | None) -> str:
    """The relation the item's ``base_model:<relation>:<base>`` tag names for ``base_id``."""
    key = base_id.lower()
    for tag in tags:
        parts = tag.split(":", 2)
        if (
            len(parts) == 3
            and parts[0] == "base_model"
            and parts[1] in RELATIONS
            and parts[2].lower() == key
        ):
            return parts[1]
    return wanted or "finetune"


def _formats(tags: Sequence[str], paths: Sequence[str]) -> tuple[str, ...]:
    found = [FORMAT_TAGS[t.lower()] for t in tags if t.lower() in FORMAT_TAGS]
    if any(p.lower().endswith(".gguf") for p in paths) and "GGUF" not in found:
        found.insert(0, "GGUF")
    return tuple(dict.fromkeys(found))


def _listing_params(base_id: str, relation: str | None, limit: int) -> list[tuple[str, str]]:
    tag = f"base_model:{relation}:{base_id}" if relation else f"base_model:{base_id}"
    return [
        ("filter", tag),
        ("sort", "downloads"),
        ("direction", "-1"),
        ("limit", str(limit)),
        *(("expand", e) for e in LISTING_EXPAND),
    ]


def find_variants(hub: HubClient, *, base: str, relation: str | None, page: int = 1) -> VariantPage:
    """Page ``page`` of ``base``'s derivatives with ``relation`` (None: all), most downloaded
    first, with the GGUF files' sizes of that page.

    Requests: one for the base, one or more listing pages (the Hub's page limit), one file list
    per GGUF repo shown. Raises ``InvalidInput`` (bad id), ``RepoUnavailable`` (the base is not
    on the Hub or gated for us) or ``TransientHubError`` (the listing failed: one sentence).
    """
    status = hub.fetch_status(validate_repo_id(base))
    base_id = status.repo_id
    base_card = card_license(
        {"license": status.license, "license_name": status.license_name}
        | ({"license_link": status.license_link} if status.license_link else {}),
        status.tags,
    )
    wanted = page * PAGE_SIZE + 1  # one more than the page shows: is there another page?
    items: list[dict[str, Any]] = []
    for chunk in hub.iter_listing(
        _listing_params(base_id, relation, wanted), what=f"derivatives of {base_id}"
    ):
        items.extend(chunk)
        if len(items) >= wanted:
            break
    shown = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    problems: list[str] = []
    variants = tuple(_variant(hub, item, base_id, base_card, relation, problems) for item in shown)
    return VariantPage(
        base=status,
        base_license=base_card,
        relation=relation,
        page=page,
        variants=variants,
        more=len(items) > page * PAGE_SIZE,
        problems=tuple(problems),
    )


def _variant(
    hub: HubClient,
    item: Mapping[str, Any],
    base_id: str,
    base_card: CardLicense,
    wanted: str | None,
    problems: list[str],
) -> Variant:
    repo_id = str(item["id"])
    tags = [str(t) for t in item.get("tags") or []]
    card = item.get("cardData") if isinstance(item.get("cardData"), Mapping) else None
    paths = [
        str(s["rfilename"])
        for s in item.get("siblings") or []
        if isinstance(s, Mapping) and "rfilename" in s
    ]
    relation = _relation_of(tags, base_id, wanted)
    lic = card_license(card, tags)
    verdict, note = agreement(lic, base_card, relation=relation, base_id=base_id)
    files: list[tuple[str, int | None]] = [(p, None) for p in paths]
    sizes_read = False
    if any(p.lower().endswith(".gguf") for p in paths):
        try:
            files = [(f.path, f.size) for f in hub.fetch_file_list(repo_id)]
            sizes_read = True
        except UpstreamError as exc:
            problems.append(f"The sizes of {repo_id}'s files could not be read: {exc.message}")
        except InvalidInput:
            problems.append(f"{repo_id} is not a valid repo id; its files were not read.")
    downloads = item.get("downloads")
    return Variant(
        repo_id=repo_id,
        relation=relation,
        license=lic,
        agreement=verdict,
        agreement_note=note,
        formats=_formats(tags, paths),
        gguf=gguf_files(files),
        sizes_read=sizes_read,
        downloads=downloads if isinstance(downloads, int) else None,
        gated=item.get("gated") not in (None, False),
    )


def team_standing(
    session: Session, repo_ids: Iterable[str], *, today: date
) -> dict[str, tuple[Standing, str] | None]:
    """For each repo id (by its lowercased key): where the team stands on it today, or None
    when the registry does not track it. One query."""
    keys = {r.lower() for r in repo_ids}
    if not keys:
        return {}
    models = session.scalars(
        select(TrackedModel)
        .where(TrackedModel.repo_key.in_(keys))
        .options(selectinload(TrackedModel.approvals))
    ).all()
    by_key = {m.repo_key: m for m in models}
    out: dict[str, tuple[Standing, str] | None] = {}
    for key in keys:
        model = by_key.get(key)
        if model is None:
            out[key] = None
        else:
            standing, detail, _ = standing_on(model, today)
            out[key] = (standing, detail)
    return out
