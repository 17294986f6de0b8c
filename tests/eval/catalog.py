"""What the generated evaluation draws from: people, real Hub models with their licenses, and
the texts of reasons and conditions.

None of these names or texts occur in ``tests/eval/seed.py``: the generated registry is a
different team from the fixed one. Person names that are also English words ("may", "will",
"mark", "june") or model words ("gemma", "falcon") are left out, so a name in an answer is
always a person.
"""

from __future__ import annotations

from dataclasses import dataclass

# Lowercase first names (Slack-style handles). Excludes seed.py's people and the worked example's.
PEOPLE: tuple[str, ...] = tuple(
    [
        "aaron",
        "abigail",
        "adrian",
        "agnes",
        "aiden",
        "akira",
        "alba",
        "alec",
        "alina",
        "amara",
        "amir",
        "anika",
        "anton",
        "arjun",
        "arlo",
        "astrid",
        "aurora",
        "ayla",
        "bastian",
        "beatrix",
        "benedikt",
        "bianca",
        "boris",
        "bruno",
        "caius",
        "camila",
        "carmen",
        "cedric",
        "chiara",
        "cyrus",
        "dalia",
        "damien",
        "daria",
        "dmitri",
        "elena",
        "elias",
        "elif",
        "emeka",
        "enzo",
        "esme",
        "ezra",
        "fabian",
        "farah",
        "felix",
        "fiona",
        "flora",
        "gideon",
        "gina",
        "giulia",
        "gustav",
        "hana",
        "hassan",
        "helga",
        "henrik",
        "hiro",
        "idris",
        "ines",
        "ingrid",
        "isla",
        "ivan",
        "jasper",
        "jonas",
        "juno",
        "kaito",
        "kamila",
        "karim",
        "keanu",
        "kenji",
        "lars",
        "leona",
        "levi",
        "linnea",
        "lorenzo",
        "luca",
        "maeve",
        "magnus",
        "malik",
        "marek",
        "marta",
        "mateo",
        "milan",
        "mira",
        "nadia",
        "naveen",
        "nico",
        "nina",
        "noor",
        "oda",
        "omar",
        "oskar",
        "paloma",
        "pavel",
        "petra",
        "priya",
        "quentin",
        "rafael",
        "ravi",
        "renata",
        "rohan",
        "rosalind",
        "ruben",
        "sabine",
        "sami",
        "selma",
        "soren",
        "stellan",
        "talia",
        "tamar",
        "theo",
        "tobias",
        "ulla",
        "uma",
        "valentin",
        "vera",
        "viggo",
        "wanda",
        "xavier",
        "yara",
        "yusuf",
        "zainab",
        "zofia",
    ]
)

# Names that must never be taken for a generated person but are people in other fixtures or in
# the assistant's worked example: an answer naming them is about somebody outside this registry.
OTHER_PEOPLE: frozenset[str] = frozenset(
    ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "dana", "ceo", "admin"]
)

SYSTEM_ACTOR = "modelgov"


@dataclass(frozen=True)
class CatalogModel:
    """A real Hub repository, the license id its card declares, and loose names people use."""

    repo_id: str
    license: str  # a knowledge-base id
    loose: tuple[str, ...] = ()


MODELS: tuple[CatalogModel, ...] = (
    CatalogModel("meta-llama/Llama-2-7b-chat-hf", "llama2", ("llama 2 7b chat", "llama2 7b chat")),
    CatalogModel("meta-llama/Llama-2-13b-hf", "llama2", ("llama 2 13b",)),
    CatalogModel("meta-llama/Meta-Llama-3-8B-Instruct", "llama3", ("llama 3 8b instruct",)),
    CatalogModel("meta-llama/Meta-Llama-3-70B", "llama3", ("llama 3 70b",)),
    CatalogModel("meta-llama/Llama-3.1-8B", "llama3.1", ()),
    CatalogModel("meta-llama/Llama-3.1-405B-Instruct", "llama3.1", ("llama 3.1 405b",)),
    CatalogModel("meta-llama/Llama-3.2-1B-Instruct", "llama3.2", ("llama 3.2 1b",)),
    CatalogModel("meta-llama/Llama-3.2-11B-Vision-Instruct", "llama3.2", ("llama 3.2 vision",)),
    CatalogModel("meta-llama/Llama-3.3-70B-Instruct", "llama3.3", ("llama 3.3 70b", "llama 3.3")),
    CatalogModel(
        "meta-llama/Llama-4-Scout-17B-16E-Instruct", "llama4", ("llama 4 scout", "llama4 scout")
    ),
    CatalogModel("google/gemma-2-2b-it", "gemma", ("gemma 2 2b",)),
    CatalogModel("google/gemma-2-27b", "gemma", ("gemma 2 27b",)),
    CatalogModel("google/gemma-3-27b-it", "gemma", ("gemma 3 27b", "gemma 3")),
    CatalogModel("google/gemma-7b", "gemma", ("gemma 7b",)),
    CatalogModel("deepseek-ai/DeepSeek-R1", "mit", ("deepseek r1", "deepseek-r1")),
    CatalogModel("deepseek-ai/DeepSeek-V3", "deepseek", ("deepseek v3",)),
    CatalogModel("deepseek-ai/deepseek-llm-7b-base", "deepseek", ("deepseek llm 7b",)),
    CatalogModel("deepseek-ai/deepseek-coder-6.7b-instruct", "deepseek", ("deepseek coder",)),
    CatalogModel(
        "stabilityai/stable-diffusion-xl-base-1.0", "openrail++", ("stable diffusion xl", "sdxl")
    ),
    CatalogModel("stabilityai/stable-diffusion-2-1", "openrail++", ("stable diffusion 2.1",)),
    CatalogModel(
        "stable-diffusion-v1-5/stable-diffusion-v1-5",
        "creativeml-openrail-m",
        ("stable diffusion 1.5", "sd 1.5"),
    ),
    CatalogModel("mistralai/Mistral-7B-Instruct-v0.2", "apache-2.0", ("mistral 7b instruct v0.2",)),
    CatalogModel("mistralai/Mixtral-8x7B-Instruct-v0.1", "apache-2.0", ("mixtral 8x7b", "mixtral")),
    CatalogModel("mistralai/Mistral-Large-Instruct-2407", "mrl", ("mistral large",)),
    CatalogModel("mistralai/Codestral-22B-v0.1", "mnpl", ("codestral",)),
    CatalogModel("mistralai/Mistral-Nemo-Instruct-2407", "apache-2.0", ("mistral nemo",)),
    CatalogModel("Qwen/Qwen2.5-72B-Instruct", "qwen", ("qwen2.5 72b", "qwen 2.5 72b")),
    CatalogModel("Qwen/Qwen2.5-3B-Instruct", "qwen-research", ("qwen2.5 3b", "qwen 2.5 3b")),
    CatalogModel("Qwen/Qwen2.5-Coder-32B-Instruct", "apache-2.0", ("qwen coder 32b",)),
    CatalogModel("Qwen/Qwen-7B", "tongyi-qianwen", ("qwen 7b",)),
    CatalogModel("Qwen/QwQ-32B", "apache-2.0", ("qwq 32b", "qwq")),
    CatalogModel("microsoft/phi-4", "mit", ("phi 4", "phi-4")),
    CatalogModel("microsoft/Phi-3-mini-4k-instruct", "mit", ("phi 3 mini", "phi-3 mini")),
    CatalogModel("microsoft/phi-1_5", "mit", ("phi 1.5",)),
    CatalogModel("tiiuae/falcon-40b", "apache-2.0", ("falcon 40b",)),
    CatalogModel("tiiuae/falcon-180B", "falcon-180b-license", ("falcon 180b",)),
    CatalogModel("bigscience/bloom", "bigscience-bloom-rail-1.0", ("bloom",)),
    CatalogModel("bigcode/starcoder2-15b", "bigcode-openrail-m", ("starcoder2", "starcoder 2")),
    CatalogModel("CohereForAI/c4ai-command-r-v01", "cc-by-nc-4.0", ("command r",)),
    CatalogModel("allenai/OLMo-2-1124-7B", "apache-2.0", ("olmo 2 7b", "olmo 2")),
    CatalogModel("EleutherAI/pythia-6.9b", "apache-2.0", ("pythia 6.9b",)),
    CatalogModel("openai/gpt-oss-20b", "apache-2.0", ("gpt oss 20b", "gpt-oss 20b")),
    CatalogModel("HuggingFaceTB/SmolLM2-1.7B-Instruct", "apache-2.0", ("smollm2 1.7b",)),
    CatalogModel("ibm-granite/granite-3.1-8b-instruct", "apache-2.0", ("granite 3.1 8b",)),
    CatalogModel("apple/OpenELM-3B-Instruct", "apple-amlr", ("openelm 3b", "openelm")),
    CatalogModel("DeepFloyd/IF-I-XL-v1.0", "deepfloyd-if-license", ("deepfloyd if",)),
    CatalogModel("nvidia/Llama-3.1-Nemotron-70B-Instruct-HF", "llama3.1", ("nemotron 70b",)),
)

# Why someone asks for a model: each with a paraphrase a person would use to look for it.
REQUEST_REASONS: tuple[tuple[str, str], ...] = (
    ("summarise supplier invoices", "condensing invoices from suppliers"),
    ("draft replies for the helpdesk queue", "writing first drafts for helpdesk tickets"),
    ("classify warehouse incident reports", "sorting incident reports from the warehouse"),
    ("generate product photos for the catalogue", "making pictures of products for the catalogue"),
    ("code completion in the monorepo", "autocompleting code in our monorepo"),
    ("extract fields from scanned contracts", "pulling fields out of scanned contracts"),
    ("translate onboarding guides into Finnish", "Finnish versions of the onboarding guides"),
    ("benchmark reasoning on maths olympiad problems", "testing reasoning on olympiad maths"),
    ("search the engineering wiki", "searching our engineering wiki"),
    ("moderate forum posts", "moderating posts on the forum"),
    ("write alt text for the image archive", "describing archive images for screen readers"),
    ("tag podcast transcripts by topic", "labelling podcast transcripts with topics"),
    ("answer questions about the HR handbook", "questions people ask about the HR handbook"),
    ("prototype a voice assistant for drivers", "a voice helper for people who drive"),
    ("detect fraud in expense claims", "spotting fraudulent expense claims"),
    ("generate unit tests for legacy services", "writing tests for old services"),
    ("cluster customer feedback", "grouping feedback from customers"),
    ("summarise clinical trial papers", "condensing papers about clinical trials"),
)

# Why an approver rejected a request.
REJECT_REASONS: tuple[str, ...] = (
    "License forbids our intended distribution",
    "Security review found unpinned remote code",
    "Evaluation scores were below the agreed bar",
    "A smaller approved model already covers this",
    "Legal has not cleared the use policy",
    "The weights are gated behind a research agreement",
    "Hallucination rate too high in the pilot",
    "No owner named for the deployment",
)

# Why an approver withdrew an approval.
REVOKE_REASONS: tuple[str, ...] = (
    "Replaced by a newer release",
    "Project cancelled in the spring planning",
    "Vendor terms now exclude our market",
    "Red team found prompt leakage",
    "Budget for GPU hosting withdrawn",
    "Model card now names a different license",
    "Data protection officer raised concerns",
)

# Conditions an approver attached to an approval.
CONDITIONS: tuple[str, ...] = (
    "Only on the internal GPU cluster",
    "Outputs reviewed by a human before release",
    "No personal data in prompts",
    "Keep the acceptable use policy in the repo",
    "Log every prompt for ninety days",
    "Pilot limited to the Lisbon office",
    "Disclose AI generation to end users",
    "Rate limited to ten requests per second",
)
