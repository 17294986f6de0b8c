"""Memory sizes as people write them, and the team's machines (``MODELGOV_HARDWARE_PROFILES``).

A size is a number with an optional unit: ``16``, ``16GB``, ``15.5 GiB``, ``1TB``. GB and GiB
mean the same here, 2**30 bytes, because memory is sold in binary units: a "16 GB" laptop has
16 GiB. Profiles are ``name=<size> RAM|VRAM``, several sizes joined with ``+`` (a GPU box has
both), entries separated by commas::

    laptop=16GB RAM, gpu-box=24GB VRAM + 64GB RAM
"""

from __future__ import annotations

import re
from decimal import Decimal

from governance.core.errors import InvalidInput
from governance.hardware.models import GIB, Machine

SETTING = "MODELGOV_HARDWARE_PROFILES"
EXAMPLE = "laptop=16GB RAM, gpu-box=24GB VRAM"
MEMORY_MAX_GIB = Decimal(1 << 20)  # a mebi-GiB: larger is a typo, not a machine
_UNITS = {"": 1, "g": 1, "gb": 1, "gib": 1, "t": 1024, "tb": 1024, "tib": 1024}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)
_PART = re.compile(r"^\s*(\d+(?:\.\d+)?\s*[a-z]*)\s+(v?ram)\s*$", re.IGNORECASE)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$", re.IGNORECASE)


def parse_size(text: str, *, what: str) -> int:
    """The bytes ``text`` names (``16``, ``16GB``, ``24 GiB``, ``1TB``; GB = GiB = 2**30).

    Raises:
        InvalidInput: not a positive size in GB or TB (``what`` names the option in the
            sentence).
    """
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise InvalidInput(
            f"{what} takes a memory size in GB, e.g. 16 or 16GB; got {text.strip()[:30]!r}."
        )
    gib = Decimal(match.group(1)) * _UNITS[unit]  # the pattern lets only digits through
    if gib <= 0 or gib > MEMORY_MAX_GIB:
        raise InvalidInput(f"{what} must be more than 0 GB and at most 1,048,576 GB.")
    return int(gib * GIB)


def parse_profiles(text: str | None) -> tuple[Machine, ...]:
    """The machines ``MODELGOV_HARDWARE_PROFILES`` names, in its order (empty when unset).

    Raises:
        InvalidInput: one sentence naming the setting and the entry that is wrong (no ``=``, a
            bad name, a size without RAM or VRAM, RAM or VRAM twice, a name used twice).
    """
    machines: list[Machine] = []
    for entry in (e.strip() for e in (text or "").split(",")):
        if not entry:
            continue
        machine = _entry(entry)
        if any(m.name.lower() == machine.name.lower() for m in machines):
            raise InvalidInput(f"{SETTING}: the profile {machine.name!r} is named twice.")
        machines.append(machine)
    return tuple(machines)


def _entry(entry: str) -> Machine:
    name, equals, spec = entry.partition("=")
    name = name.strip()
    shown = entry[:60]
    if not equals or not _NAME.match(name):
        raise InvalidInput(
            f"{SETTING}: {shown!r} is not name=<size> RAM|VRAM (e.g. {EXAMPLE}); names are "
            "letters, digits, '-', '_' and '.'."
        )
    sizes: dict[str, int] = {}
    for part in spec.split("+"):
        match = _PART.match(part)
        if match is None:
            raise InvalidInput(
                f"{SETTING}: {shown!r} needs a size followed by RAM or VRAM, e.g. {EXAMPLE}."
            )
        kind = match.group(2).lower()
        if kind in sizes:
            raise InvalidInput(f"{SETTING}: {shown!r} gives {kind.upper()} twice.")
        sizes[kind] = parse_size(match.group(1), what=f"{SETTING} ({name})")
    return Machine(name, ram_bytes=sizes.get("ram"), vram_bytes=sizes.get("vram"))


def machine_from_options(ram: str | None, vram: str | None) -> Machine | None:
    """The machine ``--ram`` / ``--vram`` describe, or None when neither was given.

    Raises:
        InvalidInput: a size that ``parse_size`` refuses.
    """
    if ram is None and vram is None:
        return None
    ram_bytes = parse_size(ram, what="--ram") if ram is not None else None
    vram_bytes = parse_size(vram, what="--vram") if vram is not None else None
    # Named by the parsed sizes, so "16" and "16GB" read the same.
    unnamed = Machine("", ram_bytes=ram_bytes, vram_bytes=vram_bytes)
    return Machine(unnamed.describe(), ram_bytes=ram_bytes, vram_bytes=vram_bytes)


_TOKENS = re.compile(r"^\s*(\d+)\s*(k?)\s*$", re.IGNORECASE)


def parse_context(text: str | None) -> int | None:
    """The context length ``--context`` names (``8192``, ``8k``, ``128K``: k = 1,024 tokens),
    None when absent.

    Raises:
        InvalidInput: not a whole number of tokens.
    """
    if text is None:
        return None
    match = _TOKENS.match(text)
    if match is None:
        raise InvalidInput(
            f"--context takes a number of tokens, e.g. 8192 or 8k; got {text.strip()[:30]!r}."
        )
    return int(match.group(1)) * (1024 if match.group(2) else 1)
