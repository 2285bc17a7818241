"""Access logs read whole in one pass (``Stager.one_pass``: ``sql/access_requests.sql`` cuts and
derives each line in one statement, ``Strategy.ACCESS_ONE_PASS`` writes the rows) against the
same files staged first (``ingest(..., _one_pass=False)``, the path every other run takes): the
same requests, column for column, and the same accounting (each file's counts, time source,
observed spans, apiserver; suspicious times; the parts), whether the pass takes the files, leaves
one to staging (a line it cannot take) or stages them all after reading (two files share a key,
or the run has other events).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import k8saudit
from k8saudit.ingestion import requests as run_requests
from k8saudit.ingestion.requests import Strategy
from k8saudit.ingestion.staging import ONE_PASS_OPTIMIZERS_OFF, ONE_PASS_READING, Stager, connect
from k8saudit.io import Compression, SourceFile
from k8saudit.query_loader import compose
from k8saudit.sqlfiles import internal_sql, run_sql
from tests.helpers import event
from tests.test_access_fast import G, S
from tests.test_access_scan import FILES


def dataset_state(root: Path) -> dict[str, Any]:
    """The requests of a dataset (every column, in file and line order) and its manifest's
    files and parts, without the run ids."""
    manifest = k8saudit.open(root).manifest
    parts = [str(root / p.path) for p in manifest.parts]
    rows: list[tuple[Any, ...]] = []
    if parts:
        rows = duckdb.execute(
            "SELECT * FROM read_parquet($p) ORDER BY source_file, source_line", {"p": parts}
        ).fetchall()
    files = [{**vars(f), "run": None} for f in manifest.files]
    return {"rows": rows, "files": files, "parts": sorted((p.day, p.rows) for p in manifest.parts)}


def ingest_both(
    tmp_path: Path, runs: list[dict[str, bytes]], year: int = 2023
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Ingest each run's files (name -> bytes, written under ``logs/``) into two datasets, one
    pass on and off; their states, and how many runs wrote the one pass's rows."""
    written = 0
    real = run_requests._WRITERS[Strategy.ACCESS_ONE_PASS]

    def counting(*args: Any) -> Any:
        nonlocal written
        written += 1
        return real(*args)

    run_requests._WRITERS[Strategy.ACCESS_ONE_PASS] = counting
    states: dict[bool, dict[str, Any]] = {}
    try:
        for one_pass in (True, False):
            root = tmp_path / f"ds-{one_pass}"
            reports: list[tuple[Any, ...]] = []
            for number, files in enumerate(runs):
                paths = []
                for name, data in files.items():
                    path = tmp_path / f"logs-{one_pass}-{number}" / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
                    paths.append(path)
                report = k8saudit.ingest(paths, dataset=root, year=year, _one_pass=one_pass)
                summary = [
                    (_unrun(f.path), f.status, f.events, f.skipped, f.rejected, f.suspicious,
                     f.message, f.warning)
                    for f in report.files
                ]  # fmt: skip
                reports.append((summary, report.requests_after, report.rejected))
            state = dataset_state(root)
            for entry in state["files"]:
                entry["path"] = _unrun(entry["path"])
            state["rows"] = [
                tuple(_unrun(v) if isinstance(v, str) else v for v in row) for row in state["rows"]
            ]
            states[one_pass] = {"reports": reports, **state}
    finally:
        run_requests._WRITERS[Strategy.ACCESS_ONE_PASS] = real
    return states[True], states[False], written


def _unrun(path: str) -> str:
    """A path of ``ingest_both`` without the directory of its side and run."""
    return re.sub(r"^.*logs-\w+-\d+/", "", path)


def log(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def distinct(n: int, md: str = "0204") -> list[str]:
    """``n`` canonical lines of both eras, each a request of its own (audit ID or time)."""
    return [
        S.format(md=md).replace("9f13", f"id-{md}-{i}")
        if i % 3
        else G.format(md=md).replace("684870", f"{i:06d}")
        for i in range(n)
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    FILES,
    st.sampled_from(["kube-apiserver.log", "kube-apiserver-ip-10-0-1-2/kube-apiserver.log"]),
    st.sampled_from(["none", "none", "other", "shared"]),  # a second file in the run
    st.sampled_from([2023, 2024]),
)
def test_one_pass_gives_what_staging_gives(
    tmp_path_factory: pytest.TempPathFactory,
    file: tuple[list[str], str | None, int, str, bool, bytes, bool],
    name: str,
    second: str,
    year: int,
) -> None:
    lines, odd, at, newline, final, bom, carriage = file
    if odd is not None:
        lines.insert(min(at, len(lines)), odd)
    if carriage:
        lines[at % len(lines)] += "\r" + lines[(at + 1) % len(lines)]
    data = bom + (newline.join(lines) + (newline if final else "")).encode("utf-8", "surrogatepass")
    files = {name: data}
    if second == "other":  # a file of its own
        files["master-2/kube-apiserver.log"] = log(
            [G.format(md="0204")] * 2 + [S.format(md="0205")]
        )
    elif second == "shared":  # the same lines and one more: their keys are shared
        files["kube-apiserver.log.1"] = data + log([G.format(md="0206")])
    one_pass, staged, _ = ingest_both(tmp_path_factory.mktemp("both"), [files], year)
    assert one_pass == staged


def test_canonical_logs_are_read_in_one_pass(tmp_path: Path) -> None:
    """Both eras, bare, in a CRI wrapper or behind journald, two files in a run: written by the
    one pass, with the rows staging gives."""
    lines = distinct(40)
    files = {
        "kube-apiserver-ip-10-0-1-2/kube-apiserver.log": log(lines),
        "cri/kube-apiserver.log": log(
            [
                f"2023-02-03T12:00:01.{i:06d}Z stderr F " + x
                for i, x in enumerate(distinct(40, "0203"))
            ]
        ),
        "journald/kube-apiserver.log": log(
            ["Feb  4 12:00:00 master-1 k[2]: " + x for x in distinct(40, "0205")]
        ),
    }
    one_pass, staged, written = ingest_both(tmp_path, [files])
    assert written == 1
    assert one_pass == staged
    assert len(one_pass["rows"]) == 120
    assert {f["apiserver"] for f in one_pass["files"]} == {"kube-apiserver-ip-10-0-1-2", None}
    times = sorted(f["time_source"] or "" for f in one_pass["files"])
    assert times == ["log wrapper timestamps", *["year 2023 from --year, zone UTC"] * 2]


def test_what_the_one_pass_leaves_to_staging(tmp_path: Path) -> None:
    """A line that is no canonical access line, a wrapper unlike the first line's, December
    then January, an audit log in the run, a grown file already ingested: the same requests."""
    good = distinct(2)
    audit = json.dumps(event("a-1")) + "\n"
    for runs in (
        [{"a.log": log([*good, "I0204 12:00:00.000000 1 controller.go:1] Starting"])}],
        [{"a.log": log([*good, "2023-02-04T12:00:01.5Z stderr F " + good[0]])}],
        [{"a.log": log([S.format(md="1231"), G.format(md="0101")])}],
        [{"a.log": log(good), "audit.log": audit.encode()}],
        [{"a.log": log(good)}, {"a.log": log([*good, S.format(md="0205")])}],
    ):
        one_pass, staged, _ = ingest_both(tmp_path / str(len(list(tmp_path.iterdir()))), runs)
        assert one_pass == staged, runs
        assert one_pass["rows"], runs


def test_the_one_pass_writes_its_rows_in_file_order(tmp_path: Path) -> None:
    """rowid + 1 is the line only when DuckDB writes the table in the order it reads the file:
    an order-preserving plan (Batch Create Table As), which the optimizer's rewrite of derive's
    long IN list into a join breaks; the pass turns that rewrite off."""
    log_file = tmp_path / "kube-apiserver.log"
    log_file.write_bytes(log([S.format(md="0204")]))
    work = tmp_path / "work"
    work.mkdir()
    con = connect(work)
    stager = Stager(con, work)
    source = SourceFile(log_file, "f", log_file.stat().st_size, Compression.NONE)
    params = {**stager._access_params(source, 2023), "cri_file": False, "first_month": 2}
    run_sql(con, "access_pieces")
    run_sql(con, "access_macros")
    relations = {name: internal_sql(file) for name, file in ONE_PASS_READING.items()}
    statement = compose(internal_sql("access_requests"), **relations)
    used = {k: v for k, v in params.items() if f"${k}" in statement}

    def plan() -> str:
        return "\n".join(row[1] for row in con.execute("EXPLAIN " + statement, used).fetchall())

    con.execute("SET preserve_insertion_order = true").fetchall()
    assert "Batch Create Table As" not in plan()  # the join
    con.execute(f"SET disabled_optimizers = '{ONE_PASS_OPTIMIZERS_OFF}'").fetchall()
    assert "Batch Create Table As" in plan()
    con.close()


def test_the_one_pass_keys_lines_as_key_by_content_does() -> None:
    """The hash of a line without audit ID covers the columns key_by_content.sql hashes."""

    def hashed(sql: str) -> list[str]:
        return re.findall(r'"(\w+)"', sql[sql.index("hash(") : sql.index(")", sql.index("hash("))])

    assert hashed(internal_sql("access_raw")) == hashed(internal_sql("key_by_content"))
