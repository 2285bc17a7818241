"""Every command has help text and is documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest
from k8saudit.cli import app
from typer.main import get_command

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def test_there_are_commands() -> None:
    assert {"ingest", "info", "sql", "top-talkers", "simulate"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_documented(name: str) -> None:
    command = get_command(app).commands[name]  # type: ignore[attr-defined]
    assert (command.help or "").strip(), f"{name} has no help text"
    assert f"`{name}" in README or f"k8saudit {name}" in README or f", `{name}`" in README, name
