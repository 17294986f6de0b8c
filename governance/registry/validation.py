"""Input rules for the registry. Each failure is one sentence saying what is expected."""

from __future__ import annotations

import re
from datetime import date

from governance.core.errors import InvalidInput
from governance.registry.models import REPO_ID_MAX, USER_ID_MAX, IntendedUse, expiry_in_force_on

TEXT_MAX = 1000
REQUEST_NUMBER_DIGITS_MAX = 12
# ASCII only: str.isdigit() and int() also take Arabic-Indic, fullwidth and other digits.
_ASCII_NUMBER = re.compile(r"[0-9]+")
_NAME_PART = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def validate_repo_id(value: str) -> str:
    """Return ``value`` if it is a Hub model id ``namespace/name``; raise InvalidInput otherwise.

    The Hub's rules: letters, digits, ``-``, ``_`` and ``.``; no ``--`` or ``..``; parts do not
    start or end with ``-`` or ``.``; at most 96 characters in all.
    """
    shown = shorten(value)
    expected = "expected a Hugging Face model id like meta-llama/Llama-3.1-8B-Instruct"
    if not value:
        raise InvalidInput(f"A model id is missing; {expected}.")
    if len(value) > REPO_ID_MAX:
        raise InvalidInput(
            f"The model id {shown} is longer than {REPO_ID_MAX} characters; {expected}."
        )
    parts = value.split("/")
    if len(parts) != 2:
        raise InvalidInput(f"The model id {shown} is not of the form namespace/name; {expected}.")
    for part in parts:
        if not _NAME_PART.match(part) or "--" in part or ".." in part or part.endswith(".git"):
            raise InvalidInput(
                f"The model id {shown} has characters the Hub does not allow (letters, digits, "
                f"'-', '_' and '.' only, no '--' or '..'); {expected}."
            )
    return value


def parse_number(value: object, *, what: str = "request") -> int | None:
    """The number ``value`` writes (``12`` or ``#12``, ASCII digits only), or None when it is
    not written as a number at all (a repo id, say).

    Raises:
        InvalidInput: it looks like a number (a ``#``, or only numeric characters) but is not
            ASCII digits 0-9 (``#١``, fullwidth ``１``, superscript ``²``), or is too long.
    """
    text = str(value if value is not None else "").strip()
    hashed = text.startswith("#")
    body = text[1:] if hashed else text
    if _ASCII_NUMBER.fullmatch(body):
        if len(body) > REQUEST_NUMBER_DIGITS_MAX:
            raise InvalidInput(
                f"The {what} number {shorten(text)} is too long; {what} numbers have at most "
                f"{REQUEST_NUMBER_DIGITS_MAX} digits."
            )
        return int(body)
    if hashed or (body and all(c.isnumeric() for c in body)):
        raise InvalidInput(
            f"{shorten(text)} is not a {what} number; write it with the digits 0-9, like #12."
        )
    return None


def parse_use(value: str) -> IntendedUse:
    """Return the intended use named by ``value`` (case-insensitive)."""
    try:
        return IntendedUse(value.strip().lower())
    except ValueError:
        allowed = ", ".join(u.value for u in IntendedUse)
        raise InvalidInput(
            f"Unknown intended use {shorten(value)}; expected one of {allowed}."
        ) from None


def validate_text(value: str | None, *, field: str, required: bool = False) -> str | None:
    """Return ``value`` stripped; refuse control characters and more than TEXT_MAX characters."""
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"A {field} is required; say briefly why.")
    if len(text) > TEXT_MAX:
        raise InvalidInput(
            f"The {field} is {len(text)} characters long; keep it to {TEXT_MAX} characters."
        )
    if _CONTROL.search(text):
        raise InvalidInput(f"The {field} contains control characters; use plain text.")
    return text or None


def validate_user_id(value: str) -> str:
    """Return ``value`` if it can name a user (Slack id or console user name)."""
    if not value or len(value) > USER_ID_MAX or not _USER_ID.match(value):
        raise InvalidInput(
            f"The user name {shorten(value)} is not valid; use letters, digits, '.', '_', "
            f"'-' or '@', at most {USER_ID_MAX} characters."
        )
    return value


def check_expiry(expiry: date | None, *, today: date) -> None:
    """Refuse an expiry date an approval given ``today`` would already be past.

    Today itself is allowed: an approval is in force through its expiry date.

    Raises:
        InvalidInput: ``expiry`` is before ``today``.
    """
    if expiry is not None and not expiry_in_force_on(expiry, today):
        raise InvalidInput(
            f"The expiry date {expiry.isoformat()} is not in the future; "
            f"expected today ({today.isoformat()}) or a later date."
        )


def parse_expiry(value: str, *, today: date) -> date:
    """Return the date in ``value`` (YYYY-MM-DD), which must be ``today`` or later.

    Raises:
        InvalidInput: ``value`` is not a date, or the date is before ``today``.
    """
    try:
        expiry = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"The expiry date {shorten(value)} is not a date; expected YYYY-MM-DD."
        ) from None
    check_expiry(expiry, today=today)
    return expiry


def shorten(value: str, limit: int = 60) -> str:
    """``value`` quoted for an error message: control characters as ``?``, cut to ``limit``."""
    clean = _CONTROL.sub("?", value)
    return repr(clean if len(clean) <= limit else clean[: limit - 1] + "…")
