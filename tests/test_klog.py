"""Wrappers (CRI, docker, docker JSON, journald, kubectl --prefix), klog header, time rules."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from k8saudit.formats.access_log import parse_access_log
from k8saudit.formats.klog import (
    json_ts_us,
    klog_time_us,
    parse_klog_header,
    parse_klog_json,
    parse_rfc3339_us,
    unwrap_line,
)

KLOG = 'I0823 08:55:54.330840 1 httplog.go:132] "HTTP" verb="GET" URI="/x" latency="1ms" resp=200'


def _us(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()) * 1_000_000


def test_cri_prefix_full_and_partial() -> None:
    full = unwrap_line(f"2023-08-23T08:55:54.331196195Z stderr F {KLOG}")
    assert (full.text, full.wrapper, full.partial) == (KLOG, "cri", False)
    assert full.wrapper_us == _us(2023, 8, 23, 8, 55, 54) + 331196
    part = unwrap_line("2023-08-23T08:55:54.331196195Z stdout P I0823 08:55")
    assert part.partial and part.text == "I0823 08:55"


def test_docker_text_prefix() -> None:
    u = unwrap_line("2017-09-22T12:30:56.641355902Z I0922 12:30:56.641161 1 wrap.go:75] GET /x")
    assert u.wrapper == "docker" and u.text.startswith("I0922")


def test_docker_json() -> None:
    u = unwrap_line('{"log":"I0823 x\\n","stream":"stderr","time":"2023-08-23T08:55:54.3Z"}')
    assert (u.text, u.wrapper, u.partial) == ("I0823 x", "docker-json", False)
    assert u.wrapper_us == _us(2023, 8, 23, 8, 55, 54) + 300000
    assert unwrap_line('{"log":"I0823 x","stream":"stderr","time":"2023-08-23T08:55:54Z"}').partial


def test_journald_and_kubectl_prefix() -> None:
    u = unwrap_line(f"Feb 12 12:31:00 master-1 kube-apiserver[21922]: {KLOG}")
    assert (u.text, u.host, u.wrapper) == (KLOG, "master-1", "journald")
    k = unwrap_line(f"[pod/kube-apiserver-node1/kube-apiserver] {KLOG}")
    assert (k.text, k.host) == (KLOG, "kube-apiserver-node1")


def test_bare_and_garbage_lines_pass_through() -> None:
    for line in (KLOG, "", "plain text", "{not json", "2023-13-99T00:00:00Z hello", "[x] y"):
        assert unwrap_line(line).text == line


def test_klog_header() -> None:
    h = parse_klog_header("E0204 12:34:56.789012    1 file.go:12] boom")
    assert h is not None
    assert (h.severity, h.month, h.day, h.hour, h.micro, h.thread, h.file, h.line, h.message) == (
        "E",
        2,
        4,
        12,
        789012,
        1,
        "file.go",
        12,
        "boom",
    )
    assert parse_klog_header("X0204 12:34:56.789012 1 f.go:1] no") is None


def test_rfc3339_offsets_and_precision() -> None:
    assert (
        parse_rfc3339_us("2017-03-21T03:57:09.106841886-04:00")
        == _us(2017, 3, 21, 7, 57, 9) + 106841
    )
    assert parse_rfc3339_us("2017-03-21T03:57:09Z") == _us(2017, 3, 21, 3, 57, 9)
    assert parse_rfc3339_us("2017-02-30T03:57:09Z") is None
    assert parse_rfc3339_us("nope") is None


def test_klog_time_in_zone_and_invalid_dates() -> None:
    ny = ZoneInfo("America/New_York")
    assert klog_time_us(2023, 7, 1, 8, 0, 0, 5, ny) == _us(2023, 7, 1, 12, 0, 0) + 5  # EDT
    assert klog_time_us(2023, 1, 1, 8, 0, 0, 0, ny) == _us(2023, 1, 1, 13, 0, 0)  # EST
    assert klog_time_us(2023, 2, 30, 8, 0, 0, 0) is None
    assert klog_time_us(2023, 2, 3, 25, 0, 0, 0) is None


def test_json_ts_units() -> None:
    assert json_ts_us(1692781234500.5) == 1692781234500500  # epoch ms (Kubernetes)
    assert json_ts_us(1692781234.5) == 1692781234500000  # epoch s
    assert json_ts_us("2023-08-23T08:55:54Z") == _us(2023, 8, 23, 8, 55, 54)
    assert (
        json_ts_us(True) is None and json_ts_us(None) is None and json_ts_us(float("nan")) is None
    )
    assert parse_klog_json('{"ts":1,"msg":"x"}') == {"ts": 1, "msg": "x"}
    assert parse_klog_json('{"msg":"x"}') is None and parse_klog_json("{bad") is None


def _one(lines: list[str], **kw: object) -> dict[str, object]:
    (batch,) = parse_access_log(lines, source_file="f", default_year=2023, **kw)  # type: ignore[arg-type]
    rows = batch.table.to_pylist()
    assert len(rows) == 1
    return rows[0] | {"_batch": batch}


def test_wrapper_time_vs_default_year_counts() -> None:
    lines = [
        f"2024-08-23T08:55:54.331196Z stderr F {KLOG}",
        KLOG,
        f"Feb 12 12:31:00 m1 kube-apiserver[1]: {KLOG}",
    ]
    (batch,) = parse_access_log(lines, source_file="f", default_year=2019)
    stage = batch.table.column("stage_at").to_pylist()
    assert [t.year for t in stage] == [2024, 2019, 2019]
    assert (batch.wrapper_time_lines, batch.default_year_lines) == (1, 2)
    assert batch.table.column("apiserver").to_pylist() == [None, None, "m1"]


def test_default_year_and_tz_and_new_year_rollover() -> None:
    lines = [
        'I1231 23:59:59.500000 1 h.go:1] "HTTP" verb="GET" URI="/a" latency="1s" resp=200',
        'I0101 00:00:00.250000 1 h.go:1] "HTTP" verb="GET" URI="/b" latency="1s" resp=200',
    ]
    (batch,) = parse_access_log(
        lines, source_file="f", default_year=2022, tz=ZoneInfo("Europe/Paris")
    )
    stage = [t.astimezone(UTC) for t in batch.table.column("stage_at").to_pylist()]
    assert stage == [
        datetime(2022, 12, 31, 22, 59, 59, 500000, tzinfo=UTC),
        datetime(2022, 12, 31, 23, 0, 0, 250000, tzinfo=UTC),
    ]
    received = batch.table.column("received_at").to_pylist()[0].astimezone(UTC)
    assert received == datetime(2022, 12, 31, 22, 59, 58, 500000, tzinfo=UTC)


def test_cri_partial_lines_are_joined() -> None:
    head, tail = KLOG[:40], KLOG[40:]
    lines = [
        f"2023-08-23T08:55:54.331196195Z stderr P {head}",
        f"2023-08-23T08:55:54.331196300Z stderr F {tail}",
    ]
    row = _one(lines)
    batch = row["_batch"]
    assert row["request_uri"] == "/x" and row["source_line"] == 1
    assert (batch.lines, batch.continuation) == (2, 1)  # type: ignore[attr-defined]


def test_docker_json_wrapped_klog() -> None:
    line = (
        '{"log":"'
        + KLOG.replace('"', '\\"')
        + '\\n","stream":"stderr","time":"2023-08-23T08:55:54.9Z"}'
    )
    row = _one([line])
    assert row["stage_at"] == datetime(2023, 8, 23, 8, 55, 54, 900000, tzinfo=UTC)
    assert row["verb"] == "get"


@pytest.mark.parametrize("year", [2019, 2024])
def test_bad_klog_date_is_rejected(year: int) -> None:
    (batch,) = parse_access_log(
        ['I0230 08:55:54.330840 1 h.go:1] "HTTP" verb="GET" URI="/x" latency="1ms" resp=200'],
        source_file="f",
        default_year=year,
    )
    assert batch.table.num_rows == 0 and [r.reason for r in batch.rejects] == ["bad klog timestamp"]
