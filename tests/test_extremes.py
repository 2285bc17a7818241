"""Values that make no sense are flagged, not trusted (issue 12 item 2): outlier dates bound no
analysis's work, empty audit IDs are separate requests, conflicting copies are counted."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

import k8saudit
from tests.helpers import event, jsonl, rows, run_cli

EPOCH = "1970-01-01T00:00:01Z"


def _watch(audit_id: str, start: str, end: str | None = None) -> dict[str, object]:
    stage = "ResponseComplete" if end else "ResponseStarted"
    return event(
        audit_id, stage, verb="watch", requestURI="/api/v1/pods?watch=true",
        requestReceivedTimestamp=start, stageTimestamp=end or start,
    )  # fmt: skip


def test_one_1970_event_adds_no_interval_to_open_watches_or_timeline(tmp_path: Path) -> None:
    jsonl(tmp_path / "audit.log", [
        _watch("old", EPOCH, EPOCH),
        _watch("w1", "2019-02-04T12:00:00Z", "2019-02-04T12:00:25Z"),
        _watch("w2", "2019-02-04T12:00:05Z"),
        event("g", requestReceivedTimestamp="2019-02-04T12:00:59Z",
              stageTimestamp="2019-02-04T12:00:59.5Z"),
    ])  # fmt: skip
    report = k8saudit.ingest([tmp_path / "audit.log"], dataset=tmp_path / "ds")
    assert report.suspicious == 1
    ds = k8saudit.open(tmp_path / "ds")
    frame = ds.open_watches(every="10s")
    # 12:00:00 .. 12:00:59.5 in 10 s intervals: 6, not 49 years of them
    assert [(r[0].second, r[2], r[3]) for r in frame.rows()] == [
        (0, 1, 2), (10, 2, 0), (20, 2, 0), (30, 1, 0), (40, 1, 0), (50, 1, 0),
    ]  # fmt: skip
    timeline = ds.timeline(every="10s")
    assert [(r[0].second, r[2]) for r in timeline.rows()] == [(0, 2), (50, 1)]
    ds.close()


def test_a_watch_opened_before_the_log_still_starts_the_intervals(tmp_path: Path) -> None:
    jsonl(tmp_path / "audit.log", [
        _watch("w", "2019-02-04T11:59:00Z", "2019-02-04T12:00:30Z"),  # only its end is logged
        event("g", requestReceivedTimestamp="2019-02-04T12:00:40Z",
              stageTimestamp="2019-02-04T12:00:41Z"),
    ])  # fmt: skip
    k8saudit.ingest([tmp_path / "audit.log"], dataset=tmp_path / "ds")
    frame = k8saudit.open(tmp_path / "ds").open_watches(every="1m")
    assert [(r[0], r[2], r[3]) for r in frame.rows()] == [
        (datetime(2019, 2, 4, 11, 59, tzinfo=UTC), 1, 1),
        (datetime(2019, 2, 4, 12, 0, tzinfo=UTC), 1, 0),
    ]


def test_queries_spill_to_the_system_temp_dir_and_clean_it(tmp_path: Path) -> None:
    jsonl(tmp_path / "audit.log", [event("a")])
    k8saudit.ingest([tmp_path / "audit.log"], dataset=tmp_path / "ds")
    ds = k8saudit.open(tmp_path / "ds")
    ((spill,),) = ds.duckdb.execute("SELECT current_setting('temp_directory')").fetchall()
    assert Path(spill).parent == Path(tempfile.gettempdir())
    assert not Path(spill).is_relative_to(Path.cwd())
    assert Path(spill).is_dir()
    ds.close()
    assert not Path(spill).exists()


def test_a_command_leaves_no_spill_directory_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jsonl(tmp_path / "audit.log", [_watch("w", "2019-02-04T12:00:00Z", "2019-02-04T12:09:00Z")])
    k8saudit.ingest([tmp_path / "audit.log"], dataset=tmp_path / "ds")
    work = tmp_path / "cwd"
    work.mkdir()
    # a temp dir of its own: other processes' spill directories come and go in the system's
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    before = set(os.listdir(tempfile.gettempdir()))
    cwd = os.getcwd()
    os.chdir(work)
    try:
        code, _, err = run_cli("open-watches", "--every", "10s", "-d", str(tmp_path / "ds"))
    finally:
        os.chdir(cwd)
    assert code == 0, err
    assert os.listdir(work) == []
    left = {n for n in set(os.listdir(tempfile.gettempdir())) - before if "k8saudit" in n}
    assert left == set()


def test_events_with_an_empty_audit_id_are_separate_requests(tmp_path: Path) -> None:
    verbs = ["get", "list", "watch", "create", "delete"]
    jsonl(tmp_path / "audit.log", [event("", verb=v) for v in verbs])
    report = k8saudit.ingest([tmp_path / "audit.log"], dataset=tmp_path / "ds")
    assert report.requests_added == 5
    found = rows(tmp_path / "ds", "SELECT audit_id, verb FROM requests ORDER BY verb")
    assert found == [{"audit_id": None, "verb": v} for v in sorted(verbs)]
    # read again (the same file grown by a line): still 5, not 10
    jsonl(tmp_path / "audit.log", [event("", verb=v) for v in verbs] + [event("x")])
    assert k8saudit.ingest([tmp_path / "audit.log"], dataset=tmp_path / "ds").requests_after == 6


def test_conflicting_copies_of_one_audit_id_are_counted(tmp_path: Path) -> None:
    late = "2019-02-04T12:00:09Z"
    jsonl(tmp_path / "audit.log", [
        event("copy"), event("copy"),  # an exact copy: overlapping exports, no conflict
        event("clash", verb="get"), event("clash", verb="delete", stageTimestamp=late),
        event("clash2"), event("clash2", requestReceivedTimestamp="2019-02-04T11:00:00Z"),
    ])  # fmt: skip
    report = k8saudit.ingest([tmp_path / "audit.log"], dataset=tmp_path / "ds")
    assert (report.requests_added, report.conflicts) == (3, 2)
    code, out, _ = run_cli("ingest", str(tmp_path / "audit.log"), "-d", str(tmp_path / "ds2"))
    assert code == 0
    assert "conflicts   2 audit IDs with complete events that disagree" in out
    # the rule that picks one: the latest completion
    picked = rows(tmp_path / "ds", "SELECT verb FROM requests WHERE audit_id = 'clash'")
    assert picked == [{"verb": "delete"}]
