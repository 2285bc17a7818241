"""Every command has help text and is documented in the README, whose analysis rows are the
query library's (``cli.analysis_commands.command_table``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from k8saudit.cli import app
from k8saudit.cli.analysis_commands import command_table
from typer.main import get_command

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def _command_table_rows() -> list[str]:
    section = README.split("## Commands", 1)[1]
    return re.findall(r"^\| `k8saudit .*$", section.split("\n\n", 2)[1], re.M)


def test_there_are_commands() -> None:
    assert {"ingest", "info", "sql", "top-talkers", "simulate", "errors"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_documented(name: str) -> None:
    command = get_command(app).commands[name]  # type: ignore[attr-defined]
    assert (command.help or "").strip(), f"{name} has no help text"
    assert f"`{name}" in README or f"k8saudit {name}" in README or f", `{name}`" in README, name


def test_readme_command_table_is_the_query_library() -> None:
    rows = _command_table_rows()
    generated = command_table()
    assert generated in "\n".join(rows) + "\n", (
        "the README's analysis rows differ from the query library: paste "
        "`python -c 'from k8saudit.cli.analysis_commands import command_table as t; print(t())'`"
    )
    for row in rows:  # and no row names a command that is not there
        for name in re.findall(r"`k8saudit ([a-z-]+)", row):
            assert name in COMMANDS, row
