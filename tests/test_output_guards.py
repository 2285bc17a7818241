"""Output that cannot hurt (issue 12 item 5): CSV guards spreadsheet formulas and control
characters, markdown escapes HTML, --output never writes into the dataset, `sql` reads the
dataset and nothing else unless told, and list columns flatten in CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

import k8saudit
from tests.helpers import event, jsonl, run_cli

HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "ok\x1b[2J"]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    events = [event(f"e{i}", userAgent=ua) for i, ua in enumerate(HOSTILE)]
    events.append(event("html", userAgent="<img src=x onerror=alert(1)>&"))
    jsonl(tmp_path / "audit.log", events)
    k8saudit.ingest([tmp_path / "audit.log"], dataset=tmp_path / "ds")
    return tmp_path / "ds"


def test_csv_guards_formulas_and_control_characters_and_keeps_numbers(dataset: Path) -> None:
    code, out, _ = run_cli(
        "sql",
        "SELECT user_agent, -code AS n FROM requests WHERE audit_id ^@ 'e' ORDER BY audit_id",
        "-d", str(dataset), "-f", "csv",
    )  # fmt: skip
    assert code == 0
    assert not any(ch in out for ch in "\x1b\r\t")
    got = list(csv.reader(io.StringIO(out)))
    assert got == [
        ["user_agent", "n"],
        ["'=cmd|' /C calc'!A0", "-200"],  # a negative number stays a number
        ["'+1+1", "-200"], ["'-2+3", "-200"], ["'@SUM(A1)", "-200"],
        ["\\tTAB", "-200"], ["\\rCR", "-200"], ["ok\\x1b[2J", "-200"],
    ]  # fmt: skip


def test_markdown_escapes_html(dataset: Path) -> None:
    code, out, _ = run_cli(
        "top-talkers", "--by", "user_agent", "-d", str(dataset), "-f", "markdown"
    )
    assert code == 0
    assert "<img" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;&amp;" in out
    assert "\x1b" not in out


def test_output_never_writes_inside_the_dataset(dataset: Path) -> None:
    before = sorted(p.name for p in dataset.rglob("*"))
    for command in (["sql", "SELECT 1"], ["top-talkers"], ["rejects"]):
        code, _, err = run_cli(*command, "-d", str(dataset), "-o", str(dataset / "manifest.json"))
        assert code == 2
        assert err.startswith(f"error: --output {dataset}/manifest.json: inside the dataset")
    assert sorted(p.name for p in dataset.rglob("*")) == before
    assert k8saudit.open(dataset).sql("SELECT count(*) AS n FROM requests")["n"][0] == 8


def test_sql_reads_the_dataset_and_nothing_else(dataset: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("a\nsecret\n")
    for query in (
        f"SELECT * FROM read_csv('{secret}')",
        f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'",
        f"ATTACH '{tmp_path / 'x.duckdb'}'",
        "INSTALL httpfs",
        "SET enable_external_access = true",
    ):
        code, out, err = run_cli("sql", query, "-d", str(dataset))
        assert code == 5, (query, out, err)
        assert "secret" not in out
    assert not (tmp_path / "out.csv").exists()
    code, out, _ = run_cli(
        "sql", "SELECT count(*) AS n FROM requests", "-d", str(dataset), "-f", "csv"
    )
    assert (code, out) == (0, "n\n8\n")
    # the documented opt-out
    code, out, _ = run_cli(
        "sql", f"SELECT * FROM read_csv('{secret}')", "-d", str(dataset), "-f", "csv",
        "--allow-external-access",
    )  # fmt: skip
    assert (code, out) == (0, "a\nsecret\n")


def test_sql_csv_flattens_list_columns(dataset: Path) -> None:
    code, out, err = run_cli(
        "sql", "SELECT audit_id, user_groups, [1, 2] AS l FROM requests WHERE audit_id = 'e0'",
        "-d", str(dataset), "-f", "csv",
    )  # fmt: skip
    assert code == 0, err
    assert out == "audit_id,user_groups,l\ne0,a,1;2\n"
    code, out, err = run_cli("sql", "SELECT * FROM requests", "-d", str(dataset), "-f", "csv")
    assert code == 0, err
    assert len(list(csv.reader(io.StringIO(out)))) == 9
