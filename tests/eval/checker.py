"""Counting false statements: every sentence of an answer checked against the generated truth.

An answer is split into sentences (repo ids such as ``Llama-3.1-8B`` and ``[n]`` citations do
not end one), each sentence into clauses (``;``, "but", "and then", "and <name>"), and each
clause into claims: people, models (repo ids, name parts, loose names, family words), decision
and state words, uses, approval numbers, dates, reasons and conditions, upstream change kinds,
and license assertions (commercial use, outputs improving other models, research only, OSI,
user thresholds, attribution strings). Claims in one clause are bound together: a person right
before a verb, or after "by", is that verb's actor; a date or a reason goes with the verb
before it. A clause is FALSE when no approval in the truth is consistent with all of its
claims together, or when a license assertion contradicts the knowledge base. A sentence that
names nobody and nothing checkable is counted as unchecked, never as true.

The checker is independent of the product's answering code: from the assistant it takes only
``license_facts``, the knowledge base's own sentences, so that a verbatim fact is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from governance.assistant.sources import license_facts
from governance.licenses.knowledge import KnowledgeBase, LicenseTerms, load_knowledge_base
from tests.eval import catalog
from tests.eval.truth import APPROVALS, DECISIONS, ApprovalTruth, Truth

# ---------------------------------------------------------------------------- sentences

_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "approx.", "inc.", "no.", "cf.")
_CITATION = re.compile(r"\s*\[(\s*\d+\s*(?:[,;]\s*\d+\s*)*)\]")
# A full stop (with the citations after it), or a citation followed by a capital: assembled
# answers join cited statements without a full stop ("... monorepo [1] Request #27: ...").
_SPLIT = re.compile(r"(?<=[.!?])(?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])*\s+|(?<=\])\s+(?=[A-Z])")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``: lines first, then ``. `` / ``! `` / ``? `` boundaries.

    A dot inside a token (``Llama-3.1-8B``, ``v0.1``, ``10.5``) never ends a sentence; a
    citation right after the full stop stays with its sentence.
    """
    sentences: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        start = 0
        for match in _SPLIT.finditer(line):
            head = line[start : match.start()]
            last_word = head.rsplit(" ", 1)[-1].lower()
            # "Yes. No." split; "e.g. x" and "No. 5" (a number follows) do not.
            if last_word in _ABBREVIATIONS and not (
                last_word == "no." and not line[match.end() : match.end() + 1].isdigit()
            ):
                continue
            piece = line[start : match.end()].strip()
            if piece:
                sentences.append(piece)
            start = match.end()
        rest = line[start:].strip()
        if rest:
            sentences.append(rest)
    merged: list[str] = []
    for piece in sentences:
        # A citation (or a parenthesis) left alone after a full stop belongs to the sentence before.
        if merged and (
            _CITATION.fullmatch(" " + piece)
            or re.fullmatch(r"\([^()]*\)(\s*\[[\d,; ]+\])?\W*", piece)
        ):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged


def citations(sentence: str) -> list[int]:
    """The source numbers a sentence cites, in order."""
    found: list[int] = []
    for group in _CITATION.findall(sentence):
        found += [int(n) for n in re.split(r"[,;]", group) if n.strip().isdigit()]
    return found


def _normal(text: str) -> str:
    text = _CITATION.sub("", text)
    return " ".join(text.replace("\u2019", "'").split()).strip().rstrip(".").lower()


# ---------------------------------------------------------------------------- vocabulary

_VERBS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (action, re.compile(pattern, re.I))
    for action, pattern in (
        ("reapproved", r"\bre-?approv(?:ed|al)\b"),
        ("approved", r"\b(?:approved|signed off|green-?lit|okayed|ok'd|cleared)\b"),
        ("requested", r"\b(?:requested|asked for|submitted|wanted)\b"),
        ("rejected", r"\b(?:rejected|turned down|denied)\b"),
        ("revoked", r"\b(?:revoked|withdr[ae]wn?|pulled)\b"),
        (
            "needs_review",
            r"\b(?:(?:moved |put |went |back )?(?:in|into|under|to) review|needs?[ _]review|"
            r"review after)\b",
        ),
        ("expired", r"\b(?:expired|lapsed)\b"),
        ("expires", r"\b(?:expires|expiry|expiring|expire|valid until)\b"),
        ("decided", r"\bdecided\b"),
        ("pending", r"\b(?:pending|waits? for a decision|awaiting|undecided)\b"),
        ("tracked", r"\b(?:tracked|watched|tracking|watching)\b"),
    )
)
_STATE_OF = {
    "approved": "approved",
    "reapproved": "approved",
    "rejected": "rejected",
    "revoked": "revoked",
    "needs_review": "needs_review",
    "expired": "expired",
    "pending": "requested",
    "requested": "requested",
}
_EVENT_ACTIONS = {
    "approved": APPROVALS,
    "reapproved": frozenset({"reapproved"}),
    "requested": frozenset({"requested"}),
    "rejected": frozenset({"rejected"}),
    "revoked": frozenset({"revoked"}),
    "needs_review": frozenset({"needs_review"}),
    "expired": frozenset({"expired"}),
    "decided": DECISIONS,
}
_MODAL = re.compile(
    r"\b(?:must|can|could|should|will|would|may|might|to|please|needs? to|until|unless|if|"
    r"before it is|once)\s+(?:\w+\s+){0,2}$",
    re.I,
)
_STATE_LEAD = re.compile(
    r"\b(?:is|are|remains?|stays?|now|currently|still)\s+(?:not\s+|still\s+|now\s+)?$", re.I
)
_NEGATION = re.compile(
    r"\b(?:not|never|nobody|no one|no longer|none|no model|nothing|n't)\b|\bno\b(?!\.)", re.I
)
_USE = re.compile(r"\b(research|internal|commercial)(?:ly)?\b", re.I)
_NUMBER = re.compile(r"(?<![\w/])#\s?(\d+)\b")
_CHANGE_NUMBER = re.compile(r"\bchange\s+#\s?\d+", re.I)
_MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?:\s*UTC)?)?\b")
_MDY = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2}),?\s+(\d{4})\b", re.I)
_DMY = re.compile(r"\b(\d{1,2})\s+(" + "|".join(_MONTHS) + r"),?\s+(\d{4})\b", re.I)
_REPO = re.compile(r"(?<![\w.-])([A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*[A-Za-z0-9])")
_WORD = re.compile(r"[a-z][a-z'-]*", re.I)
_CHANGE_KINDS = (
    ("gating_changed", re.compile(r"\bgating(?:_changed| changed| moved)?\b", re.I)),
    ("license_changed", re.compile(r"\blicense_changed\b|\blicense changed\b", re.I)),
    ("license_text_changed", re.compile(r"\blicense_text_changed\b|\btext of license\b", re.I)),
    ("revision_changed", re.compile(r"\brevision_changed\b|\bnew commit\b", re.I)),
)
_FAMILIES = (
    ("stable diffusion", "stable-diffusion"),
    ("llama", "llama"),
    ("gemma", "gemma"),
    ("deepseek", "deepseek"),
    ("mistral", "mistral"),
    ("mixtral", "mixtral"),
    ("codestral", "codestral"),
    ("qwen", "qwen"),
    ("qwq", "qwq"),
    ("phi", "phi-"),
    ("falcon", "falcon"),
    ("bloom", "bloom"),
    ("starcoder", "starcoder"),
    ("olmo", "olmo"),
    ("pythia", "pythia"),
    ("granite", "granite"),
    ("openelm", "openelm"),
    ("smollm", "smollm"),
    ("nemotron", "nemotron"),
    ("command r", "command-r"),
    ("deepfloyd", "deepfloyd"),
    ("gpt-oss", "gpt-oss"),
    ("gpt oss", "gpt-oss"),
    ("sdxl", "stable-diffusion-xl"),
)
# Text of the assistant's worked example: it must never reach an answer as a fact.
WORKED_EXAMPLE = ("copies must keep the notice file", "dana approved acme/x-1b")


def _loose_pattern(name: str) -> re.Pattern[str]:
    tokens = re.findall(r"[a-z]+|\d+", name.lower())
    return re.compile(r"(?<![a-z0-9])" + r"[\s._-]*".join(tokens) + r"(?![a-z0-9])", re.I)


def _license_pattern(name: str) -> re.Pattern[str]:
    """``llama3.1`` also as "Llama 3.1", "llama-3.1"; ``cc-by-nc-4.0`` as "CC BY-NC 4.0"."""
    tokens = re.findall(r"[a-z]+|\d+|\+", name.lower())
    body = r"[\W_]*".join(re.escape(t) for t in tokens)
    return re.compile(r"(?<![a-z0-9])" + body + r"(?![a-z0-9+]|[.-][a-z0-9])", re.I)


@dataclass(frozen=True)
class Vocabulary:
    """The names and texts the checker recognises, built once per truth."""

    people: frozenset[str]
    texts: tuple[str, ...]  # every reason and condition text the generator can use, lower-case
    name_parts: tuple[tuple[re.Pattern[str], str], ...]
    loose: tuple[tuple[re.Pattern[str], str], ...]
    license_names: tuple[tuple[re.Pattern[str], str], ...]
    catalog_license: dict[str, str]

    @classmethod
    def build(cls, truth: Truth, kb: KnowledgeBase) -> Vocabulary:
        repos = {m.repo_id: m.license for m in catalog.MODELS}
        repos.update({m.repo_id: m.license for m in truth.models.values()})
        loose = {m.repo_id: m.loose for m in catalog.MODELS}
        loose.update({m.repo_id: m.loose for m in truth.models.values()})
        parts = sorted(repos, key=lambda r: -len(r.split("/", 1)[1]))
        texts = {a.reason for a in truth.approvals} | {
            t for a in truth.approvals for t in (a.conditions, a.decision_reason) if t
        }
        texts |= {r for r, _ in catalog.REQUEST_REASONS} | set(catalog.REJECT_REASONS)
        texts |= set(catalog.REVOKE_REASONS) | set(catalog.CONDITIONS)
        texts |= {e.detail for e in truth.events() if e.detail and e.action != "needs_review"}
        names: list[tuple[str, str]] = []
        for terms in kb.all():
            if terms.kind == "placeholder" or terms.id in ("unknown", "other"):
                continue
            names.append((terms.name, terms.id))
            names += [(alias, terms.id) for alias in terms.aliases if len(alias) > 3]
            if len(terms.id) >= 3:
                names.append((terms.id, terms.id))
        names.sort(key=lambda n: -len(n[0]))
        return cls(
            people=frozenset(catalog.PEOPLE)
            | catalog.OTHER_PEOPLE
            | truth.people
            | {catalog.SYSTEM_ACTOR},
            texts=tuple(sorted({t.lower() for t in texts if t}, key=len, reverse=True)),
            name_parts=tuple(
                (
                    re.compile(
                        r"(?<![\w.-])" + re.escape(r.split("/", 1)[1]) + r"(?![\w-]|\.\w)", re.I
                    ),
                    r,
                )
                for r in parts
            ),
            loose=tuple(
                (_loose_pattern(form), repo)
                for repo, forms in sorted(loose.items())
                for form in sorted(forms, key=len, reverse=True)
            ),
            license_names=tuple((_license_pattern(name), license_id) for name, license_id in names),
            catalog_license=repos,
        )


# ---------------------------------------------------------------------------- claims


@dataclass
class VerbClaim:
    action: str
    start: int
    state: bool  # "is approved" (now) rather than "approved" (happened)
    negated: bool
    actor: str | None = None
    when: tuple[date, tuple[int, int] | None] | None = None
    text: str | None = None
    claim: bool = True  # False for "must approve", "until approved": an anchor only
    span: tuple[date, date] | None = None  # "in October 2026", "before 2027-07-01"


@dataclass
class Clause:
    """The claims of one clause, with positions so they can be bound together."""

    source: str
    models: list[frozenset[str]] = field(default_factory=list)
    people: list[tuple[int, str, bool]] = field(default_factory=list)  # position, name, after "by"
    verbs: list[VerbClaim] = field(default_factory=list)
    uses: set[str] = field(default_factory=set)
    numbers: set[int] = field(default_factory=set)
    dates: list[tuple[int, date, tuple[int, int] | None]] = field(default_factory=list)
    texts: list[tuple[int, str]] = field(default_factory=list)
    spans: list[tuple[int, date, date]] = field(default_factory=list)
    change_kinds: set[str] = field(default_factory=set)
    negated: bool = False
    universal: bool = False  # "no model is ...", "nothing is ..."

    @property
    def registry(self) -> bool:
        """True when the clause says something about the registry's records."""
        changes = self.change_kinds and self.models
        return bool(self.verbs or self.numbers or (self.people and self.models) or changes)


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _dates(text: str) -> list[tuple[int, date, tuple[int, int] | None]]:
    found: list[tuple[int, date, tuple[int, int] | None]] = []
    for m in _ISO.finditer(text):
        try:
            day = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            continue
        clock = (int(m[4]), int(m[5])) if m[4] else None
        found.append((m.start(), day, clock))
    for m in _MDY.finditer(text):
        try:
            found.append((m.start(), date(int(m[3]), _MONTHS[m[1].lower()], int(m[2])), None))
        except ValueError:
            continue
    for m in _DMY.finditer(text):
        try:
            found.append((m.start(), date(int(m[3]), _MONTHS[m[2].lower()], int(m[1])), None))
        except ValueError:
            continue
    return found


_MONTH_NAMES = "|".join(_MONTHS)
_POINT = (
    r"(\d{4}-\d{2}-\d{2}|(?:" + _MONTH_NAMES + r")\s+\d{1,2},?\s+\d{4}|"
    r"(?:" + _MONTH_NAMES + r")\s+\d{4}|\d{4})"
)
_SPAN = re.compile(
    r"\b(before|until|by|prior to|after|since|in|during)\s+(?:the end of\s+)?" + _POINT + r"\b",
    re.I,
)


def _period(value: str) -> tuple[date, date]:
    """The first and last day a point names: a day, a month ("July 2027") or a year."""
    value = value.strip().lower().replace(",", "")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        day = date.fromisoformat(value)
        return day, day
    parts = value.split()
    if len(parts) == 1:
        year = int(parts[0])
        return date(year, 1, 1), date(year, 12, 31)
    month = _MONTHS[parts[0]]
    if len(parts) == 3:
        day = date(int(parts[2]), month, int(parts[1]))
        return day, day
    year = int(parts[1])
    last = (date(year + month // 12, month % 12 + 1, 1) - date.resolution) if month else None
    return date(year, month, 1), last or date(year, 12, 31)


def _spans(text: str) -> list[tuple[int, int, date, date]]:
    """Date ranges ("in October 2026", "before 2027-07-01", "since 2026"): position, end,
    first and last day."""
    found: list[tuple[int, int, date, date]] = []
    for m in _SPAN.finditer(text):
        word = m.group(1).lower()
        try:
            first, last = _period(m.group(2))
        except (ValueError, KeyError):
            continue
        if word in ("before", "until", "by", "prior to"):
            first, last = date.min, (first - date.resolution if word != "by" else last)
        elif word == "after":
            first, last = last + date.resolution, date.max
        elif word == "since":
            last = date.max
        found.append((m.start(), m.end(), first, last))
    return found


def _mentions(
    text: str, vocab: Vocabulary, truth: Truth
) -> tuple[str, list[frozenset[str]], set[str], int]:
    """Model mentions (each a set of candidate repo ids), license mentions, the text with them
    blanked, and how many of the model mentions are specific (the rest are family words).

    Repo ids and model names go first, so "Llama-3.1-8B" inside one is not a license name; a
    family word ("gemma") counts as a model family unless it is part of a longer license name
    ("the Gemma Terms of Use", "Llama 3.1").
    """
    found: list[frozenset[str]] = []
    for m in list(_REPO.finditer(text)):
        repo = m.group(1).rstrip(".")
        known = next((r for r in vocab.catalog_license if r.lower() == repo.lower()), repo)
        found.append(frozenset({known}))
        text = _blank(text, m.start(), m.start() + len(repo))
    for pattern, repo in (*vocab.name_parts, *vocab.loose):
        for m in list(pattern.finditer(text)):
            found.append(frozenset({repo}))
            text = _blank(text, m.start(), m.end())
    specific = len(found)
    before_licenses = text.lower()
    licenses: set[str] = set()
    spans: list[tuple[int, int]] = []
    for pattern, license_id in vocab.license_names:
        for m in list(pattern.finditer(text)):
            licenses.add(license_id)
            spans.append((m.start(), m.end()))
            text = _blank(text, m.start(), m.end())
    for word, key in _FAMILIES:
        for m in re.finditer(r"(?<![a-z0-9])" + re.escape(word) + r"(?![a-z])", before_licenses):
            if any(s <= m.start() and m.end() < e for s, e in spans):
                continue  # a word of a longer license name
            found.append(
                frozenset(r for r in truth.models if key in r.lower()) or frozenset({f"?{word}"})
            )
            text = _blank(text, m.start(), m.end())
    return text, found, licenses, specific


def _clauses(sentence: str) -> list[str]:
    parts = re.split(
        r";|\bbut\b|\bwhereas\b|\bwhile\b|,?\s+and then\b|,\s+and\b|\band (?=(?:it|later|then)\b)",
        sentence,
        flags=re.I,
    )
    return [p for p in parts if p and p.strip()]


def parse_clause(raw: str, vocab: Vocabulary, truth: Truth) -> Clause:
    """The claims one clause makes (texts, models and licenses are blanked as they are read)."""
    text = re.sub(r"`[^`]*`", " ", _CITATION.sub(" ", raw))
    text = re.sub(r"\bosi[- ]approved\b", "osi", text, flags=re.I)
    clause = Clause(raw)
    lowered = text.lower()
    for known in vocab.texts:
        index = lowered.find(known)
        while index >= 0:
            clause.texts.append((index, known))
            text = _blank(text, index, index + len(known))
            lowered = text.lower()
            index = lowered.find(known)
    text = re.sub(r'"[^"]*"', lambda m: " " * len(m.group()), text)
    text, clause.models, _, _ = _mentions(text, vocab, truth)
    text = _CHANGE_NUMBER.sub(lambda m: " " * len(m.group()), text)
    for kind, pattern in _CHANGE_KINDS:
        if pattern.search(text):
            clause.change_kinds.add(kind)
    spans = _spans(text)
    clause.spans = [(start, first, last) for start, _, first, last in spans]
    clause.dates = [
        d for d in _dates(text) if not any(start <= d[0] < end for start, end, _, _ in spans)
    ]
    for start, end, _, _ in spans:
        text = _blank(text, start, end)
    text_for_words = _ISO.sub(lambda m: " " * len(m.group()), text)
    clause.numbers = {int(n) for n in _NUMBER.findall(text_for_words)}
    clause.uses = {m.group(1).lower() for m in _USE.finditer(text_for_words)}
    for m in _WORD.finditer(text_for_words):
        word = m.group().lower().strip("'-")
        if word.endswith("'s"):
            word = word[:-2]
        if word in vocab.people:
            before = text_for_words[: m.start()].rstrip().lower()
            clause.people.append((m.start(), word, before.endswith(" by") or before == "by"))
    taken: list[tuple[int, int]] = []
    for action, pattern in _VERBS:
        for m in pattern.finditer(text_for_words):
            if any(s <= m.start() < e for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            before = text_for_words[: m.start()]
            # "must approve it again", "until approved": not a claim, but dates and names
            # next to it belong to it. "to expire on D" does state the expiry date.
            claim = not _MODAL.search(before) or action in ("pending", "tracked", "expires")
            negated = bool(_NEGATION.search(before)) if before else False
            state = bool(_STATE_LEAD.search(before)) or action in ("pending", "tracked")
            clause.verbs.append(VerbClaim(action, m.start(), state, negated, claim=claim))
    clause.verbs.sort(key=lambda v: v.start)
    clause.verbs = [v for v in clause.verbs if v.claim or not v.negated] + []
    clause.negated = any(v.negated and v.claim for v in clause.verbs)
    clause.universal = bool(
        re.search(r"\b(no model|nothing|none of|no approval)\b", text_for_words, re.I)
    )
    _bind(clause)
    return clause


def _bind(clause: Clause) -> None:
    """Attach each person, date and text to the verb it belongs to."""
    verbs = clause.verbs
    if not verbs:
        return

    def before(position: int) -> VerbClaim | None:
        return next((v for v in reversed(verbs) if v.start < position), None)

    def after(position: int, reach: int) -> VerbClaim | None:
        return next((v for v in verbs if position < v.start <= position + reach), None)

    for position, name, by in clause.people:
        verb = before(position) if by else after(position, 30)
        if verb is not None and verb.actor is None:
            verb.actor = name
    for position, day, clock in clause.dates:
        verb = before(position) or after(position, 60)
        if verb is not None and verb.when is None:
            verb.when = (day, clock)
    for position, first, last in clause.spans:
        verb = before(position) or after(position, 60)
        if verb is not None and verb.span is None:
            verb.span = (first, last)
    for position, text in clause.texts:
        verb = before(position)
        if verb is not None and verb.text is None and not verb.state:
            verb.text = text


# ---------------------------------------------------------------------------- consistency


def _same_time(at: datetime, when: tuple[date, tuple[int, int] | None]) -> bool:
    day, clock = when
    return at.date() == day and (clock is None or (at.hour, at.minute) == clock)


def _verb_holds(verb: VerbClaim, approval: ApprovalTruth, truth: Truth) -> bool:
    """Whether ``approval`` makes the (positive) verb claim true."""
    if verb.action == "tracked" or not verb.claim:
        return True
    if verb.action == "expires":
        # The current expiry date, or the one a (re-)approval set at the time it was given.
        dates = {approval.expires_on} | {e.expires_on for e in approval.events}
        dates.discard(None)
        if verb.span is not None:
            dates = {d for d in dates if verb.span[0] <= d <= verb.span[1]}  # type: ignore[operator]
        return bool(dates) and (verb.when is None or verb.when[0] in dates)
    plain_state = verb.actor is None and verb.when is None and verb.span is None
    if verb.state and verb.action in _STATE_OF and plain_state:
        wanted = _STATE_OF[verb.action]
        if verb.action == "expired":
            return approval.state == "expired"
        if wanted == "approved":
            return truth.usable(approval)
        return approval.state == wanted
    if verb.action == "pending":
        return approval.state == "requested"
    actions = _EVENT_ACTIONS.get(verb.action, frozenset())
    for event in approval.events:
        if verb.action == "expired":
            if verb.span is not None:
                inside = [d for d in (approval.expires_on, event.at.date()) if d is not None]
                if event.action == "expired" and any(
                    verb.span[0] <= d <= verb.span[1] for d in inside
                ):
                    return True
                continue
            if verb.when is not None and approval.expires_on is not None:
                if approval.expires_on == verb.when[0] or (
                    event.action == "expired" and _same_time(event.at, verb.when)
                ):
                    return True
                continue
            if verb.when is None and event.action == "expired":
                return True
            continue
        if event.action not in actions:
            continue
        if verb.actor is not None and event.actor != verb.actor:
            continue
        if verb.span is not None and not verb.span[0] <= event.at.date() <= verb.span[1]:
            continue
        if verb.when is not None and not _same_time(event.at, verb.when):
            continue
        if verb.text is not None:
            detail = (event.detail or "").lower()
            if verb.text != detail and verb.text != (approval.conditions or "").lower():
                continue
        return True
    return False


def _approval_holds(clause: Clause, approval: ApprovalTruth, truth: Truth, use: str | None) -> bool:
    """All positive claims of ``clause`` hold for ``approval``."""
    if use is not None and approval.use != use:
        return False
    if clause.numbers and approval.number not in clause.numbers:
        return False
    actors = {e.actor for e in approval.events}
    bound = {v.actor for v in clause.verbs if v.actor}
    for _, name, _ in clause.people:
        if name not in bound and name not in actors:
            return False
    bound_days = {v.when for v in clause.verbs if v.when}
    for _, day, clock in clause.dates:
        if (day, clock) in bound_days:
            continue
        if (
            not any(_same_time(e.at, (day, clock)) for e in approval.events)
            and day != approval.expires_on
        ):
            return False
    bound_texts = {v.text for v in clause.verbs if v.text}
    for _, text in clause.texts:
        if text not in bound_texts and text not in approval.texts():
            return False
    return all(_verb_holds(v, approval, truth) for v in clause.verbs if not v.negated and v.claim)


def _candidates(truth: Truth, models: Iterable[str]) -> list[ApprovalTruth]:
    wanted = set(models)
    return [a for a in truth.approvals if a.repo_id in wanted]


def check_registry_clause(
    clause: Clause, truth: Truth, context_models: Sequence[frozenset[str]], cited: set[int] | None
) -> str | None:
    """Why the clause is false (None when some record of the truth bears it out)."""
    groups = clause.models or list(context_models)
    if clause.numbers and not clause.models:
        groups = [frozenset(a.repo_id for a in truth.approvals if a.number in clause.numbers)]
    for _, name, _ in clause.people:
        if name not in truth.people and name != catalog.SYSTEM_ACTOR:
            return f"{name} is nobody in this registry"
    if clause.change_kinds and clause.models and not clause.verbs:
        return _change_problem(clause, truth)
    tracked_claim = any(v.action == "tracked" for v in clause.verbs)
    tracked_problem = _tracked_problem(clause, truth, groups)
    if tracked_problem is not None:
        return tracked_problem
    if tracked_claim:
        clause = _without_tracking(clause)
    uses = sorted(clause.uses) or [None]
    if not groups:
        if not clause.verbs or not (clause.people or clause.universal or clause.numbers):
            return None  # nothing names what the claim is about: unchecked
        groups = [frozenset(truth.models)]
    for group in groups:
        unknown = {r for r in group if r not in truth.models}
        if tracked_claim and clause.negated and not unknown and not clause.verbs:
            return f"{', '.join(sorted(group))} is tracked"
        if not clause.verbs and not clause.people and not clause.numbers:
            continue
        for use in uses:
            candidates = _candidates(truth, group)
            if cited:
                candidates = [a for a in candidates if a.number in cited]
            positive = [v for v in clause.verbs if not v.negated and v.claim]
            negative = [v for v in clause.verbs if v.negated and v.claim]
            bare = clause.people or clause.numbers or clause.dates or clause.texts
            if (positive or (not negative and bare)) and not any(
                _approval_holds(clause, a, truth, use) for a in candidates
            ):
                return _why(clause, group, use)
            for verb in negative:
                probe = Clause(
                    clause.source,
                    verbs=[
                        VerbClaim(
                            verb.action,
                            0,
                            verb.state,
                            False,
                            verb.actor,
                            verb.when,
                            verb.text,
                            span=verb.span,
                        )
                    ],
                )
                pool = [a for a in _candidates(truth, group) if use is None or a.use == use]
                if verb.action == "expires":  # "nothing expires in 2026": what still stands
                    pool = [a for a in pool if a.state in ("approved", "needs_review")]
                if verb.action == "requested" and not verb.state:
                    holds = (
                        bool(pool)
                        if verb.actor is None
                        else any(
                            e.actor == verb.actor and e.action == "requested"
                            for a in pool
                            for e in a.events
                        )
                    )
                else:
                    holds = any(_verb_holds(probe.verbs[0], a, truth) for a in pool)
                if holds:
                    return (
                        f"it says '{verb.action}' did not happen, but it did ({_show(group, use)})"
                    )
    return None


def _tracked_problem(clause: Clause, truth: Truth, groups: Sequence[frozenset[str]]) -> str | None:
    """ "X is tracked (since D)", "P started tracking X on D": who and when, from the model."""
    for verb in (v for v in clause.verbs if v.action == "tracked" and not v.negated):
        for group in groups:
            models = [truth.models[r] for r in group if r in truth.models]
            if not models:
                return f"{', '.join(sorted(group))} is not tracked"
            if not any(
                (verb.actor is None or m.tracked_by == verb.actor)
                and (verb.when is None or _same_time(m.tracked_at, verb.when))
                for m in models
            ):
                return f"{', '.join(sorted(group))} was not tracked by that person on that date"
    return None


def _without_tracking(clause: Clause) -> Clause:
    """The clause without its tracking verbs and the names and dates bound to them."""
    tracking = [v for v in clause.verbs if v.action == "tracked"]
    actors = {v.actor for v in tracking if v.actor}
    days = {v.when for v in tracking if v.when}
    kept = [v for v in clause.verbs if v.action != "tracked"]
    return Clause(
        clause.source,
        models=clause.models,
        people=[
            p for p in clause.people if p[1] not in actors or any(v.actor == p[1] for v in kept)
        ],
        verbs=kept,
        uses=clause.uses,
        numbers=clause.numbers,
        dates=[d for d in clause.dates if (d[1], d[2]) not in days],
        texts=clause.texts,
        change_kinds=clause.change_kinds,
        negated=clause.negated,
        universal=clause.universal,
    )


def _change_problem(clause: Clause, truth: Truth) -> str | None:
    """An upstream change line: the model had a change of that kind (on that date)."""
    for group in clause.models:
        changes = [c for r in group if r in truth.models for c in truth.models[r].changes]
        for kind in clause.change_kinds:
            fits = [c for c in changes if c.kind == kind]
            if clause.dates:
                fits = [
                    c for c in fits if any(_same_time(c.at, (d, t)) for _, d, t in clause.dates)
                ]
            if not fits:
                return f"no {kind} of {', '.join(sorted(group))} fits"
    return None


def _show(group: frozenset[str], use: str | None) -> str:
    shown = ", ".join(sorted(group))
    return f"{shown}, {use} use" if use else shown


def _why(clause: Clause, group: frozenset[str], use: str | None) -> str:
    parts = [f"{v.actor or ''} {'is ' if v.state else ''}{v.action}".strip() for v in clause.verbs]
    if clause.dates:
        parts.append("dated " + ", ".join(d.isoformat() for _, d, _ in clause.dates))
    if clause.texts:
        parts.append("reason/conditions: " + "; ".join(t for _, t in clause.texts))
    return f"no record of {_show(group, use)} fits: " + ", ".join(parts or ["the people named"])


# ---------------------------------------------------------------------------- licenses

_THRESHOLD = re.compile(r"\b(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(million|billion)?\b", re.I)


def _fact_body(fact: str) -> str:
    """A knowledge-base sentence without its label ("Note: ...", "Condition: ...")."""
    head, sep, body = fact.partition(": ")
    return _normal(body if sep and len(head.split()) <= 3 else fact)


def license_problem(
    sentence: str,
    licenses: set[str],
    kb: KnowledgeBase,
    also: Iterable[str] = (),
    texts: Iterable[str] = (),
) -> str | None:
    """Why a sentence's license assertions contradict every license in ``licenses``.

    A sentence that repeats (or labels) one of the knowledge base's own sentences for any of
    ``licenses`` or ``also`` (the licenses in the conversation) is taken as true.
    """
    if not licenses:
        return None
    text = _normal(sentence)
    for known in texts:  # a reason or condition ("not cleared by legal") asserts no term
        text = text.replace(known, " ")
    terms = [kb.find(i) for i in sorted(licenses)]
    known = [t for t in terms if t is not None]
    if not known:
        return None
    for t in [*known, *(x for i in also if (x := kb.find(i)) is not None)]:
        for fact in license_facts(t):
            body = _fact_body(fact)
            if _normal(fact) == text or (len(body) > 20 and body in text):
                return None
    problems = [p for t in known if (p := _license_contradiction(text, t))]
    return problems[0] if len(problems) == len(known) else None


_NEGATORS = re.compile(
    r"\b(not|no|never|cannot|can't|may not|must not|isn't|aren't|doesn't|don't|without|"
    r"dropped|removed|lifted|no longer)\b"
)
_RESTRICTIVE = re.compile(r"\b(forbid\w*|prohibit\w*|restrict\w*|bans?|barred)\b")


_REGISTRY_WORDS = re.compile(
    r"\b(approved|re-approved|rejected|revoked|requested|pending|in review|expired|request #?\d+)\b"
)


def _license_contradiction(text: str, terms: LicenseTerms) -> str | None:
    text = re.sub(r"\([^()]*\)", " ", text)  # "(variant not stated)" asserts nothing
    registry = bool(_REGISTRY_WORDS.search(text))  # "rejected for commercial use": a decision
    negated = bool(_NEGATORS.search(text))
    if "unknown" in text or "not reviewed" in text:
        return None
    if re.search(r"\boutputs?\b", text) and re.search(
        r"\b(improv\w*|train\w*|distil\w*|develop\w*)\b", text
    ):
        # "may not be used", "forbids": restricted; "sets no restriction", "dropped the
        # restriction": allowed (the negations cancel).
        flips = len(_NEGATORS.findall(text)) + len(_RESTRICTIVE.findall(text))
        restricted = flips % 2 == 1
        if terms.output_restriction is True and not restricted:
            return f"{terms.id} forbids using outputs to improve other models"
        if terms.output_restriction is False and restricted:
            return f"{terms.id} does not restrict outputs"
    if (
        not registry
        and re.search(r"\bcommercial(ly)?\b", text)
        and re.search(
            r"\b(allow\w*|permit\w*|can|may|ok|free|not|forbid\w*|prohibit\w*|no)\b|non-?commercial",
            text,
        )
    ):
        says_no = negated or bool(re.search(r"non-?commercial|research (use )?only", text))
        if terms.commercial_use == "no" and not says_no:
            return f"{terms.id} does not allow commercial use"
        limited = re.search(
            r"\b(above|more than|over|unless|without a|separate license|beyond)\b", text
        )
        allowed = terms.commercial_use in ("yes", "conditional")
        if allowed and says_no and not limited:
            return f"{terms.id} allows commercial use"
    if re.search(r"\bresearch[- ](use )?only\b|\bonly for research\b", text):
        if terms.research_only is False and not negated:
            return f"{terms.id} is not research-only"
        if terms.research_only is True and negated:
            return f"{terms.id} is research-only"
    osi = re.search(r"\bosi[- ]approved\b\W*(yes|no)?|\bapproved by (the )?osi\b", text)
    if osi and terms.osi_approved is not None:
        says = not negated if osi.group(1) is None else osi.group(1) == "yes"
        if says != terms.osi_approved:
            return f"{terms.id} is {'' if terms.osi_approved else 'not '}OSI-approved"
    if re.search(r"\b(monthly active users?|users?|mau)\b", text):
        for m in _THRESHOLD.finditer(text):
            value = float(m.group(1).replace(",", ""))
            scale = {"million": 1e6, "billion": 1e9}.get((m.group(2) or "").lower(), 1)
            number = int(value * scale)
            if number >= 1_000_000 and number != terms.user_threshold:
                threshold = terms.user_threshold or "none"
                return f"{terms.id}'s user threshold is {threshold}, not {number:,}"
    if re.search(r"\bgovern(ing|ed)\b", text) and terms.governing_law:
        words = [w for w in re.findall(r"[a-z']+", terms.governing_law.lower()) if len(w) > 3]
        if words and not any(w in text for w in words):
            return f"{terms.id} is governed by {terms.governing_law}"
    if re.search(r"\bno (monthly active )?user threshold\b", text) and terms.user_threshold:
        return f"{terms.id} has a threshold of {terms.user_threshold:,} monthly active users"
    if "use policy" in text:
        for url in re.findall(r"https?://[^\s)\]]+", text):
            if terms.use_policy_url and url.rstrip(".,;") != terms.use_policy_url.lower():
                return f"{terms.id}'s use policy is {terms.use_policy_url}"
    for quoted in re.findall(r'"([^"]+)"', text):
        if quoted.startswith(("built with", "improved using")) and quoted not in {
            a.lower() for a in terms.attribution
        }:
            return f'{terms.id} does not require "{quoted}"'
    return None


# ---------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Context:
    """What the question was about: a bare "Yes." or a sentence that names nothing refers here."""

    models: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()
    verdicts: frozenset[str] | None = None  # acceptable first words: yes, no, not yet, not now


@dataclass(frozen=True)
class SentenceVerdict:
    sentence: str
    checked: bool
    false: bool
    why: str = ""


_VERDICT = re.compile(r"^\W*(yes|no|not yet|not now|no longer|correct|incorrect)\s*[,.!:;]", re.I)


def check_answer(
    text: str,
    truth: Truth,
    context: Context | None = None,
    *,
    source_ids: Sequence[str] = (),
    kb: KnowledgeBase | None = None,
    vocab: Vocabulary | None = None,
) -> list[SentenceVerdict]:
    """One verdict per sentence of ``text`` (an answer to a question about ``context``).

    ``source_ids`` are the answer's numbered sources (``approval:12``, ``kb:llama2``, ...): a
    registry sentence that cites approval sources must be borne out by one of those approvals.
    """
    context = context or Context()
    kb = kb or load_knowledge_base()
    vocab = vocab or Vocabulary.build(truth, kb)
    verdicts: list[SentenceVerdict] = []
    seen: dict[str, int] = {}
    last_models: list[frozenset[str]] = [frozenset({m}) for m in context.models]
    last_specific: list[str] = list(context.models)  # the models "it" refers to
    context_licenses = set(context.licenses) | {
        truth.models[m].license if m in truth.models else vocab.catalog_license.get(m, "")
        for m in context.models
    }
    context_licenses.discard("")
    last_licenses = set(context_licenses)
    for index, sentence in enumerate(split_sentences(text)):
        normal = _normal(sentence)
        seen[normal] = seen.get(normal, 0) + 1
        if seen[normal] >= 3 and len(normal.split()) >= 2:
            verdicts.append(SentenceVerdict(sentence, True, True, "degenerate repetition"))
            continue
        if any(example in normal for example in WORKED_EXAMPLE):
            verdicts.append(SentenceVerdict(sentence, True, True, "the worked example's text"))
            continue
        why: str | None = None
        checked = False
        verdict = _VERDICT.match(sentence + " ")
        if index == 0 and verdict and context.verdicts is not None:
            checked = True
            word = verdict.group(1).lower()
            if word not in context.verdicts:
                why = f"answers {word!r}; the truth says {' / '.join(sorted(context.verdicts))}"
        cited = {
            int(source_ids[n - 1].split(":", 1)[1])
            for n in citations(sentence)
            if 0 < n <= len(source_ids) and source_ids[n - 1].startswith("approval:")
        }
        plain = re.sub(r"`[^`]*`", " ", _CITATION.sub(" ", sentence))
        _, sentence_models, named_licenses, specific = _mentions(plain, vocab, truth)
        model_licenses = {
            truth.models[r].license if r in truth.models else vocab.catalog_license.get(r, "")
            for group in sentence_models[:specific]
            for r in group
            if len(group) == 1
        } - {""}
        header = sentence.rstrip().endswith(":") or bool(re.search(r":\s*(\[\d+\])?$", sentence))
        sentence_context = sentence_models or ([] if header else last_models)
        counted = count_problem(sentence, vocab, truth) if header else None
        if counted is not None:
            checked, why = True, why or counted
        for raw in _clauses(sentence):
            clause = parse_clause(raw, vocab, truth)
            if clause.registry or clause.people:
                checked = True
                found = check_registry_clause(clause, truth, sentence_context, cited or None)
                why = why or found
        licenses = named_licenses or model_licenses or last_licenses
        problem = license_problem(
            sentence,
            licenses,
            kb,
            also=named_licenses | model_licenses | last_licenses | context_licenses,
            texts=vocab.texts,
        )
        if problem is not None:
            checked, why = True, why or problem
        elif licenses and _license_claim(sentence):
            checked = True
        about = [r for g in sentence_models[:specific] for r in g]
        if not sentence_models and not header:
            about = last_specific
        fact = model_fact_problem(sentence, about, named_licenses, truth)
        if fact is not None:
            checked, why = True, why or fact
        elif about and (
            (_MODEL_LICENSE.search(sentence.lower()) and named_licenses)
            or _SNAPSHOT_DATE.search(sentence.lower())
            or _GATED.search(sentence.lower())
            or "open source ai" in sentence.lower()
        ):
            checked = True
        if sentence_models:
            last_models = sentence_models
            last_specific = [r for g in sentence_models[:specific] for r in g]
        if named_licenses or model_licenses:
            last_licenses = named_licenses or model_licenses
        verdicts.append(SentenceVerdict(sentence, checked, why is not None, why or ""))
    return verdicts


_MODEL_LICENSE = re.compile(r"\b(license|licence)\b[^.]{0,20}\b(is|:)\b|\bunder\b|\blicensed\b")
_SNAPSHOT_DATE = re.compile(r"\b(card declared|declared on|snapshot|checked upstream|as of)\b")
_GATED = re.compile(r"\bgated\W*\(?\s*(auto|manual)\b|\b(not|isn't) gated\b")
_OSAID_PASS = re.compile(
    r"\b(is|counts as|qualifies as) (an )?open source ai\b|\bpass(es)? (the )?(osaid|osi)|"
    r"\bmeets (the )?(osaid|open source ai definition)"
)


def model_fact_problem(
    sentence: str, models: Sequence[str], named_licenses: set[str], truth: Truth
) -> str | None:
    """A sentence about one tracked model's upstream facts: its license, when its card was
    read, its gating, and whether it is open source AI (no generated model publishes training
    code or data, so none is)."""
    known = [truth.models[r] for r in models if r in truth.models]
    if not known:
        return None
    text = _normal(sentence)
    claims_license = named_licenses and _MODEL_LICENSE.search(text)
    if claims_license and not any(m.license in named_licenses for m in known):
        licenses = ", ".join(sorted({m.license for m in known}))
        return f"{', '.join(m.repo_id for m in known)} is under {licenses}"
    if _SNAPSHOT_DATE.search(text):
        for _, day, clock in _dates(text):
            if not any(_same_time(t, (day, clock)) for m in known for t in m.snapshot_times()):
                return f"no snapshot of {', '.join(m.repo_id for m in known)} on {day}"
    gated = _GATED.search(text)
    if gated:
        said = gated.group(1) or "false"
        if not any(m.gated == said for m in known):
            return f"{known[0].repo_id} is gated: {known[0].gated}"
    if _OSAID_PASS.search(text) and not _NEGATORS.search(text):
        return f"{known[0].repo_id} publishes no training code or data: not open source AI"
    return None


_COUNT = re.compile(r"\((\d+)\):?\s*$")
_QUALIFIERS = re.compile(r"\b(this year|before|after|since|until|in 20\d\d|by|or|and)\b", re.I)


def count_problem(sentence: str, vocab: Vocabulary, truth: Truth) -> str | None:
    """A list header such as "Pending requests (4):": the number must be the truth's count of
    approvals (or of models) in that state, for that use when one is named."""
    plain = _CITATION.sub(" ", sentence).strip()
    count = _COUNT.search(plain)
    if count is None:
        return None
    clause = parse_clause(plain[: count.start()], vocab, truth)
    claims = [v for v in clause.verbs if v.claim and not v.negated]
    if (
        len(claims) != 1
        or claims[0].action not in _STATE_OF
        or clause.people
        or clause.models
        or clause.dates
        or len(clause.uses) > 1
        or clause.negated
        or _QUALIFIERS.search(plain[: count.start()])
    ):
        return None
    state, use = _STATE_OF[claims[0].action], next(iter(clause.uses), None)
    hits = [
        a
        for a in truth.approvals
        if (use is None or a.use == use)
        and (truth.usable(a) if state == "approved" else a.state == state)
    ]
    said = int(count.group(1))
    if said not in (len(hits), len({a.repo_id for a in hits})):
        return f"the truth has {len(hits)} {state.replace('_', ' ')}" + (
            f" for {use} use" if use else ""
        )
    return None


def _license_claim(sentence: str) -> bool:
    return bool(
        re.search(
            r"\b(commercial|outputs?|research|osi|users?|attribution|built with|govern\w*|"
            r"use policy|threshold)\b",
            sentence,
            re.I,
        )
    )


def false_sentences(verdicts: Iterable[SentenceVerdict]) -> list[SentenceVerdict]:
    return [v for v in verdicts if v.false]
