"""Questions over a generated registry, from templates with several phrasings each.

Each question knows its intent, how it should be answered (``exact`` from the registry or the
knowledge base, ``model`` for the free-form path, ``decline`` when nothing covers it), the
facts the answer must contain (each a group of acceptable spellings), phrases it must not
contain, and the checker's context (what "Yes." or "it" refers to). Phrasings vary on purpose:
questions and imperatives, lower case, typos, loose model names ("gemma 3", "deepseek r1").
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from governance.licenses.knowledge import LicenseTerms, load_knowledge_base
from tests.eval import catalog
from tests.eval.checker import Context, _loose_pattern
from tests.eval.truth import APPROVALS, DECISIONS, Truth

Expect = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class GenQuestion:
    id: str
    intent: str
    text: str
    route: str  # exact | model | decline
    expect: Expect = ()
    reject: tuple[str, ...] = ()
    context: Context = field(default_factory=Context)


# Misspellings people make in the words that carry the intent.
_TYPOS = {
    "approved": "aproved",
    "rejected": "rejcted",
    "revoked": "revokd",
    "requested": "requsted",
    "license": "licence",
    "happened": "happend",
    "conditions": "condtions",
    "review": "reveiw",
    "expires": "expirs",
    "commercial": "comercial",
}
_STATE_WORDS = {
    "approved": ("approved",),
    "requested": ("request", "pending", "waits"),
    "rejected": ("rejected",),
    "revoked": ("revoked",),
    "needs_review": ("review",),
    "expired": ("expired",),
}
# Spoken names of licenses, for permission and comparison questions.
LICENSE_NAMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("llama2", ("Llama 2", "the llama 2 license", "Llama 2 Community License")),
    ("llama3", ("Llama 3", "the Meta Llama 3 license")),
    ("llama3.1", ("Llama 3.1", "the llama3.1 license")),
    ("llama3.2", ("Llama 3.2", "the Llama 3.2 Community License")),
    ("llama4", ("Llama 4", "the llama 4 license")),
    ("gemma", ("Gemma", "the Gemma Terms of Use", "gemma terms")),
    ("apache-2.0", ("Apache 2.0", "the Apache license", "apache-2.0")),
    ("mit", ("MIT", "the MIT license")),
    ("cc-by-nc-4.0", ("CC BY-NC 4.0", "cc-by-nc-4.0")),
    ("tongyi-qianwen", ("Tongyi Qianwen", "the Tongyi Qianwen license")),
    ("mrl", ("the Mistral Research License", "MRL")),
    ("deepseek", ("the DeepSeek license", "DeepSeek License Agreement")),
    ("openrail++", ("the SDXL Open RAIL++-M license", "openrail++")),
    ("qwen-research", ("the Qwen Research License",)),
)
OUT_OF_SCOPE = (
    "What is the capital of France?",
    "Write me a poem about GPUs.",
    "What's the weather in Lisbon tomorrow?",
    "Who won the 2018 football world cup?",
    "how do i bake sourdough bread",
    "Translate 'good morning' into Japanese.",
    "What is the stock price of NVIDIA today?",
    "recommend a good laptop for gaming",
    "Tell me a joke about cats.",
    "What is the boiling point of water on Everest?",
    "Plan a three day trip to Rome.",
    "How many moons does Jupiter have?",
)
CONCEPTS: tuple[tuple[str, tuple[str, ...], Expect], ...] = (
    (
        "open_weights",
        (
            "What is the difference between open weights and open source?",
            "Explain the difference between open weights and open source.",
            "open weights vs open source?",
            "is an open-weights model the same as open source AI",
        ),
        (("weights",), ("source",), ("training data", "data", "code")),
    ),
    (
        "components",
        (
            "What are the five components of an AI release?",
            "list the components of an AI release",
            "which parts make up an AI model release?",
        ),
        (
            ("architecture",),
            ("weights", "parameters"),
            ("training code",),
            ("training data", "data"),
            ("inference code", "inference"),
        ),
    ),
    (
        "osi_definition",
        (
            "How does OSI define open source AI?",
            "What is the OSI's open source AI definition?",
            "explain the open source ai definition",
        ),
        (("use",), ("study",), ("modify",), ("share",)),
    ),
    (
        "quantization",
        (
            "What does quantization trade off?",
            "what do you lose when you quantize a model?",
            "Explain what quantization trades.",
        ),
        (("precision", "accuracy", "quality", "bits"), ("memory", "size", "smaller", "faster")),
    ),
)


class _Namer:
    """How a person would name a model: repo id, its name, lower case, or a loose name that
    fits exactly one model of this registry."""

    def __init__(self, truth: Truth, rng: random.Random) -> None:
        self.truth, self.rng = truth, rng
        names = {r: r.split("/", 1)[1] for r in truth.models}
        self.loose: dict[str, list[str]] = {}
        for repo, model in truth.models.items():
            forms = []
            for form in model.loose:
                pattern = _loose_pattern(form)
                if [r for r, n in names.items() if pattern.search(n)] == [repo]:
                    forms.append(form)
            self.loose[repo] = forms

    def __call__(self, repo: str) -> str:
        options = [repo, repo.split("/", 1)[1], repo.split("/", 1)[1].lower(), *self.loose[repo]]
        weights = [3, 3, 1] + [3] * len(self.loose[repo])
        return self.rng.choices(options, weights=weights)[0]


def _typo(text: str, rng: random.Random, rate: float = 0.2) -> str:
    if rng.random() >= rate:
        return text
    for word, wrong in _TYPOS.items():
        if re.search(rf"\b{word}\b", text):
            return re.sub(rf"\b{word}\b", wrong, text, count=1)
    return text


_PREFIXES = ("hey, ", "quick question: ", "can you tell me: ", "pls ", "@modelgov ")


def _case(text: str, rng: random.Random) -> str:
    if rng.random() < 0.12:
        text = rng.choice(_PREFIXES) + text[:1].lower() + text[1:]
    return text.lower() if rng.random() < 0.25 else text


def _day(value: date | None) -> tuple[str, ...]:
    return (value.isoformat(),) if value else ()


class _Builder:
    def __init__(self, truth: Truth, seed: int) -> None:
        self.truth = truth
        self.rng = random.Random(seed * 7919 + 1)
        self.name = _Namer(truth, self.rng)
        self.questions: list[GenQuestion] = []
        self.kb = load_knowledge_base()

    def add(
        self,
        intent: str,
        templates: Sequence[str],
        route: str = "exact",
        expect: Expect = (),
        reject: tuple[str, ...] = (),
        context: Context | None = None,
        count: int = 1,
        **slots: str,
    ) -> None:
        picks = self.rng.sample(list(templates), min(count, len(templates)))
        for template in picks:
            text = _case(_typo(template.format(**slots), self.rng), self.rng)
            qid = f"{intent}-{len(self.questions) + 1}"
            self.questions.append(
                GenQuestion(qid, intent, text, route, expect, reject, context or Context())
            )

    # ------------------------------------------------------------------ registry intents

    def reasons(self) -> None:
        truth = self.truth
        for state, templates in (
            (
                "rejected",
                (
                    "Why was {m} rejected?",
                    "why did {m} get rejected",
                    "What was the reason {m} was turned down?",
                    "Give me the reason for rejecting {m}.",
                    "tell me why {m} was declined",
                ),
            ),
            (
                "revoked",
                (
                    "Why was {m} revoked?",
                    "why did we revoke {m}?",
                    "What's the reason the approval of {m} was withdrawn?",
                    "Explain why {m} was revoked.",
                    "{m} got revoked - why?",
                ),
            ),
        ):
            for repo in sorted(truth.models):
                hits = [a for a in truth.of_model(repo) if a.state == state]
                if len(hits) != 1:
                    continue
                a = hits[0]
                expect = (
                    (a.decided_by or "",),
                    (a.decision_reason or "",),
                    _day(a.decided_at.date() if a.decided_at else None),
                )
                self.add(
                    f"why_{state}",
                    templates,
                    expect=expect,
                    context=Context((repo,)),
                    m=self.name(repo),
                )
        for repo in sorted(truth.models):
            hits = [a for a in truth.of_model(repo) if a.state == "needs_review"]
            if not hits:
                continue
            event = next(e for e in hits[0].events if e.action == "needs_review")
            self.add(
                "why_review",
                (
                    "Why is {m} in review?",
                    "why was {m} put back in review",
                    "What put {m} under review?",
                    "explain why {m} needs review",
                    "why does {m} need to be reviewed again?",
                ),
                expect=(("gating",), (event.at.date().isoformat(),)),
                context=Context((repo,)),
                m=self.name(repo),
            )

    def history(self) -> None:
        for repo in sorted(self.truth.models):
            approvals = self.truth.of_model(repo)
            if not approvals:
                continue
            people = sorted(
                {e.actor for a in approvals for e in a.events if e.actor != catalog.SYSTEM_ACTOR}
            )
            states = {a.state for a in approvals}
            expect = tuple((p,) for p in people) + tuple(_STATE_WORDS[s] for s in sorted(states))
            self.add(
                "history",
                (
                    "What happened to {m}?",
                    "history of {m}",
                    "Tell me what happened with {m}.",
                    "what's the story of {m}?",
                    "Show me the history of {m}.",
                    "give me the timeline for {m}",
                ),
                expect=expect,
                context=Context((repo,)),
                m=self.name(repo),
            )

    def who(self) -> None:
        truth = self.truth
        forms = {
            "requested": (
                "Who requested {m}?",
                "who asked for {m}",
                "Which person requested {m}?",
                "who put in the request for {m}?",
            ),
            "approved": (
                "Who approved {m}?",
                "who signed off on {m}",
                "By whom was {m} approved?",
                "which approver okayed {m}?",
            ),
            "rejected": (
                "Who rejected {m}?",
                "who turned down {m}",
                "which approver rejected {m}?",
            ),
            "revoked": (
                "Who revoked {m}?",
                "who withdrew the approval of {m}",
                "which approver revoked {m}?",
                "who pulled the approval for {m}?",
            ),
        }
        for repo in sorted(truth.models):
            approvals = truth.of_model(repo)
            for action, templates in forms.items():
                wanted = APPROVALS if action == "approved" else {action}
                actors = sorted(
                    {e.actor for a in approvals for e in a.events if e.action in wanted}
                )
                if not actors:
                    continue
                if action == "requested" and self.rng.random() < 0.5:
                    continue
                self.add(
                    f"who_{action}",
                    templates,
                    expect=tuple((p,) for p in actors),
                    context=Context((repo,)),
                    m=self.name(repo),
                )

    def people(self) -> None:
        truth = self.truth
        for person in sorted(truth.people):
            asked = sorted({a.repo_id for a in truth.approvals if a.requester == person})
            if asked:
                self.add(
                    "person_requests",
                    (
                        "What did {p} request?",
                        "which models has {p} asked for",
                        "List {p}'s requests.",
                        "requests by {p}?",
                        "show me everything {p} requested",
                    ),
                    expect=tuple((r,) for r in asked),
                    p=person,
                )
            decided = sorted(
                {e.repo_id for e in truth.events() if e.actor == person and e.action in DECISIONS}
            )
            if decided:
                self.add(
                    "person_decisions",
                    (
                        "Which models did {p} decide on?",
                        "what has {p} approved, rejected or revoked?",
                        "Show the decisions made by {p}.",
                        "what did {p} decide",
                        "What decisions has {p} made?",
                    ),
                    expect=tuple((r,) for r in decided),
                    p=person,
                )

    def lists(self) -> None:
        truth = self.truth
        forms = {
            "revoked": (
                "List everything that was revoked.",
                "what was revoked?",
                "which models were revoked",
                "show revoked approvals",
                "anything revoked?",
            ),
            "rejected": (
                "What was rejected?",
                "list the rejected requests",
                "which requests were turned down?",
                "show me the rejections",
            ),
            "needs_review": (
                "What is in review?",
                "which approvals need review?",
                "show what's under review",
                "list approvals in reveiw",
                "what needs re-approval?",
            ),
            "requested": (
                "What is pending?",
                "which requests are waiting for a decision?",
                "list pending requests",
                "anything awaiting approval?",
                "what's still waiting for a decision?",
            ),
            "expired": (
                "Which approvals expired?",
                "what has expired?",
                "list expired approvals",
                "which approvals have lapsed?",
            ),
        }
        for state, templates in forms.items():
            repos = sorted({a.repo_id for a in truth.approvals if a.state == state})
            if not repos:
                continue
            self.add(f"list_{state}", templates, expect=tuple((r,) for r in repos), count=2)
        for use in ("research", "internal", "commercial"):
            repos = sorted({a.repo_id for a in truth.approvals if a.use == use and truth.usable(a)})
            self.add(
                "list_use",
                (
                    "What is approved for {u} use?",
                    "which models can we use for {u}?",
                    "List the models approved for {u} use.",
                    "show me the models cleared for {u} use",
                ),
                expect=tuple((r,) for r in repos) or (("no model",),),
                count=1,
                u=use,
            )

    def more(self) -> None:
        """Questions that combine two facts: when and by whom, a person and a use, a month."""
        truth = self.truth
        for repo in self.rng.sample(sorted(truth.models), min(6, len(truth.models))):
            approvals = [e for a in truth.of_model(repo) for e in a.events if e.action in APPROVALS]
            if not approvals:
                continue
            self.add(
                "when_approved",
                ("When was {m} approved, and by whom?", "when did {m} get approved?"),
                expect=tuple((e.actor,) for e in approvals)
                + tuple((e.at.date().isoformat(),) for e in approvals),
                context=Context((repo,)),
                m=self.name(repo),
            )
        for a in [a for a in truth.approvals if a.state == "revoked"][:3]:
            self.add(
                "why_revoked",
                ("why did {p} revoke {m}?",),
                expect=((a.decision_reason or "",),),
                context=Context((a.repo_id,)),
                p=a.decided_by or "",
                m=self.name(a.repo_id),
            )
        for a in [a for a in truth.approvals if a.state == "requested"][:3]:
            self.add(
                "may_use",
                ("is {m} still pending?", "is {m} still waiting for a decision?"),
                expect=(("request", "pending", "wait"),),
                context=Context((a.repo_id,), verdicts=frozenset({"yes", "not yet"})),
                m=self.name(a.repo_id),
            )
        approvals_by = sorted({(e.actor, e.use) for e in truth.events() if e.action in APPROVALS})
        for person, use in self.rng.sample(approvals_by, min(3, len(approvals_by))):
            repos = sorted(
                {
                    e.repo_id
                    for e in truth.events()
                    if e.action in APPROVALS and e.actor == person and e.use == use
                }
            )
            self.add(
                "person_decisions",
                ("did {p} approve anything for {u} use?", "what has {p} approved for {u} use?"),
                expect=tuple((r,) for r in repos),
                p=person,
                u=use,
            )
        months = sorted({e.at.strftime("%B %Y") for e in truth.events() if e.action == "revoked"})
        for month in self.rng.sample(months, min(2, len(months))):
            repos = sorted(
                {
                    e.repo_id
                    for e in truth.events()
                    if e.action == "revoked" and e.at.strftime("%B %Y") == month
                }
            )
            self.add(
                "list_by_date",
                ("What was revoked in {mo}?", "which approvals were revoked in {mo}?"),
                expect=tuple((r,) for r in repos),
                mo=month,
            )

    def dates(self) -> None:
        truth = self.truth
        expiring = sorted(
            {
                a.expires_on
                for a in truth.approvals
                if a.state in ("approved", "needs_review") and a.expires_on
            }
        )
        if expiring:
            cutoff = expiring[len(expiring) // 2]
            cutoff = date(cutoff.year, cutoff.month, 1) if cutoff.day > 1 else cutoff
            repos = sorted(
                {
                    a.repo_id
                    for a in truth.approvals
                    if a.state in ("approved", "needs_review")
                    and a.expires_on
                    and a.expires_on < cutoff
                }
            )
            later = sorted(
                {
                    a.repo_id
                    for a in truth.approvals
                    if a.state in ("approved", "needs_review")
                    and a.expires_on
                    and a.expires_on >= cutoff
                }
                - set(repos)
            )
            month = cutoff.strftime("%B %Y")
            self.add(
                "list_by_date",
                (
                    "What expires before {mo}?",
                    "which approvals expire before {iso}?",
                    "list approvals expiring before {mo}",
                    "anything expiring before {mo}?",
                ),
                expect=tuple((r,) for r in repos) or (("no ", "none", "nothing"),),
                reject=tuple(later),
                count=2,
                mo=month,
                iso=cutoff.isoformat(),
            )
        year = truth.now.year
        for use in ("commercial", "internal", "research"):
            in_year = {
                e.repo_id
                for e in truth.events()
                if e.action in APPROVALS and e.use == use and e.at.year == year
            }
            other = {
                e.repo_id for e in truth.events() if e.action in APPROVALS and e.use == use
            } - in_year
            self.add(
                "list_by_date",
                (
                    "What did we approve for {u} use this year?",
                    "which models were approved for {u} use in {y}?",
                ),
                expect=tuple((r,) for r in sorted(in_year)) or (("no ", "none", "nothing"),),
                reject=tuple(sorted(other)),
                u=use,
                y=str(year),
            )

    def conditions(self) -> None:
        truth = self.truth
        for repo in sorted(truth.models):
            standing = [a for a in truth.of_model(repo) if a.state in ("approved", "needs_review")]
            if not standing or not any(a.conditions or a.expires_on for a in standing):
                continue
            expect: list[tuple[str, ...]] = []
            for a in standing:
                if a.conditions:
                    expect.append((a.conditions,))
                if a.expires_on:
                    expect.append((a.expires_on.isoformat(),))
            self.add(
                "conditions_expiry",
                (
                    "What are the conditions on {m}?",
                    "under what conditions is {m} approved and when does it expire?",
                    "When does the approval of {m} expire, and with which conditions?",
                    "conditions and expiry of {m}",
                    "what strings are attached to the approval of {m}?",
                ),
                expect=tuple(expect),
                context=Context((repo,)),
                m=self.name(repo),
            )

    def may_use(self) -> None:
        truth = self.truth
        for repo in sorted(truth.models):
            for use in self.rng.sample(
                ("research", "internal", "commercial"), 2 if truth.of_model(repo) else 1
            ):
                approvals = [a for a in truth.of_model(repo) if a.use == use]
                chosen = truth.standing(repo, use) or (approvals[-1] if approvals else None)
                expect: Expect = ()
                if chosen is None:
                    verdicts = frozenset({"no"})
                elif truth.usable(chosen):
                    verdicts = frozenset({"yes"})
                elif chosen.state == "requested":
                    verdicts = frozenset({"no", "not yet"})
                elif chosen.state == "needs_review":
                    verdicts = frozenset({"no", "not now"})
                    expect = (("review",),)
                else:
                    verdicts = frozenset({"no", "no longer"})
                    expect = (
                        ((chosen.decision_reason,),) if chosen.decision_reason else (("expired",),)
                    )
                self.add(
                    "may_use",
                    (
                        "May we use {m} for {u} use?",
                        "can {m} be used for {u}? if not, why not",
                        "Is {m} ok for {u} use?",
                        "are we allowed to use {m} for {u} work?",
                        "can I use {m} in a {u} project?",
                    ),
                    expect=expect,
                    context=Context((repo,), verdicts=verdicts),
                    m=self.name(repo),
                    u=use,
                )

    # ------------------------------------------------------------------ license intents

    def licenses(self) -> None:
        truth = self.truth
        for repo in self.rng.sample(sorted(truth.models), min(12, len(truth.models))):
            terms = self.kb.find(truth.models[repo].license)
            assert terms is not None
            self.add(
                "license",
                (
                    "What is {m}'s license and what does it require?",
                    "which license does {m} have?",
                    "What license is {m} under?",
                    "{m} license terms?",
                    "what are the license obligations for {m}?",
                ),
                expect=((terms.name, terms.id),),
                context=Context((repo,)),
                m=self.name(repo),
            )
            self.add(
                "openness",
                (
                    "How open is {m}?",
                    "what's the openness of {m}: OSAID, MOF?",
                    "Is {m} open source AI according to OSI?",
                    "where does {m} sit on the openness spectrum",
                    "how open is {m} really?",
                ),
                expect=(
                    (repo, repo.split("/", 1)[1]),
                    ("MOF", "Model Openness Framework"),
                    ("OSI", "Open Source AI Definition", "OSAID"),
                ),
                context=Context((repo,)),
                m=self.name(repo),
            )

    def permissions(self) -> None:
        for license_id, spoken in LICENSE_NAMES:
            terms = self.kb.get(license_id)
            name = self.rng.choice(spoken)
            if terms.output_restriction is not None:
                self.add(
                    "license_permission",
                    (
                        "May outputs of a model under {l} be used to improve another LLM?",
                        "can I use outputs of a model licensed under {l} to train another model?",
                        "Does {l} let me use the model's outputs to improve other models?",
                    ),
                    expect=(),
                    context=Context(
                        licenses=(license_id,),
                        verdicts=frozenset({"no"} if terms.output_restriction else {"yes"}),
                    ),
                    l=name,
                )
            if terms.commercial_use != "unknown":
                verdict = {"yes": {"yes"}, "no": {"no"}, "conditional": {"yes"}}[
                    terms.commercial_use
                ]
                self.add(
                    "license_permission",
                    (
                        "Can I use a model under {l} commercially?",
                        "does {l} allow commercial use?",
                        "Is commercial use permitted under {l}?",
                    ),
                    context=Context(licenses=(license_id,), verdicts=frozenset(verdict)),
                    l=name,
                )

    def issue_examples(self) -> None:
        """Questions quoted in issue 9 that do not depend on the registry."""
        self.add(
            "license_permission",
            ("May outputs of a Llama 2 model be used to improve another LLM?",),
            context=Context(licenses=("llama2",), verdicts=frozenset({"no"})),
        )
        self.add(
            "concept_open_weights",
            ("Explain the difference between open weights and open source.",),
            expect=(("weights",), ("source",)),
        )

    def compare(self) -> None:
        ids = [i for i, _ in LICENSE_NAMES]
        for _ in range(6):
            first, second = self.rng.sample(ids, 2)
            a, b = self.kb.get(first), self.kb.get(second)
            self.add(
                "license_compare",
                (
                    "Compare {a} and {b} on commercial use.",
                    "how do {a} and {b} differ on user thresholds, attribution and field-of-use "
                    "restrictions?",
                    "{a} vs {b}: commercial use and restrictions?",
                    "What is the difference between {a} and {b}?",
                ),
                expect=((a.name, a.id), (b.name, b.id)),
                context=Context(licenses=(first, second)),
                a=self.rng.choice(dict(LICENSE_NAMES)[first]),
                b=self.rng.choice(dict(LICENSE_NAMES)[second]),
            )

    def concepts(self) -> None:
        for concept, phrasings, expect in CONCEPTS:
            self.add(f"concept_{concept}", phrasings, expect=expect, count=3)

    def declines(self) -> None:
        for text in OUT_OF_SCOPE:
            self.add("out_of_scope", (text,), route="decline")

    # ------------------------------------------------------------------ free-form (model)

    def free_form(self) -> None:
        truth = self.truth
        paraphrase = dict(catalog.REQUEST_REASONS)
        seen: set[str] = set()
        for a in truth.approvals:
            if a.reason in seen:
                continue
            seen.add(a.reason)
            templates = (
                "Which model did someone want for {r}?",
                "is there a request about {r}?",
                "who wanted a model for {r}, and which one?",
            )
            template = self.rng.choice(templates)
            self.add(
                "free_reason",
                (template,),
                route="model",
                expect=(
                    tuple(
                        name
                        for b in truth.approvals
                        if b.reason == a.reason
                        for name in (b.repo_id, b.repo_id.split("/", 1)[1])
                    ),
                ),
                # "is there a request about ...": there is, so a leading "No" is false.
                context=Context(verdicts=frozenset({"yes"}) if "is there" in template else None),
                r=paraphrase[a.reason],
            )
        licenses = sorted({m.license for m in truth.models.values()})
        for license_id in licenses:
            terms = self.kb.get(license_id)
            self._clauses(terms)

    def _clauses(self, terms: LicenseTerms) -> None:
        name = terms.name
        if terms.governing_law:
            self.add(
                "free_clause",
                (
                    "Under which jurisdiction's law is the {l} governed?",
                    "which courts or laws apply to the {l}?",
                ),
                route="model",
                expect=((terms.governing_law.split(",")[0].split(" (")[0],),),
                context=Context(licenses=(terms.id,)),
                l=name,
            )
        if terms.notice:
            self.add(
                "free_clause",
                (
                    "What do I have to ship along with copies under the {l}?",
                    "what file or text must go with redistributed copies under the {l}?",
                ),
                route="model",
                expect=(("notice", "license", "copy"),),
                context=Context(licenses=(terms.id,)),
                l=name,
            )
        if terms.use_policy_url:
            self.add(
                "free_clause",
                ("Where can I read the use policy that the {l} points to?",),
                route="model",
                expect=((terms.use_policy_url,),),
                context=Context(licenses=(terms.id,)),
                l=name,
            )
        if terms.attribution:
            self.add(
                "free_clause",
                ("What must a product built on a model under the {l} display?",),
                route="model",
                expect=((terms.attribution[0],),),
                context=Context(licenses=(terms.id,)),
                l=name,
            )


def generate_questions(truth: Truth) -> list[GenQuestion]:
    """The generated question set for ``truth`` (deterministic for its seed)."""
    builder = _Builder(truth, truth.seed)
    builder.reasons()
    builder.history()
    builder.who()
    builder.people()
    builder.lists()
    builder.dates()
    builder.more()
    builder.conditions()
    builder.may_use()
    builder.licenses()
    builder.permissions()
    builder.issue_examples()
    builder.compare()
    builder.concepts()
    builder.declines()
    builder.free_form()
    return builder.questions
