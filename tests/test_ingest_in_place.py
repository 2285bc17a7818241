"""Clean audit logs are read in place (ingestion.in_place): only their keys are
staged, and the commit reads the file again for the events it keeps. These tests pin that the
result is exactly what the line-by-line reader gives."""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import k8saudit
from k8saudit.exceptions import InputError
from k8saudit.ingestion.in_place import InPlaceFiles
from k8saudit.ingestion.requests import Strategy
from k8saudit.simulator import simulate
from tests.helpers import event, jsonl, rows, write_lines


@pytest.fixture
def in_place(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records the display name of every file read in place."""
    read: list[str] = []
    original = InPlaceFiles.key_file

    def spy(self: InPlaceFiles, source: Any, lines: Any) -> tuple[int, int] | None:
        found = original(self, source, lines)
        if found is not None:
            read.append(Path(source.display).name)
        return found

    monkeypatch.setattr(InPlaceFiles, "key_file", spy)
    return read


@pytest.mark.parametrize("variant", ["plain", "blank lines", "gzip"])
def test_a_large_log_read_in_place_equals_the_line_by_line_read(
    tmp_path: Path, in_place: list[str], variant: str
) -> None:
    # ~40 MB: several read_json buffers, read on both cores, must still come out in file order
    result = simulate(tmp_path / "sim", nodes=300, duration="150s", apiservers=1, rotate_mb=1e6)
    (log,) = [Path(f) for f in result.files if Path(f).name == "audit.log"]
    assert log.stat().st_size > 30e6
    text = log.read_bytes()
    fast = tmp_path / "fast" / "audit.log"
    fast.parent.mkdir()
    if variant == "blank lines":  # read_json would skip them: lines are numbered instead
        cut = text.index(b"\n", len(text) // 2) + 1
        text = text[:cut] + b"\n  \n" + text[cut:] + b"\n"
    fast.write_bytes(gzip.compress(text, 1) if variant == "gzip" else text)
    messy = tmp_path / "messy" / "audit.log"  # a bad last line: read line by line, with rejects
    messy.parent.mkdir()
    messy.write_bytes(text + b"{not json\n")
    fast_report = k8saudit.ingest([fast], dataset=tmp_path / "fast-ds")
    messy_report = k8saudit.ingest([messy], dataset=tmp_path / "messy-ds")
    assert in_place == ["audit.log"]  # the first only
    assert [f.in_place for f in fast_report.files + messy_report.files] == [True, False]
    assert (fast_report.rejected, messy_report.rejected) == (0, 1)
    assert fast_report.skipped == messy_report.skipped == 3 * (variant == "blank lines")
    requests = result.ground_truth["totals"]["requests"]
    assert fast_report.requests_after == messy_report.requests_after == requests
    query = "SELECT * EXCLUDE (source_file) FROM requests ORDER BY request_key"
    assert rows(tmp_path / "fast-ds", query) == rows(tmp_path / "messy-ds", query)


def test_open_requests_keep_their_latest_event(tmp_path: Path, in_place: list[str]) -> None:
    log = jsonl(
        tmp_path / "audit.log",
        [
            event("w", "RequestReceived", verb="watch"),  # 1
            event("done", "RequestReceived"),  # 2
            event("w", "ResponseStarted", verb="watch"),  # 3
            event("done"),  # 4
            event("new", "RequestReceived"),  # 5
        ],
    )
    k8saudit.ingest([log], dataset=tmp_path / "ds")
    assert in_place == ["audit.log"]
    got = [
        (r["audit_id"], r["stage"], r["is_complete"], r["source_line"])
        for r in rows(tmp_path / "ds")
    ]
    assert got == [
        ("done", "ResponseComplete", True, 4),
        ("new", "RequestReceived", False, 5),
        ("w", "ResponseStarted", False, 3),
    ]


def test_twin_events_of_an_open_request_take_the_first(tmp_path: Path, in_place: list[str]) -> None:
    twin = event("t", "RequestReceived", userAgent="first/1.0")
    later = event("t", "RequestReceived", userAgent="second/1.0")
    log = jsonl(tmp_path / "audit.log", [event("a"), twin, later, event("b")])
    k8saudit.ingest([log], dataset=tmp_path / "ds")
    assert in_place == ["audit.log"]
    got = [(r["audit_id"], r["client_version"], r["source_line"]) for r in rows(tmp_path / "ds")]
    assert got == [("a", "2.0.2", 1), ("b", "2.0.2", 4), ("t", "1.0", 2)]
    assert rows(tmp_path / "ds")[2]["client"] == "first"


def test_copies_of_a_complete_event_in_two_files_are_one_request(
    tmp_path: Path, in_place: list[str]
) -> None:
    events = [event("x", "RequestReceived"), event("x"), event("y")]
    (tmp_path / "a").mkdir()
    first = jsonl(tmp_path / "a" / "audit.log", events)
    copy = jsonl(tmp_path / "b.log", [event("z"), *events])  # the same events, one line lower
    report = k8saudit.ingest([first, copy], dataset=tmp_path / "ds")
    assert sorted(in_place) == ["audit.log", "b.log"]
    assert report.requests_after == 3
    got = [
        (r["audit_id"], r["source_file"].split("/")[-1], r["source_line"])
        for r in rows(tmp_path / "ds")
    ]
    assert got == [("x", "audit.log", 2), ("y", "audit.log", 3), ("z", "b.log", 1)]


def test_a_log_spanning_midnight_is_split_by_day(tmp_path: Path, in_place: list[str]) -> None:
    late = {"requestReceivedTimestamp": "2019-02-04T23:59:59.900000Z",
            "stageTimestamp": "2019-02-05T00:00:00.100000Z"}  # fmt: skip
    early = {"requestReceivedTimestamp": "2019-02-05T00:00:01.000000Z",
             "stageTimestamp": "2019-02-05T00:00:01.010000Z"}  # fmt: skip
    log = jsonl(
        tmp_path / "audit.log",
        [event("a", "RequestReceived", **late), event("b", **early), event("a", **late)],
    )
    k8saudit.ingest([log], dataset=tmp_path / "ds")
    assert in_place == ["audit.log"]
    ds = k8saudit.open(tmp_path / "ds")
    assert sorted((p.day, p.rows) for p in ds.manifest.parts) == [
        ("2019-02-04", 1),
        ("2019-02-05", 1),
    ]
    got = [(r["audit_id"], r["source_line"], r["latency_ms"]) for r in rows(tmp_path / "ds")]
    assert got == [("a", 3, 200.0), ("b", 2, 10.0)]


def test_logs_read_in_place_join_their_access_lines(tmp_path: Path, in_place: list[str]) -> None:
    audit_id = "0f6b2f0e-1111-2222-3333-444455556666"
    audit = jsonl(tmp_path / "audit.log", [event("other"), event(audit_id, "RequestReceived"),
                                           event(audit_id)])  # fmt: skip
    access = write_lines(
        tmp_path / "kube-apiserver.log",
        [
            'I0204 12:00:00.250000      11 httplog.go:132] "HTTP" verb="LIST" '
            'URI="/api/v1/namespaces/default/pods?limit=500" latency="250ms" '
            'userAgent="rest-client/2.0.2 (linux-gnu x86_64) ruby/2.5.1p57" '
            f'audit-ID="{audit_id}" srcIP="10.0.0.7:1234" apf_pl="workload-low" '
            'apf_fs="service-accounts" resp=200'
        ],
    )
    k8saudit.ingest([audit, access], dataset=tmp_path / "ds", year=2019)
    assert in_place == ["audit.log"]  # read in place, then joined with the access lines
    got = [(r["audit_id"], r["source_line"], r["has_access"], r["apf_priority_level"])
           for r in rows(tmp_path / "ds")]  # fmt: skip
    assert got == [(audit_id, 3, True, "workload-low"), ("other", 1, False, None)]


@pytest.mark.parametrize(
    ("text", "requests"),
    [
        ('{"kind": "Event", "auditID": "trunc', 2),  # malformed
        ('{"hello": "world"}', 2),  # an object that is not an event
        (json.dumps(event("q") | {"auditID": None}), 3),  # keyed by its content
        (json.dumps(event("q", "SomeNewStage")), 3),  # kept, with its stage
    ],
)
def test_logs_that_are_not_clean_are_read_line_by_line(
    tmp_path: Path, in_place: list[str], text: str, requests: int
) -> None:
    log = write_lines(
        tmp_path / "audit.log", [json.dumps(event("a")), text, json.dumps(event("b"))]
    )
    report = k8saudit.ingest([log], dataset=tmp_path / "ds")
    assert in_place == []
    assert report.requests_after == requests
    assert report.rejected == 3 - requests
    lines = [r["source_line"] for r in rows(tmp_path / "ds")]
    assert sorted(lines) == ([1, 2, 3] if requests == 3 else [1, 3])


def test_open_requests_anywhere_in_the_log_are_kept(tmp_path: Path, in_place: list[str]) -> None:
    def at(minute: int) -> dict[str, str]:
        stamp = f"2019-02-04T12:{minute:02d}:00.000000Z"
        return {"requestReceivedTimestamp": stamp, "stageTimestamp": stamp}

    log = jsonl(
        tmp_path / "audit.log",
        [
            event("lost", "RequestReceived", **at(1)),  # never completed: an old open request
            event("w", "RequestReceived", verb="watch", **at(2)),
            event("w", "ResponseStarted", verb="watch", **at(2)),
            event("c", "RequestReceived", **at(3)),
            event("c", **at(3)),
            event("tail", "RequestReceived", **at(9)),
        ],
    )
    k8saudit.ingest([log], dataset=tmp_path / "ds")
    assert in_place == ["audit.log"]
    got = [(r["audit_id"], r["stage"], r["source_line"]) for r in rows(tmp_path / "ds")]
    assert got == [
        ("c", "ResponseComplete", 5),
        ("lost", "RequestReceived", 1),
        ("tail", "RequestReceived", 6),
        ("w", "ResponseStarted", 3),
    ]


@pytest.mark.parametrize("change", ["truncated", "removed"])
def test_a_log_that_changes_before_the_commit_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    original = InPlaceFiles.key_file

    def then_rotate(self: InPlaceFiles, source: Any, lines: Any) -> tuple[int, int] | None:
        found = original(self, source, lines)
        if change == "removed":
            source.path.unlink()
        else:  # copytruncate-style rotation: the file starts over
            source.path.write_text(json.dumps(event("z")) + "\n")
        return found

    ds = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "old.log", [event("o")])], dataset=ds)
    manifest = (ds / "manifest.json").read_text()
    monkeypatch.setattr(InPlaceFiles, "key_file", then_rotate)
    log = jsonl(tmp_path / "audit.log", [event("a"), event("b", "RequestReceived")])
    with pytest.raises(InputError, match="nothing was ingested: run again"):
        k8saudit.ingest([log], dataset=ds)
    assert (ds / "manifest.json").read_text() == manifest
    assert [r["audit_id"] for r in rows(ds)] == ["o"]


def test_a_log_growing_while_it_is_ingested_keeps_what_was_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = InPlaceFiles.key_file

    def then_append(self: InPlaceFiles, source: Any, lines: Any) -> tuple[int, int] | None:
        found = original(self, source, lines)
        with source.path.open("a") as fh:  # kube-apiserver writes on: b completes, c arrives
            fh.write(json.dumps(event("b")) + "\n" + json.dumps(event("c")) + "\n")
        return found

    monkeypatch.setattr(InPlaceFiles, "key_file", then_append)
    log = jsonl(tmp_path / "audit.log", [event("a"), event("b", "RequestReceived")])
    k8saudit.ingest([log], dataset=tmp_path / "ds")
    assert [(r["audit_id"], r["stage"]) for r in rows(tmp_path / "ds")] == [
        ("a", "ResponseComplete"),
        ("b", "RequestReceived"),
    ]
    monkeypatch.undo()
    k8saudit.ingest([log], dataset=tmp_path / "ds")  # the grown file, next run
    assert [(r["audit_id"], r["stage"]) for r in rows(tmp_path / "ds")] == [
        ("a", "ResponseComplete"),
        ("b", "ResponseComplete"),
        ("c", "ResponseComplete"),
    ]


stages = st.sampled_from(["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"])
audit_lines = st.one_of(
    st.builds(
        lambda i, stage, second: json.dumps(
            event(f"id-{i}", stage, requestReceivedTimestamp=f"2019-02-04T23:59:{second:02d}Z")
        ),
        st.integers(0, 6),
        stages,
        st.integers(57, 59),
    ),
    st.sampled_from(["", "  "]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(audit_lines, min_size=1, max_size=14), st.booleans())
def test_any_clean_log_read_in_place_equals_the_line_by_line_read(
    lines: list[str], compress: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lines = [*lines, json.dumps(event("last"))]  # a log has an event to be told one
        text = "".join(line + "\n" for line in lines).encode()
        log = Path(tmp) / "audit.log"
        log.write_bytes(gzip.compress(text) if compress else text)
        fast = k8saudit.ingest([log], dataset=Path(tmp) / "fast")
        slow = k8saudit.ingest([log], dataset=Path(tmp) / "slow", _in_place=False)
        assert [f.in_place for f in fast.files + slow.files] == [True, False]
        assert (fast.skipped, fast.rejected) == (slow.skipped, slow.rejected) == (fast.skipped, 0)
        query = "SELECT * FROM requests ORDER BY request_key"
        assert rows(Path(tmp) / "fast", query) == rows(Path(tmp) / "slow", query)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 4), stages, st.integers(0, 3)),
        min_size=1,
        max_size=16,
    )
)
def test_picking_from_the_keys_equals_the_general_merge(
    events: list[tuple[int, int, str, int]],
) -> None:
    """Two logs with copies of events (also with different completion times) across them: the
    requests picked from the keys equal those of the general merge of every event."""
    with tempfile.TemporaryDirectory() as tmp:
        logs = [Path(tmp) / "logs" / name for name in ("a.log", "b.log")]
        logs[0].parent.mkdir()
        for index, log in enumerate(logs):
            lines = [
                event(
                    f"id-{i}", stage, stageTimestamp=f"2019-02-04T12:00:0{t}Z", userAgent=f"c/{t}"
                )
                for file, i, stage, t in events
                if file == index
            ]
            jsonl(log, [event("anchor"), *lines])  # every log has an event
        simple = k8saudit.ingest(logs, dataset=Path(tmp) / "simple")
        general = k8saudit.ingest(logs, dataset=Path(tmp) / "general", _strategy=Strategy.GENERAL)
        assert simple.requests_after == general.requests_after
        query = "SELECT * EXCLUDE (source_file), source_file[-5:] AS f FROM requests ORDER BY ALL"
        assert rows(Path(tmp) / "simple", query) == rows(Path(tmp) / "general", query)


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize(
    ("variant", "reads"),
    [
        ("plain", [False]),
        ("gzip", [False]),
        ("gzip of two members", [False]),
        ("zstd of two frames", [False]),
        ("gzip with a blank line", [False, True]),
    ],
)
def test_a_clean_log_is_keyed_by_read_json_once_its_lines_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str, reads: list[bool]
) -> None:
    """The lines of a compressed log are counted while it is hashed (plan.hash_and_count): when
    they equal the events read_json read, the keys pass reads it once, as a plain log."""
    scans: list[bool] = []
    original = InPlaceFiles._scan_keys

    def spy(self: InPlaceFiles, source: Any, by_lines: bool) -> Any:
        scans.append(by_lines)
        return original(self, source, by_lines)

    monkeypatch.setattr(InPlaceFiles, "_scan_keys", spy)
    lines = [json.dumps(event(f"id-{i}", stage)) for i in range(40)
             for stage in ("RequestReceived", "ResponseComplete")]  # fmt: skip
    text = "".join(line + "\n" for line in lines).encode()
    half = text.index(b"\n", len(text) // 2) + 1
    stored = {
        "plain": text,
        "gzip": gzip.compress(text),
        "gzip of two members": gzip.compress(text[:half]) + gzip.compress(text[half:]),
        "zstd of two frames": _zstd(text[:half]) + _zstd(text[half:]),
        "gzip with a blank line": gzip.compress(text[:half] + b"\n" + text[half:]),
    }[variant]
    log = tmp_path / "audit.log"
    log.write_bytes(stored)
    report = k8saudit.ingest([log], dataset=tmp_path / "ds")
    assert scans == reads
    assert (report.files[0].in_place, report.events, report.skipped) == (
        True, 80, int(variant.endswith("blank line"))
    )  # fmt: skip
    assert report.requests_after == 40
    last = 80 + int(variant.endswith("blank line"))
    assert rows(tmp_path / "ds", "SELECT max(source_line) AS last FROM requests") == [
        {"last": last}
    ]
