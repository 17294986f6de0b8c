"""An alert told in words, from its stored facts: the headline first, then the details.

"License changed: MIT → Llama 3.1 Community License — commercial use: yes → conditional (700M
MAU)" comes from the knowledge base's names and structured terms, not from the stored JSON;
a license text is named by its file and a short hash ("LICENSE text changed (5b64… → 9af1…)").
Pure: plain text out (the renderers escape it), no database, no Slack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from governance.alerts.kind_names import kind_name
from governance.alerts.notifier import OutgoingAlert
from governance.core.kinds import ChangeKind, NoticeKind
from governance.licenses.knowledge import LicenseTerms, load_knowledge_base

HASH_SHOWN = 4  # characters of a content hash people compare at a glance
SHA_SHOWN = 12
FILES_SHOWN = 5
MIN_REPEAT = 15  # a detail line this long found inside the headline says nothing new


@dataclass(frozen=True)
class AlertStory:
    """What an alert says, in reading order.

    ``headline``: the change in words; ``facts``: what else changed (files, links, fields);
    ``summary``: the clause summary and other detail lines, none repeating the headline or a
    fact; ``diff``: the license diff excerpt, when there is one (``diff_truncated``: only the
    start of it was stored).
    """

    kind: str
    kind_name: str
    repo_id: str
    headline: str
    facts: tuple[str, ...] = ()
    summary: tuple[str, ...] = ()
    diff: str | None = None
    diff_truncated: bool = False


def short_hash(value: Any) -> str:
    """``5b64…`` for a content hash; ``?`` when there is none (an unreadable text)."""
    text = str(value or "")
    return f"{text[:HASH_SHOWN]}…" if text else "?"


def _terms(value: Any) -> dict[str, Any]:
    """The card's license fields (a bare license id reads as ``{"license": id}``)."""
    if isinstance(value, dict):
        return value
    return {"license": value} if isinstance(value, str) and value else {}


def _license(value: Any) -> LicenseTerms | None:
    terms = _terms(value)
    if not terms:
        return None
    kb = load_knowledge_base()
    return kb.find(str(terms.get("license_name") or "")) or kb.find(str(terms.get("license") or ""))


def license_label(terms: Any) -> str:
    """A license as people name it: ``MIT``, ``Apache-2.0``, ``Llama 3.1 Community License``;
    the card's own words when the knowledge base does not know it; ``none`` for no license."""
    known = _license(terms)
    if known is not None and known.kind != "placeholder":
        if known.is_spdx and known.kind == "software":
            return known.spdx
        return known.name.removesuffix(" Agreement")
    card = _terms(terms)
    return str(card.get("license_name") or card.get("license") or "none")


def _threshold(users: int | None) -> str:
    if not users:
        return ""
    if users >= 1_000_000:
        return f" ({users // 1_000_000}M MAU)"
    return f" ({users:,} MAU)"


def _commercial(before: LicenseTerms | None, after: LicenseTerms | None) -> str:
    """`` — commercial use: yes → conditional (700M MAU)`` when that changed, else ``""``."""
    if before is None or after is None:
        return ""
    old = before.commercial_use + _threshold(before.user_threshold)
    new = after.commercial_use + _threshold(after.user_threshold)
    if old == new:
        return ""
    return f" — commercial use: {before.commercial_use} → {new}"


def _license_changed(before: Any, after: Any) -> tuple[str, list[str]]:
    old, new = license_label(before), license_label(after)
    facts: list[str] = []
    b, a = _terms(before), _terms(after)
    if b.get("license_link") != a.get("license_link"):
        facts.append(
            f"License link: {b.get('license_link') or 'none'} → {a.get('license_link') or 'none'}"
        )
    if b.get("license_tags") != a.get("license_tags"):
        tags = ", ".join(a.get("license_tags") or []) or "none"
        facts.append(f"License tags: {', '.join(b.get('license_tags') or []) or 'none'} → {tags}")
    if old == new:
        return f"License details changed: {new}", facts
    return f"License changed: {old} → {new}" + _commercial(_license(before), _license(after)), facts


def _path(value: Any) -> str:
    return str(value.get("path") or "license file") if isinstance(value, dict) else "license file"


def _hash(value: Any) -> str:
    return short_hash(value.get("content_hash") if isinstance(value, dict) else None)


def _gating_words(gated: Any) -> str:
    return {
        "auto": "gated (access granted automatically)",
        "manual": "gated (the author approves each request)",
    }.get(str(gated).lower(), "not gated" if gated in (None, False, "false", "") else str(gated))


def _gating(before: Any, after: Any) -> tuple[str, list[str]]:
    b = before if isinstance(before, dict) else {}
    a = after if isinstance(after, dict) else {}
    if b.get("gated") != a.get("gated"):
        head = f"Gating changed: {_gating_words(b.get('gated'))} → {_gating_words(a.get('gated'))}"
    else:
        head = "Gating terms changed (what users accept to get access)"
    old, new = dict(b.get("prompt") or {}), dict(a.get("prompt") or {})
    facts = [
        f"Access form field {key!r} "
        + ("added" if key not in old else "removed" if key not in new else "changed")
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]
    return head, facts


def _what_became(key: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    return "added" if key not in old else "removed" if key not in new else "changed"


def _files(label: str, paths: Any) -> list[str]:
    names = [str(p) for p in paths or []]
    if not names:
        return []
    more = f" (+{len(names) - FILES_SHOWN} more)" if len(names) > FILES_SHOWN else ""
    return [f"{label}: {', '.join(names[:FILES_SHOWN])}{more}"]


def _revision(before: Any, after: Any) -> tuple[str, list[str]]:
    a = after if isinstance(after, dict) else {}
    b = before if isinstance(before, dict) else {}
    counts = [
        f"{len(a.get(key) or [])} {key}" for key in ("added", "removed", "changed") if a.get(key)
    ]
    weights = "; weights changed" if a.get("weights_changed") else ""
    what = (
        f" (files: {', '.join(counts)}{weights})"
        if counts
        else f" ({weights[2:]})"
        if weights
        else ""
    )
    head = f"New revision {str(a.get('sha') or '?')[:SHA_SHOWN]}{what}"
    facts = [
        *_files("Added", a.get("added")),
        *_files("Removed", a.get("removed")),
        *_files("Changed", a.get("changed")),
    ]
    if b.get("sha"):
        facts.append(f"Previous revision: {str(b['sha'])[:SHA_SHOWN]}")
    return head, facts


_AVAILABILITY = {
    "not_found": "deleted, made private, or no longer visible to us",
    "gated_no_access": "gated, and our token has no access",
    "disabled": "disabled by the Hub",
    "available": "available",
}


def _structured(
    kind: str, before: Any, after: Any, payload: dict[str, Any]
) -> tuple[str, list[str]] | None:
    """The headline and facts of a kind whose before/after are structured; None otherwise."""
    if kind == ChangeKind.LICENSE_CHANGED:
        return _license_changed(before, after)
    if kind == ChangeKind.LICENSE_TEXT_CHANGED:
        return f"{_path(after)} text changed ({_hash(before)} → {_hash(after)})", []
    if kind == ChangeKind.LICENSE_FILE_ADDED:
        return f"{_path(after)} added ({_hash(after)})", []
    if kind == ChangeKind.LICENSE_FILE_REMOVED:
        return f"{_path(before)} removed (was {_hash(before)})", []
    if kind == ChangeKind.GATING_CHANGED:
        return _gating(before, after)
    if kind == ChangeKind.REVISION_CHANGED:
        return _revision(before, after)
    if kind == ChangeKind.RENAMED and before and after:
        return f"Renamed: {before} → {after}", []
    if kind in (ChangeKind.UNAVAILABLE, ChangeKind.DISABLED) and after:
        if after == "available":
            return "Available on the Hub again", []
        return f"Unavailable: {_AVAILABILITY.get(str(after), str(after))}", []
    if kind == ChangeKind.SUPERSEDED and after:
        return f"Superseded: the card points to a newer version, {after}", []
    if kind == ChangeKind.NEW_RELEASE_IN_FAMILY and isinstance(after, dict):
        published = str(after.get("created_at") or "")[:10]
        facts = [f"Published {published}"] if published else []
        return f"New release in the family: {after.get('repo_id') or '?'}", facts
    if kind == ChangeKind.BASE_TERMS_CHANGED and isinstance(after, dict):
        told = [str(c.get("summary") or "") for c in after.get("changes") or [] if c]
        head = f"Terms of its base model {after.get('base') or '?'} changed"
        return head + (f": {' '.join(told)}" if told else ""), []
    if kind == NoticeKind.DIGEST:
        return _digest(payload)
    return _notice(kind, payload)


def _notice(kind: str, payload: dict[str, Any]) -> tuple[str, list[str]] | None:
    """Headlines of the notices that carry their facts in their summary lines."""
    lines = [str(line) for line in payload.get("summary") or []]
    first = lines[0] if lines else ""
    if kind == NoticeKind.APPROVAL_EXPIRED and isinstance(payload.get("approval_id"), int):
        return f"Approval #{payload['approval_id']} expired", [first] if first else []
    if kind == NoticeKind.POLICY_VIOLATION and len(lines) > 1:
        dry = " (dry run)" if payload.get("dry_run") else ""
        return f"Team policy violated{dry}: {lines[1]}", []
    if kind == NoticeKind.UPSTREAM_UNREACHABLE and " could not be checked " in first:
        tried, _, error = first.partition("; last error: ")
        times = tried.split(" could not be checked ", 1)[1]
        return f"Hub unreachable: checks failed {times}", [f"Last error: {error}"] if error else []
    if kind == NoticeKind.UPSTREAM_RECOVERED and " answers again after " in first:
        return "Hub reachable again after " + first.split(" answers again after ", 1)[1], []
    return None


def _digest(payload: dict[str, Any]) -> tuple[str, list[str]] | None:
    """``Daily digest: 2 pending requests, 1 in review, 0 expiring soon`` from its section
    lines (``Pending requests: 2``…); None when they are not there."""
    counts: dict[str, str] = {}
    for line in payload.get("summary") or []:
        label, _, number = str(line).partition(": ")
        if number.isdigit():
            counts[label.split(" ")[0].lower()] = number
    if not counts:
        return None
    parts = [
        f"{counts.get('pending', '0')} pending requests",
        f"{counts.get('in', '0')} in review",
        f"{counts.get('expiring', '0')} expiring soon",
    ]
    return "Daily digest: " + ", ".join(parts), []


def _without_repo(line: str, repo: str) -> str:
    """A summary line without the model it is about (the alert names it once)."""
    if repo and line.startswith(repo + " "):
        rest = line[len(repo) + 1 :]
        return rest[:1].upper() + rest[1:]
    return line


def tell(alert: OutgoingAlert) -> AlertStory:
    """``alert`` in words: its headline, facts, clause summary and diff excerpt (plain text)."""
    payload = alert.payload or {}
    kind = str(payload.get("kind") or alert.kind)
    repo = str(payload.get("repo_id") or "")
    lines = [str(line) for line in payload.get("summary") or [] if str(line).strip()]
    told = _structured(kind, payload.get("before"), payload.get("after"), payload)
    if told is not None:
        headline, facts = told
        # The first summary line said in words what the headline now says from the facts.
        details = lines[1:] if kind != NoticeKind.DIGEST else lines
    elif lines:
        headline = f"{kind_name(kind)}: {_without_repo(lines[0], repo)}"
        facts, details = [], lines[1:]
    else:
        headline, facts, details = alert.title or kind_name(kind), [], []
    seen = {headline.casefold().rstrip("."), *(f.casefold().rstrip(".") for f in facts)}
    summary: list[str] = []
    for line in details:
        key = line.casefold().rstrip(".")
        if key in seen or (len(key) > MIN_REPEAT and key in headline.casefold()):
            continue  # the same line twice (title, body and bullets all said it once)
        seen.add(key)
        summary.append(line)
    diff = str(payload.get("diff_excerpt") or "") or None
    return AlertStory(
        kind=kind,
        kind_name=kind_name(kind),
        repo_id=repo,
        headline=headline,
        facts=tuple(facts),
        summary=tuple(summary),
        diff=diff,
        diff_truncated=bool(payload.get("diff_truncated")),
    )
