"""The CLI's --version and help, each subcommand's help page (CLI, grammar, console), and
`list --limit/--page` across 60 models."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import event

from bot.cli.main import main
from bot.grammar.dispatch import build_table, run_text
from bot.grammar.handlers.registry_commands import LIST_LIMIT_MAX
from bot.grammar.spec.invocation import Invocation
from bot.render.blocks import Reply
from governance.core.db import transaction
from governance.registry.queries import list_approvals, page_of_approvals
from governance.wiring.services import Services

ROOT = Path(__file__).resolve().parents[1]
REPOS = [f"org{i % 3}/model-{i:02d}" for i in range(60)]


def run(services: Services, text: str, user: str = "alice") -> Reply:
    return run_text(text, Invocation(services=services, user=user))


def _data(output: str) -> Any:
    """The data of a --json answer, in the ``{"ok": true, "data": ...}`` envelope or bare."""
    payload = json.loads(output)
    return payload["data"] if isinstance(payload, dict) and "data" in payload else payload


# ------------------------------------------------------------------ --version and short help


def test_version_comes_from_the_package_metadata() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"modelgov {version('modelgov')}\n"


def test_version_from_the_installed_script() -> None:
    script = Path(sys.executable).with_name("modelgov")
    done = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"modelgov {version('modelgov')}"


def _groups(group: click.Group, path: list[str]) -> list[tuple[list[str], click.Group]]:
    found = [(path, group)]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _groups(command, [*path, name])
    return found


def _listed(help_text: str) -> dict[str, str]:
    """The commands of a group's --help, each with its (unwrapped) summary."""
    section = help_text.split("Commands:\n", 1)[1]
    rows: dict[str, str] = {}
    name = ""
    for line in section.splitlines():
        match = re.match(r"  (\S+)\s+(.*)", line)
        if match and not line.startswith("   "):
            name = match.group(1)
            rows[name] = match.group(2)
        elif line.strip() and name:
            rows[name] += " " + line.strip()
    return rows


@pytest.mark.parametrize("path", [p for p, _ in _groups(main, [])], ids=lambda p: " ".join(p))
def test_no_summary_in_a_command_list_is_cut_short(path: list[str]) -> None:
    group = {tuple(p): g for p, g in _groups(main, [])}[tuple(path)]
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    listed = _listed(result.output)
    assert set(listed) == {n for n, c in group.commands.items() if not c.hidden}
    for name, command in group.commands.items():
        first = " ".join((command.help or "").split("\n\n")[0].split())
        assert listed[name] == first, f"{' '.join([*path, name])}: {listed[name]!r}"
        assert not listed[name].endswith("...")
    if not path:
        assert 'Ask the assistant, e.g. `modelgov ask "who approved gemma?"`' in listed["ask"]


# ------------------------------------------------------------------ each subcommand's help


@pytest.mark.parametrize("name", build_table().names())
def test_each_subcommand_has_its_own_help_page_in_the_cli(name: str) -> None:
    spec = build_table().get(name)
    assert spec is not None
    result = CliRunner().invoke(main, ["models", name, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert f"Usage: modelgov models {spec.usage}" in flat
    assert spec.summary in flat
    assert " ".join(spec.description.split()) in flat
    for option in spec.value_options:
        assert f"--{option} " in flat, f"{name}: --{option} missing from its help"
    for line, meaning in spec.examples:
        assert f"modelgov models {line}" in flat and meaning in flat
    assert "Run one /models command" not in flat  # not the generic help of `models`
    short = CliRunner().invoke(main, ["models", name, "-h"])
    assert short.exit_code == 0 and short.output == result.output


def test_list_help_page_in_full() -> None:
    result = CliRunner().invoke(main, ["models", "list", "--help"])
    lines = result.output.splitlines()
    assert lines[0] == (
        "Usage: modelgov models list [pending|approved|review|rejected|revoked|expired] "
        "[--use USE] [--limit N] [--page N]"
    )
    options = lines[lines.index("Options:") + 1 : lines.index("Options:") + 4]
    assert [o.split()[0] for o in options] == ["--use", "--limit", "--page"]
    assert f"1 to {LIST_LIMIT_MAX}" in result.output
    assert "modelgov models list --limit 10 --page 2" in result.output


def test_models_help_alone_lists_every_subcommand() -> None:
    result = CliRunner().invoke(main, ["models", "--help"])
    assert result.exit_code == 0
    assert "Usage: modelgov models [OPTIONS] [WORDS]..." in result.output
    assert "--json" in result.output and "--as" in result.output
    listed = result.output.split("shows one):\n", 1)[1]
    names = [
        line.split()[0]
        for line in listed.splitlines()
        if line.startswith("  ") and not line.startswith("   ")
    ]
    assert names == build_table().names()


def test_unknown_subcommand_help_is_one_sentence_naming_the_known_ones() -> None:
    result = CliRunner().invoke(main, ["models", "frobnicate", "--help"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert result.output.startswith("modelgov: There is no subcommand 'frobnicate'; ")
    assert ", ".join(build_table().names()) + "." in result.output


def test_help_page_through_the_grammar(services: Services) -> None:
    page = run(services, "help list")
    assert page.ok
    assert page.data["name"] == "list"
    assert [o["option"] for o in page.data["options"]] == ["--use USE", "--limit N", "--page N"]
    assert "`/models list approved --use commercial`" in str(page.blocks)
    unknown = run(services, "help frobnicate")
    assert not unknown.ok
    assert unknown.text == (
        "There is no subcommand 'frobnicate'; the subcommands are: "
        + ", ".join(build_table().names())
        + "."
    )
    everything = run(services, "help")
    assert everything.ok and "`/models help <subcommand>` shows one" in everything.text


def test_cli_help_subcommand_prints_the_page(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["models", "help", "list"])
    assert result.exit_code == 0, result.output
    assert "--limit N" in result.output and "requests 11 to 20" in result.output
    unknown = CliRunner().invoke(main, ["models", "help", "nope"])
    assert unknown.exit_code == 2  # a usage error, as `models nope --help`
    assert "There is no subcommand 'nope'" in unknown.output


def test_help_with_json_is_the_help_page_as_data(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    typed = CliRunner().invoke(main, ["models", "help", "list", "--json"])
    flagged = CliRunner().invoke(main, ["models", "list", "--help", "--json"])
    assert flagged.exit_code == typed.exit_code == 0, flagged.output
    assert json.loads(flagged.stdout) == json.loads(typed.stdout)
    assert json.loads(flagged.stdout)["data"]["name"] == "list"
    everything = CliRunner().invoke(main, ["models", "--json", "--help"])
    assert everything.exit_code == 0
    assert len(json.loads(everything.stdout)["data"]["commands"]) == len(build_table().names())
    unknown = CliRunner().invoke(main, ["models", "nope", "--help", "--json"])
    assert unknown.exit_code == 2
    assert json.loads(unknown.stdout)["error"]["code"] == "usage_error"


def test_console_help_page(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "console", "--as", "alice"],
        input="help list\nhelp nope\n",
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "`/models list [pending|approved" in done.stdout
    assert "`--page N`  which page, from 1 (default 1)" in done.stdout
    assert "There is no subcommand 'nope'; the subcommands are: help, list," in done.stdout


# ------------------------------------------------------------------ list --limit --page


@pytest.fixture
def sixty(services: Services) -> Services:
    for repo in REPOS:
        assert run(services, f"request {repo} --use research", user="carol").ok
    return services


def test_pages_show_every_model_exactly_once(sixty: Services) -> None:
    seen: list[str] = []
    for number in (1, 2, 3):
        reply = run(sixty, f"list --page {number}")
        assert reply.ok, reply.text
        page = reply.data["page"]
        assert page | {"next": None, "next_command": None} == {
            "number": number,
            "size": 20,
            "pages": 3,
            "total": 60,
            "next": None,
            "next_command": None,
        }
        assert page["next"] == (number + 1 if number < 3 else None)
        seen += [a["repo_id"] for a in reply.data["approvals"]]
    assert len(seen) == 60
    assert sorted(seen) == sorted(REPOS)
    assert seen == list(reversed(REPOS))  # newest first, across pages


def test_page_line_names_the_next_command(sixty: Services) -> None:
    first = run(sixty, "list")
    assert first.text.endswith("page 1 of 3 (60 requests), `list --page 2` for more.")
    assert len(first.data["approvals"]) == 20
    second = run(sixty, "list --page 2")
    assert second.text.splitlines()[-1] == "page 2 of 3 (60 requests), `list --page 3` for more."
    last = run(sixty, "list --page 3")
    assert last.text.splitlines()[-1] == "page 3 of 3 (60 requests)."
    assert last.data["page"]["next_command"] is None
    filtered = run(sixty, "list pending --use research --limit 25 --page 2")
    assert filtered.text.splitlines()[-1] == (
        "page 2 of 3 (60 requests), `list pending --use research --limit 25 --page 3` for more."
    )
    assert len(filtered.data["approvals"]) == 25
    assert filtered.data["page"]["next_command"] == (
        "list pending --use research --limit 25 --page 3"
    )
    # The More button carries the same command; one page fits one Slack message.
    big = run(sixty, f"list --limit {LIST_LIMIT_MAX}")
    assert len(big.blocks) == LIST_LIMIT_MAX + 2
    [button] = [b["accessory"] for b in big.blocks if "accessory" in b]
    assert button["action_id"] == "list_more" and button["value"] == "list --limit 40 --page 2"


def test_one_page_has_no_page_line(services: Services) -> None:
    assert run(services, "request org/only --use research", user="carol").ok
    reply = run(services, "list")
    assert "page 1" not in reply.text and "accessory" not in str(reply.blocks)
    assert reply.data["page"] == {
        "number": 1,
        "size": 20,
        "pages": 1,
        "total": 1,
        "next": None,
        "next_command": None,
    }
    empty = run(services, "list rejected")
    assert empty.ok and empty.text == "Requests (rejected): nothing yet."
    assert empty.data == {"approvals": [], "page": empty.data["page"]}
    assert empty.data["page"]["total"] == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("--limit 0", "--limit takes a whole number from 1 to 40 (got '0')."),
        ("--limit 41", "--limit takes a whole number from 1 to 40 (got '41')."),
        ("--limit ten", "--limit takes a whole number from 1 to 40 (got 'ten')."),
        ("--limit ２", "--limit takes a whole number from 1 to 40 (got '２')."),
        ("--page 0", "--page takes a whole number from 1 up (got '0')."),
        ("--page -1", "--page takes a whole number from 1 up (got '-1')."),
        ("--page 2.5", "--page takes a whole number from 1 up (got '2.5')."),
        ("--page 4", "There is no page 4: 60 requests make 3 pages of 20."),
        ("--limit 30 --page 3", "There is no page 3: 60 requests make 2 pages of 30."),
    ],
)
def test_bad_paging_gets_one_sentence(sixty: Services, options: str, message: str) -> None:
    reply = run(sixty, f"list {options}")
    assert not reply.ok
    assert reply.text == message


def test_cli_pages_in_json(sixty: Services, database_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    seen: list[str] = []
    for number in (1, 2):
        result = runner.invoke(
            main, ["models", "list", "--limit", "30", "--page", str(number), "--json"]
        )
        assert result.exit_code == 0, result.output
        data = _data(result.output)
        assert data["page"]["number"] == number and data["page"]["pages"] == 2
        seen += [a["repo_id"] for a in data["approvals"]]
    assert sorted(seen) == sorted(REPOS)
    text = runner.invoke(main, ["models", "list"])
    assert "page 1 of 3 (60 requests), `list --page 2` for more." in text.output
    assert "more not shown" not in text.output
    bad = runner.invoke(main, ["models", "list", "--page", "9"])
    assert bad.exit_code == 1
    assert "There is no page 9: 60 requests make 3 pages of 20." in bad.output


def test_a_page_is_read_in_the_database_not_sliced_from_every_request(sixty: Services) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(sixty.engine, "before_cursor_execute", seen)
    try:
        with transaction(sixty.read_session_factory) as session:
            page, total = page_of_approvals(session, offset=20, limit=20)
            everything = list_approvals(session)
    finally:
        event.remove(sixty.engine, "before_cursor_execute", seen)
    assert total == len(everything) == 60
    assert [a.id for a in page] == [a.id for a in everything[20:40]]
    selects = [s for s in statements if "FROM approvals" in s and "count" not in s.lower()]
    assert any("LIMIT" in s.upper() for s in selects)
