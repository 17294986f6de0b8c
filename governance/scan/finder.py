"""Finding Hugging Face model ids used in a code tree, with file and line. Reads files only.

Only ids in places that load models count: calls such as ``from_pretrained("org/name")`` (Python
parsed with ``ast``, so comments and docstrings do not count and simple constants resolve),
model-ish keys in YAML/TOML/JSON/INI/.env configs, bare ids in requirements-like files,
``huggingface-cli download`` in scripts, and huggingface.co model URLs. Strings that are local
paths (``./x``, ``data/train``, a file extension, a path that exists) or URLs of other hosts are
not ids.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from governance.core.errors import InvalidInput
from governance.registry.validation import validate_repo_id

SKIP_DIRS = {".git", ".hg", ".venv", "venv", "env", "node_modules", "__pycache__", ".tox"}
SKIP_DIRS |= {".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages", "dist", "build"}
MAX_FILE_BYTES = 1_000_000
CONFIG_SUFFIXES = {".yaml", ".yml", ".toml", ".json", ".cfg", ".ini", ".env"}
SCRIPT_SUFFIXES = {".sh", ".bash", ".zsh"}
SCRIPT_NAMES = {"dockerfile", "makefile", "containerfile", "procfile", "justfile"}
SCRIPT_NAMES |= {"modelfile"}  # Ollama: ``FROM hf.co/<repo>:<quant>``
# Calls whose first positional argument is a repo id, and keywords that carry one.
FIRST_ARG_CALLS = {
    "from_pretrained",
    "hf_hub_download",
    "snapshot_download",
    "hf_hub_url",
    "SentenceTransformer",
    "CrossEncoder",
    "InferenceClient",
    "from_model_id",
    "model_info",
}
KEYWORD_CALLS = FIRST_ARG_CALLS | {"pipeline", "LLM", "HuggingFaceEmbeddings", "AutoTokenizer"}
ID_KEYWORDS = {
    "repo_id",
    "model",
    "model_id",
    "model_name",
    "model_name_or_path",
    "pretrained_model_name_or_path",
    "tokenizer",
}
LOCAL_DIRS = {"data", "datasets", "checkpoints", "checkpoint", "ckpt", "outputs", "output"}
LOCAL_DIRS |= {"out", "runs", "tmp", "temp", "src", "configs", "config", "logs", "cache", "local"}
LOCAL_DIRS |= {"models", "weights", "home", "mnt", "workspace", "usr", "var", "opt", "etc"}
FILE_EXTENSIONS: tuple[str, ...]
FILE_EXTENSIONS = (".json", ".yaml", ".yml", ".txt", ".csv", ".tsv", ".bin", ".pt", ".pth")
FILE_EXTENSIONS += (".safetensors", ".gguf", ".ckpt", ".onnx", ".py", ".md", ".h5", ".pkl")
FILE_EXTENSIONS += (".npz", ".npy", ".tar", ".gz", ".zip", ".parquet", ".jsonl", ".toml")
HUB_PAGES = {"datasets", "spaces", "docs", "blog", "api", "papers", "learn", "settings"}
HUB_PAGES |= {"join", "login", "pricing", "tasks", "collections", "organizations", "models"}

_ID = r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*"
_QUANT = r"[A-Za-z0-9][A-Za-z0-9._-]*"
# ``hf.co/<repo>:<quant>`` is how Ollama and llama.cpp name one GGUF file of a Hub repo.
_HUB_URL = re.compile(
    rf"(?<![\w.])(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/({_ID})(?::({_QUANT}))?"
)
# llama.cpp's ``-hf <repo>[:<quant>]`` / ``--hf-repo`` / ``-hfr``.
_LLAMA_CPP = re.compile(
    rf"""(?:^|\s)(?:-hf|-hfr|--hf-repo)[\s=]+["']?(?P<value>{_ID}(?::{_QUANT})?)"""
)
_CONFIG_LINE = re.compile(
    r"""^\s*["']?(?P<key>[A-Za-z0-9_.-]*(?:model|repo_id|tokenizer|checkpoint)[A-Za-z0-9_.-]*)"""
    r"""["']?\s*[:=]\s*["']?(?P<value>""" + _ID + r""")["']?\s*,?\s*(?:#.*)?$""",
    re.IGNORECASE,
)
_QUOTED_PAIR = re.compile(
    r"""["'](?P<key>[A-Za-z0-9_.-]*(?:model|repo_id|tokenizer|checkpoint)[A-Za-z0-9_.-]*)["']"""
    r"""\s*:\s*["'](?P<value>""" + _ID + r""")["']""",
    re.IGNORECASE,
)
_YAML_KEY = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z0-9_.-]+)\s*:\s*(?:#.*)?$")
_YAML_ITEM = re.compile(r"""^(?P<indent>\s*)-\s*["']?(?P<value>""" + _ID + r""")["']?\s*$""")
_REQUIREMENT = re.compile(r"^(?P<value>" + _ID + r")(?:@[\w.-]+)?$")
_CLI_DOWNLOAD = re.compile(
    r"(?:huggingface-cli|\bhf)\s+download\s+(?:--\S+\s+)*[\"']?(?P<value>" + _ID + ")"
)


@dataclass(frozen=True)
class ModelRef:
    """One place a model id is used: the id as written, the file (relative), line, and how;
    ``quant`` is the GGUF quantization an Ollama / llama.cpp reference names (``Q4_K_M``)."""

    repo_id: str
    path: str
    line: int
    how: str
    quant: str | None = None


def _is_requirements(path: Path) -> bool:
    name = path.name.lower()
    return (name.endswith(".txt") and "requirements" in name) or name in {"models.txt", "models"}


def clean_id(value: str, *, base: Path, root: Path) -> str | None:
    """``value`` as a Hub model id, or None when it is a local path or not an id."""
    value = value.strip().strip("\"'")
    if value.startswith(("./", "../", "/", "~", ".")) or value.lower().endswith(FILE_EXTENSIONS):
        return None
    if value.split("/", 1)[0].lower() in LOCAL_DIRS:
        return None
    try:
        validate_repo_id(value)
    except InvalidInput:
        return None
    if (base / value).exists() or (root / value).exists():
        return None
    return value


# ---------------------------------------------------------------------------- python


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _constants(tree: ast.AST) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = node.value.value
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            found[node.target.id] = node.value.value
    return found


def _string(node: ast.AST | None, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


# One file kind's reader: the text in, (line, candidate id, how it is used) out.
Reader = Callable[[str], Iterator[tuple[int, str, str]]]


def _python(text: str) -> Iterator[tuple[int, str, str]]:
    """(line, value, how) for each model id argument of a known call."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return
    constants = _constants(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name not in KEYWORD_CALLS:
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        repo_type = _string(keywords.get("repo_type"), constants)
        if repo_type not in (None, "model"):
            continue
        candidates: list[ast.AST] = [keywords[k] for k in ID_KEYWORDS if k in keywords]
        if name in FIRST_ARG_CALLS and node.args:
            candidates.insert(0, node.args[0])
        if name == "pipeline" and len(node.args) > 1:
            candidates.insert(0, node.args[1])
        for candidate in candidates:
            value = _string(candidate, constants)
            if value is not None:
                yield getattr(candidate, "lineno", node.lineno), value, f"{name}()"
    docstrings = {
        id(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for value in _hub_urls(node.value) if id(node) not in docstrings else ():
                yield node.lineno, value, "huggingface.co URL"


# ---------------------------------------------------------------------------- text files


def _hub_urls(line: str) -> Iterator[str]:
    """Model ids in huggingface.co / hf.co links (not datasets, spaces or site pages), with
    ``:<quant>`` when the link is an Ollama / llama.cpp GGUF reference."""
    for match in _HUB_URL.finditer(line):
        if match.group(1).split("/", 1)[0].lower() not in HUB_PAGES:
            yield match.group(1) + (f":{match.group(2)}" if match.group(2) else "")


def _config(text: str) -> Iterator[tuple[int, str, str]]:
    parent: tuple[int, str] | None = None  # (indent, key) of a YAML key holding a list
    for lineno, line in enumerate(text.splitlines(), 1):
        match = _CONFIG_LINE.match(line)
        pairs = [match] if match else list(_QUOTED_PAIR.finditer(line))
        for pair in pairs:
            yield lineno, pair.group("value"), f"config key {pair.group('key')}"
        key = _YAML_KEY.match(line)
        if key:
            parent = (len(key.group("indent")), key.group("key"))
        item = _YAML_ITEM.match(line)
        if (
            item is not None
            and parent is not None
            and len(item.group("indent")) >= parent[0]
            and re.search(r"model|checkpoint", parent[1], re.IGNORECASE)
        ):
            yield lineno, item.group("value"), f"config list {parent[1]}"
        for url in _hub_urls(line):
            yield lineno, url, "huggingface.co URL"


def _requirements(text: str) -> Iterator[tuple[int, str, str]]:
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.split("#", 1)[0].strip()
        match = _REQUIREMENT.match(stripped)
        if match:
            yield lineno, match.group("value"), "model list"
        for url in _hub_urls(line):
            yield lineno, url, "huggingface.co URL"


def _script(text: str) -> Iterator[tuple[int, str, str]]:
    for lineno, line in enumerate(text.splitlines(), 1):
        for match in _CLI_DOWNLOAD.finditer(line):
            yield lineno, match.group("value"), "hub download command"
        for match in _LLAMA_CPP.finditer(line):
            yield lineno, match.group("value"), "llama.cpp -hf"
        for url in _hub_urls(line):
            yield lineno, url, "huggingface.co URL"


def _reader(path: Path) -> Reader | None:
    suffix, name = path.suffix.lower(), path.name.lower()
    if suffix == ".py":
        return _python
    if _is_requirements(path):
        return _requirements
    if suffix in CONFIG_SUFFIXES or name == ".env" or name.startswith(".env."):
        return _config
    if suffix in SCRIPT_SUFFIXES or name in SCRIPT_NAMES:
        return _script
    return None


def iter_files(root: Path) -> Iterator[tuple[Path, Reader]]:
    """Files under ``root`` worth reading and their readers, in a stable order (skipping
    vendored trees). Raises InvalidInput when ``root`` is a file of a kind scan does not read.
    """
    if root.is_file():
        reader = _reader(root)
        if reader is None:
            raise InvalidInput(
                f"{root.name[:200]!r} is not a file scan reads (Python, requirements, config or "
                "shell); give a directory or one of those."
            )
        yield root, reader
        return
    for path in sorted(root.rglob("*")):
        if any(part in SKIP_DIRS for part in path.relative_to(root).parts[:-1]):
            continue
        reader = _reader(path)
        if reader is not None and path.is_file():
            yield path, reader


def find_model_refs(root: Path) -> tuple[list[ModelRef], int]:
    """Every model id used under ``root`` and the number of files read.

    Raises InvalidInput when ``root`` does not exist or is a file of a kind scan does not read.
    """
    if not root.exists():
        raise InvalidInput(f"{str(root)[:200]!r} does not exist; give a directory or a file.")
    base_root = root if root.is_dir() else root.parent
    refs: list[ModelRef] = []
    count = 0
    for path, reader in iter_files(root):
        if path.stat().st_size > MAX_FILE_BYTES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        count += 1
        relative = path.relative_to(base_root).as_posix()
        seen: set[tuple[int, str]] = set()
        for line, value, how in reader(text):
            name, _, quant = value.partition(":")
            repo_id = clean_id(name, base=path.parent, root=base_root)
            if repo_id is not None and (line, repo_id) not in seen:
                seen.add((line, repo_id))
                if quant:
                    how = f"{how} (GGUF {quant})"
                refs.append(ModelRef(repo_id, relative, line, how, quant or None))
    return refs, count
