"""The license knowledge base: typed, validated access to ``data/licenses.yaml``.

The YAML holds reviewed facts in our own words. ``None`` always means "unknown", never "no".
Loading validates every entry and fails loudly, naming the entry, so a typo cannot silently
turn a restriction into a permission.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import yaml

from governance.core.errors import NotFound

DATA_FILE = Path(__file__).parent / "data" / "licenses.yaml"

Kind = Literal["model", "software", "content", "data", "placeholder"]
Commercial = Literal["yes", "no", "conditional", "unknown"]
Document = Literal["license", "use_policy"]

_KINDS = {"model", "software", "content", "data", "placeholder"}
_COMMERCIAL = {"yes", "no", "conditional", "unknown"}
# Kinds whose use-based terms must be stated explicitly (no defaults): a missing key there is
# far more likely an oversight than "no restriction".
_EXPLICIT_KINDS = {"model", "placeholder"}
_TERM_KEYS = (
    "osi_approved",
    "commercial_use",
    "commercial_condition",
    "user_threshold",
    "attribution",
    "notice",
    "naming_rule",
    "use_policy_url",
    "flow_down",
    "output_restriction",
    "geographic_restrictions",
    "remote_restriction",
    "must_update",
    "research_only",
    "governing_law",
    "release_date",
    "relicensing",
)


class KnowledgeBaseError(ValueError):
    """The knowledge base file is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class LicenseTerms:
    """Reviewed facts about one license. ``None`` on any term means "unknown"."""

    id: str
    name: str
    kind: Kind
    spdx: str
    osi_approved: bool | None
    commercial_use: Commercial
    commercial_condition: str | None
    user_threshold: int | None
    attribution: tuple[str, ...]
    notice: str | None
    naming_rule: str | None
    use_policy_url: str | None
    flow_down: bool | None
    output_restriction: bool | None
    geographic_restrictions: tuple[str, ...]
    remote_restriction: bool | None
    must_update: bool | None
    research_only: bool | None
    governing_law: str | None
    release_date: dt.date | None
    source: str
    aliases: tuple[str, ...] = ()
    family: str | None = None
    notes: str = ""
    hub_id: bool = False
    # Whether a fine-tune or merge may carry other terms of its own (None: not reviewed);
    # quantized copies and adapters are bound by their base's terms whatever this says.
    relicensing: bool | None = None

    @property
    def is_spdx(self) -> bool:
        """True when ``spdx`` is a real SPDX id rather than a ``LicenseRef-``."""
        return not self.spdx.startswith("LicenseRef-")


@dataclass(frozen=True)
class Signature:
    """Short phrases that recognise one document (a license or its use policy)."""

    license: str
    document: Document
    head: str | None
    requires: tuple[str, ...]
    markers: tuple[str, ...]
    min_markers: int
    excludes: tuple[str, ...]
    head_excludes: tuple[str, ...]
    raw_requires: tuple[str, ...]
    raw_excludes: tuple[str, ...]
    fingerprints: tuple[str, ...]


@dataclass(frozen=True)
class Family:
    """Shared vocabulary of a license family, used only for "resembles X" hints."""

    id: str
    name: str
    markers: tuple[str, ...]
    min_markers: int


def _key(value: str) -> str:
    return " ".join(value.strip().lower().replace("_", "-").split())


class KnowledgeBase:
    """All license entries, their aliases, the Hub's id list and identification signatures."""

    def __init__(
        self,
        licenses: tuple[LicenseTerms, ...],
        hub_ids: tuple[str, ...],
        signatures: tuple[Signature, ...],
        families: tuple[Family, ...],
    ) -> None:
        self._by_id = {t.id: t for t in licenses}
        self._lookup: dict[str, str] = {}
        for terms in licenses:
            for name in (terms.id, *terms.aliases):
                other = self._lookup.setdefault(_key(name), terms.id)
                if other != terms.id:
                    raise KnowledgeBaseError(
                        f"alias {name!r} of {terms.id!r} is already used by {other!r}"
                    )
        self._hub_ids = hub_ids
        self.signatures = signatures
        self.families = families

    def get(self, id_or_alias: str) -> LicenseTerms:
        """Return the entry for an id or alias (case-insensitive); raise NotFound otherwise."""
        found = self.find(id_or_alias)
        if found is not None:
            return found
        close = difflib.get_close_matches(_key(id_or_alias), list(self._lookup), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise NotFound(
            f"No license {id_or_alias!r} in the knowledge base.{hint} "
            "Use a Hub license id such as 'apache-2.0' or 'llama3.1'."
        )

    def find(self, id_or_alias: str | None) -> LicenseTerms | None:
        """Like ``get`` but return None when unknown."""
        if not id_or_alias:
            return None
        license_id = self._lookup.get(_key(id_or_alias))
        return self._by_id[license_id] if license_id else None

    def all(self) -> tuple[LicenseTerms, ...]:
        """Every license in the knowledge base, in file order."""
        return tuple(self._by_id.values())

    def hub_ids(self) -> tuple[str, ...]:
        """The license ids the Hub offers in its license field."""
        return self._hub_ids

    def by_source(self, url: str) -> LicenseTerms | None:
        """Return the entry whose source link is ``url`` (scheme and trailing slash ignored)."""
        wanted = _strip_url(url)
        for terms in self._by_id.values():
            if _strip_url(terms.source) == wanted:
                return terms
        return None


def _strip_url(url: str) -> str:
    url = url.strip().lower()
    for prefix in ("https://", "http://", "www."):
        url = url.removeprefix(prefix)
    return url.rstrip("/")


# ---------------------------------------------------------------------------- validation


def _fail(where: str, problem: str) -> KnowledgeBaseError:
    return KnowledgeBaseError(f"{DATA_FILE.name}: {where}: {problem}")


def _opt_bool(where: str, field: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise _fail(where, f"{field} must be true, false or null, not {value!r}")


def _opt_str(where: str, field: str, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    raise _fail(where, f"{field} must be a non-empty string or null, not {value!r}")


def _str_tuple(where: str, field: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(value)
    raise _fail(where, f"{field} must be a list of strings, not {value!r}")


def _license(raw: Mapping[str, Any], defaults: Mapping[str, Any], hub: set[str]) -> LicenseTerms:
    where = f"license {raw.get('id', '?')!r}"
    known = {f.name for f in fields(LicenseTerms)} - {"hub_id"}
    unknown_keys = set(raw) - known
    if unknown_keys:
        raise _fail(where, f"unknown keys {sorted(unknown_keys)}")
    for key in ("id", "name", "kind", "spdx", "source"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise _fail(where, f"{key} is required")
    if raw["kind"] not in _KINDS:
        raise _fail(where, f"kind must be one of {sorted(_KINDS)}")
    if raw["kind"] in _EXPLICIT_KINDS:
        missing = [k for k in _TERM_KEYS if k not in raw]
        if missing:
            raise _fail(where, f"kind {raw['kind']} must state every term; missing {missing}")
    data = {**defaults, **raw}
    if data["commercial_use"] not in _COMMERCIAL:
        raise _fail(where, f"commercial_use must be one of {sorted(_COMMERCIAL)}")
    if not data["source"].startswith("https://"):
        raise _fail(where, "source must be an https link")
    threshold = data["user_threshold"]
    if threshold is not None and (not isinstance(threshold, int) or threshold <= 0):
        raise _fail(where, "user_threshold must be a positive integer or null")
    if data["commercial_use"] == "conditional" and not data["commercial_condition"]:
        raise _fail(where, "a conditional commercial_use needs commercial_condition")
    release = data["release_date"]
    if release is not None and not isinstance(release, dt.date):
        raise _fail(where, "release_date must be a YYYY-MM-DD date or null")
    if not (data["spdx"].startswith("LicenseRef-") or " " not in data["spdx"]):
        raise _fail(where, "spdx must be an SPDX id or a LicenseRef-")
    return LicenseTerms(
        id=data["id"],
        name=data["name"],
        kind=data["kind"],
        spdx=data["spdx"],
        osi_approved=_opt_bool(where, "osi_approved", data["osi_approved"]),
        commercial_use=data["commercial_use"],
        commercial_condition=_opt_str(where, "commercial_condition", data["commercial_condition"]),
        user_threshold=threshold,
        attribution=_str_tuple(where, "attribution", data["attribution"]),
        notice=_opt_str(where, "notice", data["notice"]),
        naming_rule=_opt_str(where, "naming_rule", data["naming_rule"]),
        use_policy_url=_opt_str(where, "use_policy_url", data["use_policy_url"]),
        flow_down=_opt_bool(where, "flow_down", data["flow_down"]),
        output_restriction=_opt_bool(where, "output_restriction", data["output_restriction"]),
        geographic_restrictions=_str_tuple(
            where, "geographic_restrictions", data["geographic_restrictions"]
        ),
        remote_restriction=_opt_bool(where, "remote_restriction", data["remote_restriction"]),
        must_update=_opt_bool(where, "must_update", data["must_update"]),
        research_only=_opt_bool(where, "research_only", data["research_only"]),
        governing_law=_opt_str(where, "governing_law", data["governing_law"]),
        release_date=release,
        source=data["source"],
        aliases=_str_tuple(where, "aliases", data["aliases"]),
        family=_opt_str(where, "family", data["family"]),
        notes=data["notes"] or "",
        hub_id=data["id"] in hub,
        relicensing=_opt_bool(where, "relicensing", data.get("relicensing")),
    )


def _signature(raw: Mapping[str, Any], ids: set[str]) -> Signature:
    where = f"signature for {raw.get('license', '?')!r}"
    if raw.get("license") not in ids:
        raise _fail(where, "names a license that has no entry")
    document = raw.get("document", "license")
    if document not in ("license", "use_policy"):
        raise _fail(where, "document must be license or use_policy")
    head = _opt_str(where, "head", raw.get("head"))
    requires = _str_tuple(where, "requires", raw.get("requires"))
    markers = _str_tuple(where, "markers", raw.get("markers"))
    minimum = raw.get("min", len(markers))
    if not isinstance(minimum, int) or not 0 <= minimum <= len(markers):
        raise _fail(where, f"min must be between 0 and {len(markers)}")
    if head is None and len(requires) < 2:
        # Without a title line, only several exact phrases together are specific enough.
        raise _fail(where, "a signature without head needs at least two requires phrases")
    return Signature(
        license=raw["license"],
        document=document,
        head=head,
        requires=requires,
        markers=markers,
        min_markers=minimum,
        excludes=_str_tuple(where, "excludes", raw.get("excludes")),
        head_excludes=_str_tuple(where, "head_excludes", raw.get("head_excludes")),
        raw_requires=_str_tuple(where, "raw_requires", raw.get("raw_requires")),
        raw_excludes=_str_tuple(where, "raw_excludes", raw.get("raw_excludes")),
        fingerprints=_str_tuple(where, "fingerprints", raw.get("fingerprints")),
    )


def parse_knowledge_base(document: Mapping[str, Any]) -> KnowledgeBase:
    """Build and validate a KnowledgeBase from the parsed YAML document."""
    if not isinstance(document, Mapping) or not isinstance(document.get("licenses"), list):
        raise _fail("top level", "expected a mapping with a 'licenses' list")
    hub = set(_str_tuple("top level", "hub_ids", document.get("hub_ids")))
    defaults = document.get("defaults") or {}
    licenses = tuple(_license(raw, defaults, hub) for raw in document["licenses"])
    ids = [t.id for t in licenses]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise _fail("licenses", f"duplicate ids {duplicates}")
    missing = sorted(hub - set(ids))
    if missing:
        raise _fail("hub_ids", f"no entry for Hub ids {missing}")
    signatures = tuple(_signature(raw, set(ids)) for raw in document.get("signatures") or [])
    families = tuple(
        Family(
            id=raw["id"],
            name=raw["name"],
            markers=tuple(raw["markers"]),
            min_markers=int(raw.get("min", 2)),
        )
        for raw in document.get("families") or []
    )
    return KnowledgeBase(licenses, tuple(document.get("hub_ids") or ()), signatures, families)


@functools.cache
def load_knowledge_base(path: Path = DATA_FILE) -> KnowledgeBase:
    """Load, validate and cache the knowledge base (read once per process and path)."""
    with path.open(encoding="utf-8") as handle:
        return parse_knowledge_base(yaml.safe_load(handle))
