"""``modelgov scan``: model ids found in a sample code tree, classified against the registry."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from governance.core.db import transaction
from governance.core.errors import InvalidInput
from governance.flows import decide_with_policy
from governance.registry.decisions import find_approval, mark_needs_review, reject
from governance.registry.models import IntendedUse
from governance.registry.requests import request_approval
from governance.scan.finder import find_model_refs
from governance.scan.service import scan_tree
from governance.wiring.services import Services

TRAIN_PY = '''"""Fine-tunes meta-llama/Llama-2-7b (see https://huggingface.co/google/gemma-2b)."""
from huggingface_hub import hf_hub_download, snapshot_download
from llama_cpp import Llama
from transformers import AutoModel, AutoTokenizer, pipeline

BASE = "acme/approved-7b"
# AutoModel.from_pretrained("commented/out")
model = AutoModel.from_pretrained(BASE)
tokenizer = AutoTokenizer.from_pretrained(
    "acme/approved-7b", revision="main"
)
local = AutoModel.from_pretrained("models/my-finetune")
relative = AutoModel.from_pretrained("./checkpoints/step-100")
exists = AutoModel.from_pretrained("finetunes/v2")
classifier = pipeline("text-classification", model="acme/conditional-base")
config = hf_hub_download(repo_id="acme/pending-1b", filename="config.json")
data = hf_hub_download(repo_id="acme/corpus", filename="x.parquet", repo_type="dataset")
everything = snapshot_download("acme/review-3b")
gguf = Llama.from_pretrained(repo_id="acme/rejected-GGUF", filename="*Q4_K_M.gguf")
source = "https://github.com/other/host"
weights = "https://huggingface.co/acme/expired-1b/resolve/main/model.bin"
space = "https://huggingface.co/spaces/acme/demo"
chat = completion(model="openai/gpt-4o")
'''
TRAIN_YAML = """model_name_or_path: acme/untracked-2b
output_dir: outputs/run-1
dataset_name: acme/corpus
teacher_models:
  - acme/approved-7b
data_files:
  - data/train.jsonl
homepage: https://gitlab.com/acme/tools
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "finetunes" / "v2").mkdir(parents=True)
    (root / "configs").mkdir()
    (root / ".venv" / "lib").mkdir(parents=True)
    (root / "src" / "train.py").write_text(TRAIN_PY)
    (root / "configs" / "train.yaml").write_text(TRAIN_YAML)
    (root / "configs" / "serve.toml").write_text('[llm]\nmodel_id = "acme/approved-7b"\n')
    (root / "configs" / "embed.json").write_text(
        '{"embedding_model": "acme/conditional-base", "vocab": "tok/vocab.json"}'
    )
    (root / "model-requirements.txt").write_text("torch>=2.4\nacme/pending-1b@main\n# x/y\n")
    (root / "Dockerfile").write_text("RUN huggingface-cli download acme/review-3b model.gguf\n")
    (root / "README.md").write_text("We use acme/untracked-2b and from_pretrained('a/b').\n")
    (root / ".venv" / "lib" / "vendored.py").write_text('from_pretrained("vendored/model")\n')
    return root


def test_finder_reports_uses_with_file_and_line(tree: Path) -> None:
    refs, files = find_model_refs(tree)
    found = {(r.repo_id, r.path, r.line) for r in refs}
    assert files == 6  # README.md and the vendored .venv are not read
    assert found == {
        ("acme/approved-7b", "src/train.py", 8),
        ("acme/approved-7b", "src/train.py", 10),
        ("acme/conditional-base", "src/train.py", 15),
        ("acme/pending-1b", "src/train.py", 16),
        ("acme/review-3b", "src/train.py", 18),
        ("acme/rejected-GGUF", "src/train.py", 19),
        ("acme/expired-1b", "src/train.py", 21),
        ("acme/untracked-2b", "configs/train.yaml", 1),
        ("acme/approved-7b", "configs/train.yaml", 5),
        ("acme/approved-7b", "configs/serve.toml", 2),
        ("acme/conditional-base", "configs/embed.json", 1),
        ("acme/pending-1b", "model-requirements.txt", 2),
        ("acme/review-3b", "Dockerfile", 1),
    }


def _registry(services: Services) -> None:
    s = services
    with transaction(s.session_factory) as session:

        def request(repo: str, use: IntendedUse = IntendedUse.INTERNAL) -> str:
            approval = request_approval(
                session, repo_id=repo, use=use, reason="", requester="carol", clock=s.clock
            )
            return str(approval.id)

        def approve(ref: str, **kw: object) -> None:
            decide_with_policy.approve(
                session, ref=ref, actor="bob", approvers=s.approvers, clock=s.clock, **kw
            )  # type: ignore[arg-type]

        approve(request("acme/approved-7b"))
        approve(request("acme/conditional-base"), conditions="no customer data")
        request("acme/pending-1b")
        review = request("acme/review-3b")
        approve(review)
        approval = find_approval(session, review, states=(), verb="review")
        mark_needs_review(session, approval=approval, reason="terms", clock=s.clock)
        rejected = request("acme/rejected-GGUF")
        reject(
            session, ref=rejected, actor="bob", approvers=s.approvers, reason="no", clock=s.clock
        )
        approve(request("acme/expired-1b"), expires_on=date(2026, 12, 1))


def test_scan_classifies_against_the_registry(services: Services, tree: Path) -> None:
    _registry(services)
    with transaction(services.session_factory) as session:
        report = scan_tree(session, root=tree, today=date(2026, 12, 2))  # after the expiry
    status = {m.repo_id: m.status for m in report.models}
    assert status == {
        "acme/approved-7b": "approved",
        "acme/conditional-base": "approved with conditions",
        "acme/pending-1b": "pending",
        "acme/review-3b": "in review",
        "acme/rejected-GGUF": "not approved",
        "acme/expired-1b": "not approved",
        "acme/untracked-2b": "not approved",
    }
    assert not report.ok
    details = {m.repo_id: m.detail for m in report.models}
    assert "no customer data" in details["acme/conditional-base"]
    assert "expired on 2026-12-01" in details["acme/expired-1b"]
    assert report.models[0].status == "in review"  # the worst first


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MODELGOV_APPROVERS", "alice,bob")
    return CliRunner()


def test_cli_gate_exit_status_table_and_json(
    cli: CliRunner, services: Services, tree: Path, tmp_path: Path
) -> None:
    _registry(services)
    result = cli.invoke(main, ["scan", str(tree)])
    assert result.exit_code == 1, result.output
    assert "in review" in result.output and "src/train.py:18" in result.output
    result = cli.invoke(main, ["scan", str(tree), "--json"])
    assert result.exit_code == 1
    envelope = json.loads(result.stdout)
    assert envelope["ok"] is False and envelope["error"]["code"] == "gate_failed"
    assert "acme/review-3b (in review)" in envelope["error"]["message"]
    data = envelope["data"]
    assert data["passed"] is False and data["files_scanned"] == 6
    review = next(m for m in data["models"] if m["repo_id"] == "acme/review-3b")
    assert {"path": "Dockerfile", "line": 1, "how": "hub download command"} in review["locations"]
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "app.py").write_text('AutoModel.from_pretrained("acme/approved-7b")\n')
    result = cli.invoke(main, ["scan", str(clean), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["data"]["passed"] is True
    assert cli.invoke(main, ["scan", str(tmp_path / "missing")]).exit_code == 2


def test_one_file_is_read_when_scan_reads_its_kind_and_refused_in_one_sentence_otherwise(
    cli: CliRunner, tree: Path
) -> None:
    refs, files = find_model_refs(tree / "Dockerfile")
    assert files == 1 and [(r.repo_id, r.path, r.line) for r in refs] == [
        ("acme/review-3b", "Dockerfile", 1)
    ]
    with pytest.raises(InvalidInput, match=r"'README\.md' is not a file scan reads"):
        find_model_refs(tree / "README.md")
    result = cli.invoke(main, ["scan", str(tree / "README.md")])
    assert result.exit_code == 2
    assert result.output == (
        "modelgov: 'README.md' is not a file scan reads (Python, requirements, config or "
        "shell); give a directory or one of those.\n"
    )
