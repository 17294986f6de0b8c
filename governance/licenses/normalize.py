"""Normalizing license texts so that storage, hashing and diffs ignore cosmetic noise.

Two levels: ``normalize_text`` keeps the line structure (what we store and diff);
``comparison_form`` goes further (case, punctuation, all whitespace) for identification.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+$", re.MULTILINE)
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
    }
)
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize_text(text: str) -> str:
    """Return ``text`` with a canonical form for storage and diffs.

    Unicode NFC, no BOM, ``\\n`` line ends, typographic quotes and dashes made plain, no
    trailing spaces, at most one blank line in a row, no leading/trailing blank lines.
    """
    text = unicodedata.normalize("NFC", text.lstrip("\ufeff"))
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_QUOTES)
    text = _TRAILING_SPACE.sub("", text)
    text = _MANY_BLANK_LINES.sub("\n\n", text)
    return text.strip("\n") + "\n" if text.strip() else ""


def content_hash(text: str) -> str:
    """Return the sha256 hex digest of the normalized form of ``text``."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def comparison_form(text: str) -> str:
    """Return ``text`` lowercased with every run of non-alphanumerics folded to one space."""
    return _NON_WORD.sub(" ", normalize_text(text).lower()).strip()
