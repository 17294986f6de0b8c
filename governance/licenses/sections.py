"""A license text split into keyed sections (1, 1.b, 1.b.v; definitions by their quoted term).

Keys, not positions, identify a section, so that two versions of a license can be compared
section by section even when paragraphs move or the numbering restarts (a use policy appended
to the license file is its own part).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from governance.licenses.normalize import comparison_form, normalize_text

_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")
_NUMBERED = re.compile(r"^\s*(?:#+\s*)?(?:\*\*)?(\d{1,2}|[a-z]|[ivx]{1,4})[.)]\s+(.*)$")
_DEFINITION = re.compile(r'^\s*"([^"]{1,60})"')
_POLICY_TITLE = re.compile(r"(acceptable|prohibited) use policy\W*$", re.IGNORECASE)
_DATE_LINE = re.compile(r"version (?:release|effective) date", re.IGNORECASE)


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    text: str


def _heading(body: str) -> str:
    first = body.split(". ", 1)[0].strip().strip("*").rstrip(".")
    return first if 0 < len(first.split()) <= 6 and first[:1].isupper() else ""


def split_sections(text: str) -> list[Section]:
    """Split a license into keyed sections; a restart of numbering starts a new part.

    Before the first numbered section, blank-line paragraphs are keyed by the term they
    define ('"Licensee" means ...') or by their first words, so reordering does not matter.
    """
    sections: list[Section] = []
    part, top, letter, roman = "", "", "", ""
    body: list[str] = []
    key, heading = "preamble", "title"
    headings: dict[str, str] = {}

    def flush() -> None:
        content = " ".join(" ".join(body).split())
        if not content:
            return
        parent = key.rsplit(".", 1)[0] if "." in key else ""
        # Sub-clauses rarely have their own heading; borrow the nearest ancestor's.
        label = heading or headings.get(part + parent, "") or headings.get(part + top, "")
        headings[part + key] = heading
        sections.append(Section(part + key, label, content))

    for line in normalize_text(text).splitlines():
        stripped = line.strip()
        match = _NUMBERED.match(line)
        token = match.group(1) if match else ""
        if _POLICY_TITLE.search(stripped) and len(stripped.split()) <= 8 and top:
            flush()
            part, top, letter, roman = "use policy ", "", "", ""
            key, heading, body = "title", stripped.strip("*# "), []
            continue
        if match is not None and token.isdigit():
            if top and int(token) < int(top) and not part:
                part = "part 2 "
            flush()
            top, letter, roman = token, "", ""
            key, heading, body = top, _heading(match.group(2)), [match.group(2)]
        elif match and top and _is_roman(token, letter, roman):
            flush()
            roman = token
            key = f"{top}.{letter}.{roman}" if letter else f"{top}.{roman}"
            heading, body = _heading(match.group(2)), [match.group(2)]
        elif match and top and len(token) == 1 and token.isalpha():
            flush()
            letter, roman = token, ""
            key, heading, body = f"{top}.{letter}", _heading(match.group(2)), [match.group(2)]
        elif not top and not stripped:
            flush()
            key, heading, body = "", "", []
        elif not top and _DATE_LINE.search(stripped):
            flush()
            key, heading, body = "release date", "", [stripped]
        elif not top and ((not body and key != "preamble") or _DEFINITION.match(stripped)):
            flush()
            definition = _DEFINITION.match(stripped)
            if definition:
                key = f"definition {definition.group(1)}"
            else:
                key = "paragraph " + " ".join(comparison_form(stripped).split()[:3])
            heading, body = "", [stripped]
        else:
            body.append(stripped)
    flush()
    return sections


def _is_roman(token: str, letter: str, roman: str) -> bool:
    if token not in _ROMAN or not letter:
        return False
    expected = _ROMAN[_ROMAN.index(roman) + 1] if roman in _ROMAN[:-1] else "i"
    # "i" right after "h" is the next letter, not a roman numeral.
    return token == expected and not (token == "i" and letter == "h" and not roman)
