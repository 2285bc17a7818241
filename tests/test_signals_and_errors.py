"""Signals, full disks and internal errors (issue 12 items 3 and 4): Ctrl-C and SIGTERM leave the
dataset as it was, a full disk says so, an unexpected exception is one line and exit 1, and
impossible option values are usage errors."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import k8saudit
from k8saudit import ingestion
from tests.helpers import event, jsonl, run_cli

K8SAUDIT = [sys.executable, "-c", "from k8saudit.cli.app import main; main()"]


def _dataset(tmp_path: Path) -> Path:
    jsonl(tmp_path / "first.log", [event(f"first-{i}") for i in range(5)])
    k8saudit.ingest([tmp_path / "first.log"], dataset=tmp_path / "ds")
    return tmp_path / "ds"


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the dataset but its lock, by path: what "as it was" means."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def _big_log(path: Path, events: int) -> Path:
    template = json.dumps(event("ID", userAgent="kubelet/v1.29.0 (linux/amd64)"))
    with path.open("w") as fh:
        for i in range(events):
            fh.write(template.replace('"ID"', f'"big-{i:08d}"') + "\n")
    return path


@pytest.mark.parametrize(
    ("sig", "code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["sigint", "sigterm"],
)
def test_a_signal_during_ingest_leaves_the_dataset_as_it_was(
    tmp_path: Path, sig: signal.Signals, code: int, word: str
) -> None:
    root = _dataset(tmp_path)
    before = _snapshot(root)
    log = _big_log(tmp_path / "big.log", 400_000)
    proc = subprocess.Popen(
        [*K8SAUDIT, "ingest", str(log), "-d", str(root), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (root / ".tmp").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # the run has begun once its work area exists
    time.sleep(0.3)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert err.strip().endswith(f"error: {word}; the dataset is as it was before this command")
    assert "Traceback" not in err
    assert out == ""
    assert _snapshot(root) == before
    assert not (root / ".tmp").exists()  # its work area (and spill files) removed
    # and the lock is free: the next ingest runs
    assert k8saudit.ingest([tmp_path / "first.log"], dataset=root).requests_after == 5


def test_ctrl_c_stops_a_long_sql_query(tmp_path: Path) -> None:
    root = _dataset(tmp_path)
    slow = "SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000) b"
    proc = subprocess.Popen(
        [*K8SAUDIT, "sql", slow, "-d", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(3)
    assert proc.poll() is None
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert time.monotonic() - sent < 15
    assert "interrupted; the dataset is as it was" in err


def test_a_full_disk_says_so_and_leaves_the_dataset_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _dataset(tmp_path)
    before = _snapshot(root)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(root / "manifest.json.tmp"))

    monkeypatch.setattr(ingestion, "commit_run", full)
    log = jsonl(tmp_path / "more.log", [event(f"more-{i}") for i in range(1000)])
    code, _, err = run_cli("ingest", str(log), "-d", str(root), "--quiet")
    assert code == 4
    assert err == (
        f"error: no space left on {root}/manifest.json.tmp (needed about 1 MB: about the size "
        "of the logs; the dataset is as it was)\n"
    )
    assert _snapshot(root) == before


def test_duckdb_running_out_of_disk_is_a_full_disk_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    root = _dataset(tmp_path)

    def full(*args: object, **kwargs: object) -> None:
        raise duckdb.IOException("IO Error: Could not write file: No space left on device")

    monkeypatch.setattr(ingestion, "commit_run", full)
    code, _, err = run_cli("ingest", str(jsonl(tmp_path / "m.log", [event("m")])), "-d", str(root))
    assert code == 4
    assert err.startswith(f"error: no space left on {root} (needed about 1 MB")


def test_an_unexpected_exception_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _dataset(tmp_path)

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(k8saudit.Dataset, "info", broken)
    code, out, err = run_cli("info", "-d", str(root))
    assert (code, out) == (1, "")
    assert err == (
        "error: internal error: ZeroDivisionError: division by zero "
        "(rerun with --debug for the traceback)\n"
    )
    code, _, err = run_cli("--debug", "info", "-d", str(root))
    assert code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["top-talkers", "--since", "99999999d"],
         "error: '99999999d' for --since reaches back before the year 1"),
        (["top-talkers", "--until", "9999999999999d"], "error: bad time '9999999999999d'"),
        (["ingest", "LOG", "--year", "99999"], "error: --year 99999: not a year (1..9999)"),
    ],
    ids=["since", "until", "year"],
)  # fmt: skip
def test_impossible_values_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    root = _dataset(tmp_path)
    args = [str(tmp_path / "first.log") if a == "LOG" else a for a in args]
    for debug in ([], ["--debug"]):
        code, _, err = run_cli(*debug, *args, "-d", str(root))
        assert code == 2, err
        assert err.splitlines()[-1].startswith(message)
        assert ("Traceback" in err) == bool(debug)


@pytest.mark.parametrize("command", [["info"], ["ingest", "LOG"], ["top-talkers"], ["sql", "1"]])
def test_a_dataset_that_is_a_file_is_a_usage_error(tmp_path: Path, command: list[str]) -> None:
    jsonl(tmp_path / "a.log", [event("a")])
    (tmp_path / "afile").write_text("not a dataset")
    args = [str(tmp_path / "a.log") if a == "LOG" else a for a in command]
    code, _, err = run_cli(*args, "-d", str(tmp_path / "afile"))
    assert (code, err) == (2, f"error: {tmp_path}/afile: the dataset must be a directory, "
                              "and this is a file\n")  # fmt: skip
    assert (tmp_path / "afile").read_text() == "not a dataset"


def test_the_console_script_still_exits_0_when_stdout_closes_early(tmp_path: Path) -> None:
    root = _dataset(tmp_path)
    proc = subprocess.run(
        f"{' '.join(K8SAUDIT[:2])} 'from k8saudit.cli.app import main; main()' "
        f"sql 'SELECT * FROM range(1000000)' -d {root} -f csv | head -1",
        shell=True, capture_output=True, text=True, env={**os.environ}, check=False,
    )  # fmt: skip
    assert proc.stdout == "range\n"
    assert "Traceback" not in proc.stderr
