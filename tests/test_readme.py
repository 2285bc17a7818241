"""The README's shell session is real: each ``$ k8saudit ...`` of "What it looks like", run on
``sample_logs/``, prints what the README shows (only ingest's seconds and MB/s differ by run)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from k8saudit.cli import app
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
SESSION = (REPO / "README.md").read_text().split("## What it looks like", 1)[1]
SESSION = SESSION.split("```console\n", 1)[1].split("```", 1)[0]
#: each command of the session and the output under it
COMMANDS = [
    (block.split("\n", 1)[0], block.split("\n", 1)[1].rstrip("\n") + "\n")
    for block in re.split(r"^\$ ", SESSION, flags=re.M)
    if block.strip()
]
TOOK = re.compile(r"took        \S+ s \((.*), \d+ MB/s\)")


def test_the_session_has_commands() -> None:
    assert [line.split()[1] for line, _ in COMMANDS][:2] == ["ingest", "top-talkers"]


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What each command of the session prints, run in order in a directory holding
    sample_logs/ (stderr first: the notes come before the summary)."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / "sample_logs").symlink_to(REPO / "sample_logs")
    out: dict[str, str] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv("K8SAUDIT_DATASET", raising=False)
        for line, _ in COMMANDS:
            result = CliRunner().invoke(app, shlex.split(line)[1:])
            assert result.exit_code == 0, result.output
            out[line] = result.stderr + result.stdout
    return out


@pytest.mark.parametrize(("line", "shown"), COMMANDS, ids=[line for line, _ in COMMANDS])
def test_readme_output_is_real(printed: dict[str, str], line: str, shown: str) -> None:
    actual = printed[line]
    if line.startswith("k8saudit ingest"):
        actual, shown = (TOOK.sub(r"took <s> (\1)", text) for text in (actual, shown))
    assert actual == shown
