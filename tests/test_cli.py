"""The command line: thin commands, one-line errors with documented exit codes, lazy imports."""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from k8saudit.cli import app, build_app
from k8saudit.cli.boundary import command_group
from k8saudit.cli.dataset_commands import IngestProgressBar
from typer.testing import CliRunner

from k8saudit.exceptions import ExitCode
from k8saudit.progress import IngestProgress

from .helpers import event, run_cli

runner = CliRunner()

EVENT = {
    "kind": "Event",
    "apiVersion": "audit.k8s.io/v1",
    "level": "Metadata",
    "auditID": "a1",
    "stage": "ResponseComplete",
    "requestURI": "/api/v1/services",
    "verb": "list",
    "user": {"username": "system:serviceaccount:datadog:datadog-agent"},
    "sourceIPs": ["10.1.2.3"],
    "userAgent": "datadog-agent/7.50.0 (linux/amd64)",
    "objectRef": {"resource": "services", "apiVersion": "v1"},
    "responseStatus": {"code": 429},
    "requestReceivedTimestamp": "2019-02-04T12:00:00Z",
    "stageTimestamp": "2019-02-04T12:00:00.001Z",
}


def make_log(tmp_path: Path) -> Path:
    log = tmp_path / "audit.log"
    log.write_text(json.dumps(EVENT) + "\nnot json\n")
    return log


def test_ingest_info_sql_rejects(tmp_path: Path) -> None:
    ds = str(tmp_path / "ds")
    result = runner.invoke(app, ["ingest", str(make_log(tmp_path)), "-d", ds])
    assert result.exit_code == 0, result.output
    assert "requests    +1 (now 1)" in result.stdout
    assert "rejected    1 records" in result.stdout
    assert "`k8saudit rejects`" in result.stderr
    assert "reading" not in result.stderr, "no progress when stderr is not a terminal"

    info = runner.invoke(app, ["info", "-d", ds])
    assert info.exit_code == 0 and "datadog-agent" in info.stdout

    sql = runner.invoke(
        app, ["sql", "SELECT client, code FROM requests WHERE verb = $v", "-p", "v=list",
              "--format", "csv", "-d", ds],
    )  # fmt: skip
    assert (sql.exit_code, sql.stdout) == (0, "client,code\ndatadog-agent,429\n")

    rejects = runner.invoke(app, ["rejects", "-d", ds, "--format", "json"])
    (row,) = json.loads(rejects.stdout)
    assert (row["line"], row["text"]) == (2, "not json")


def test_dataset_from_environment(tmp_path: Path, monkeypatch: object) -> None:
    ds = tmp_path / "envds"
    env = {"K8SAUDIT_DATASET": str(ds)}
    assert runner.invoke(app, ["ingest", str(make_log(tmp_path))], env=env).exit_code == 0
    result = runner.invoke(app, ["sql", "SELECT count(*) AS n FROM requests", "-f", "csv"], env=env)
    assert result.stdout == "n\n1\n"


def test_user_mistakes_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["ingest", str(tmp_path / "nope"), "-d", str(tmp_path / "ds")])
    assert missing.exit_code == ExitCode.INPUT
    assert missing.stderr.strip().endswith("no such file or directory")
    assert len(missing.stderr.strip().splitlines()) == 1

    no_dataset = runner.invoke(app, ["info", "-d", str(tmp_path / "empty")])
    assert no_dataset.exit_code == ExitCode.DATASET
    assert "no k8saudit dataset here" in no_dataset.stderr

    runner.invoke(app, ["ingest", str(make_log(tmp_path)), "-d", str(tmp_path / "ds")])
    bad_sql = runner.invoke(app, ["sql", "SELEC nope", "-d", str(tmp_path / "ds")])
    assert bad_sql.exit_code == ExitCode.QUERY
    assert len(bad_sql.stderr.strip().splitlines()) == 1

    bad_format = runner.invoke(app, ["sql", "SELECT 1", "-f", "xml", "-d", str(tmp_path / "ds")])
    assert bad_format.exit_code == ExitCode.USAGE and "unknown output format" in bad_format.stderr


def test_injection_through_a_parameter_is_just_a_value(tmp_path: Path) -> None:
    ds = str(tmp_path / "ds")
    runner.invoke(app, ["ingest", str(make_log(tmp_path)), "-d", ds])
    result = runner.invoke(
        app,
        ["sql", "SELECT count(*) AS n FROM requests WHERE username = $u", "-p",
         "u=x' OR 1=1 --", "-f", "csv", "-d", ds],
    )  # fmt: skip
    assert result.stdout == "n\n0\n"


def test_terminal_output_escapes_control_characters(tmp_path: Path) -> None:
    evil = dict(EVENT, userAgent="evil\x1b[2J/1.0")
    log = tmp_path / "evil.log"
    log.write_text(json.dumps(evil) + "\n")
    ds = str(tmp_path / "ds")
    runner.invoke(app, ["ingest", str(log), "-d", ds])
    result = runner.invoke(app, ["sql", "SELECT user_agent FROM requests", "-d", ds])
    assert "\x1b" not in result.stdout and "evil\\x1b[2J/1.0" in result.stdout


def test_every_command_has_help() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("ingest", "info", "sql", "rejects", "simulate"):
        sub = runner.invoke(app, [name, "--help"])
        assert sub.exit_code == 0 and len(sub.stdout) > 80, name


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from k8saudit.cli import app\n"
        "heavy = {'duckdb', 'polars', 'pyarrow', 'altair', 'numpy'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _run_group(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str, Any]:
    group = command_group(build_app())
    with pytest.raises(SystemExit) as exit:
        group.main(args, prog_name="k8saudit", terminal_width=80)
    out, err = capsys.readouterr()
    return int(exit.value.code or 0), out, err, group


def test_only_the_invoked_command_is_made(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _, group = _run_group(["top-talkers", "--help"], capsys)
    assert code == 0 and list(group.commands) == ["top-talkers"]
    assert len(group.declared) == len(build_app().registered_commands) - 1 == 33
    assert out == runner.invoke(app, ["top-talkers", "--help"], terminal_width=80).stdout


def test_only_the_invoked_command_builds_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _, group = _run_group(["top-talkers", "--help"], capsys)
    later = [info.callback for info in group.declared.values() if hasattr(info.callback, "_fn")]
    assert code == 0 and len(later) == 19  # the other analyses and `query`
    assert [c for c in later if "__signature__" in vars(c)] == []  # none built
    assert "dataset" in later[0].__signature__.parameters  # built when asked for


def test_the_command_list_makes_no_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _, group = _run_group(["--help"], capsys)
    assert code == 0 and group.commands == {}
    assert out == runner.invoke(app, ["--help"], terminal_width=80).stdout
    assert "  top-talkers        Who sends the API server the most work" in out


def test_a_mistyped_command_is_suggested(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err, _ = _run_group(["top-talkr"], capsys)
    assert code == 2
    assert err.splitlines()[-1] == "Error: No such command 'top-talkr'. Did you mean 'top-talkers'?"


def test_progress_is_drawn_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    reading = IngestProgress("reading", 0, 2, 5_000_000, 12_000_000)
    merging = IngestProgress("merging", 2, 2, 12_000_000, 12_000_000, merged_percent=42.0)
    quiet = IngestProgressBar(enabled=False)
    with quiet:
        quiet(reading)
    assert quiet.bar is None

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    bar = IngestProgressBar(enabled=True)
    with bar:
        bar(reading)
        assert bar.bar.tasks[0].description == "reading file 1/2"
        assert bar.bar.tasks[0].fields["detail"] == "5.0 MB of 12.0 MB"
        bar(merging)
        assert bar.bar.tasks[0].description == "writing the requests of 2 files"
        assert bar.bar.tasks[0].completed == 42.0


def test_a_quiet_ingest_asks_for_no_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a bar to draw (--quiet) the ingest gets no progress callback, and so polls
    DuckDB from no thread."""
    import k8saudit

    asked: list[object] = []
    real = k8saudit.ingest

    def ingest(*args: object, **kwargs: object) -> object:
        asked.append(kwargs["progress"])
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(k8saudit, "ingest", ingest)
    log = tmp_path / "audit.log"
    log.write_text(json.dumps(event("a")) + "\n")
    code, _, err = run_cli("ingest", str(log), "--dataset", str(tmp_path / "ds"), "--quiet")
    assert code == 0, err
    assert asked == [None]


def test_file_names_are_escaped_in_the_ingest_notes(tmp_path: Path) -> None:
    evil = tmp_path / "evil\x1b[2J.log"
    evil.write_bytes(b"\x00\x01 not a log\n")
    result = runner.invoke(
        app, ["ingest", str(evil), str(make_log(tmp_path)), "-d", str(tmp_path / "ds")]
    )
    assert result.exit_code == 0, result.output
    assert "evil\\x1b[2J.log" in result.stderr and "\x1b" not in result.stderr


def test_the_boundary_imports_nothing_of_the_cli() -> None:
    """Every command module imports ``boundary``; it importing one of them would be a cycle
    (``test_import_hygiene`` walks the whole graph)."""
    tree = ast.parse((Path(__file__).parents[1] / "cli" / "boundary.py").read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {
        "." * node.level + (node.module or "")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert "k8saudit.exceptions" in imported
    assert not {m for m in imported if m.startswith((".", "cli", "k8saudit.cli"))}, imported
