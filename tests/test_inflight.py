"""`inflight` and `inflight_peaks`: requests in flight at once, as kube-apiserver's max-inflight
filter counts them, reconstructed from the logs and checked against the simulator's own count
and against hand-made requests whose answer is known."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import k8saudit
from k8saudit.exceptions import QueryError
from k8saudit.simulator import simulate
from tests.helpers import event, jsonl, run_cli, write_lines

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def sample(sample_dataset: Path) -> k8saudit.Dataset:
    return k8saudit.open(sample_dataset)


def test_the_peaks_are_the_simulators_own(sample: k8saudit.Dataset) -> None:
    truth = json.loads((REPO / "sample_logs" / "ground_truth.json").read_text())
    peaks = sample.inflight_peaks().filter(is_total=False)
    found = {(r["apiserver"], r["kind"]): r["peak"] for r in peaks.iter_rows(named=True)}
    expected = {
        (server, kind): peak
        for server, pools in truth["inflight_peak"]["by_apiserver"].items()
        for kind, peak in pools.items()
    }
    assert found == expected
    over_time = sample.inflight(every="1m").filter(is_total=False)
    maxima = over_time.group_by("apiserver").agg("readonly_peak", "mutating_peak").rows()
    assert {(server, "readonly"): max(ro) for server, ro, _ in maxima} | {
        (server, "mutating"): max(mu) for server, _, mu in maxima
    } == expected
    assert over_time["readonly_peak"].max() == truth["inflight_peak"]["readonly"]
    assert over_time["mutating_peak"].max() == truth["inflight_peak"]["mutating"]


def test_a_lower_limit_fills_the_seats_longer(sample: k8saudit.Dataset) -> None:
    at_400 = sample.inflight_peaks().filter(kind="readonly", is_total=False)
    at_300 = sample.inflight_peaks(max_requests_inflight=300).filter(
        kind="readonly", is_total=False
    )
    assert (at_400["extra_429s"] == 0).all()  # a served request found a free seat
    assert (at_300["extra_429s"] > 0).all()
    assert (at_300["full_s"] > at_400["full_s"]).all()
    assert at_300["seat_limit"].to_list() == [300, 300]


def _request(audit_id: str, start: float, end: float | None, **extra: Any) -> list[dict]:
    """A request received `start` seconds after 12:00 and completed `end` seconds after."""

    def at(seconds: float) -> str:
        return datetime.fromtimestamp(1549281600 + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    received = event(audit_id, "RequestReceived", requestReceivedTimestamp=at(start),
                     stageTimestamp=at(start), **extra)  # fmt: skip
    if end is None:
        return [received]
    done = event(audit_id, requestReceivedTimestamp=at(start), stageTimestamp=at(end), **extra)
    return [received, done]


def test_rows_in_rows_out(tmp_path: Path) -> None:
    get = {"verb": "get", "requestURI": "/api/v1/namespaces/default/pods/p"}
    events = [
        *_request("a", 0, 10, **get),
        *_request("b", 2, 4, **get),
        *_request("c", 3, 6, **get),  # a, b, c: 3 in flight from 3 s to 4 s
        *_request("d", 4, 5, **get),  # b ends as d starts: still 3, not 4
        *_request("w", 1, 9, verb="watch", requestURI="/api/v1/pods?watch=true"),  # no seat
        *_request("t", 3.5, 3.6, responseStatus={"code": 429}, **get),  # refused: no seat
        *_request("m", 5, 8, verb="create", requestURI="/api/v1/namespaces/default/pods"),
        *_request("open", 7, None, **get),  # still in flight at the end (10 s)
    ]
    root = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "audit.log", events)], dataset=root)
    ds = k8saudit.open(root)
    peaks = ds.inflight_peaks(max_requests_inflight=3, max_mutating_requests_inflight=1)
    rows = {r["kind"]: r for r in peaks.iter_rows(named=True)}
    # readonly in flight: 1 from 0 s, 2 from 2 s, 3 from 3 s (a, b, c), still 3 from 4 s (b
    # ends as d starts: a, c, d), 2 from 5 s, 1 from 6 s, 2 from 7 s (a, open) to the end, 10 s
    assert rows["readonly"]["peak"] == 3
    assert rows["readonly"]["peak_at"] == datetime(2019, 2, 4, 12, 0, 3, tzinfo=UTC)
    assert rows["readonly"]["full_s"] == 2.0
    assert rows["readonly"]["throttled"] == 1
    assert rows["readonly"]["extra_429s"] == 0  # d found a seat: b's ended as it arrived
    assert rows["readonly"]["top_holders"] == "rest-client (logging:fluentd) 3"
    tighter = ds.inflight_peaks(max_requests_inflight=2).filter(kind="readonly")
    assert tighter["extra_429s"].to_list() == [2]  # c (a, b in flight) and d (a, c)
    assert (rows["mutating"]["peak"], rows["mutating"]["full_s"]) == (1, 3.0)
    over_time = ds.inflight(every="5s", max_requests_inflight=3)
    assert over_time.select("readonly_peak", "mutating_peak", "readonly_full_s").rows() == [
        (3, 0, 2.0),
        (2, 1, 0.0),
    ]


def test_without_the_datadog_agent_the_seats_stay_free(sample: k8saudit.Dataset) -> None:
    """The what-if of the incident: the requests of one client left out, the latencies of the
    others as logged (without that load they would only be shorter)."""
    base = sample.inflight_peaks().filter(kind="readonly", is_total=False)
    without = sample.inflight_peaks(without="datadog-agent").filter(kind="readonly", is_total=False)
    assert base["peak"].to_list() == [400, 400]
    assert (without["peak"] < 200).all()
    assert (base["full_s"] > 5).all() and (without["full_s"] == 0).all()
    assert not any("datadog-agent" in h for h in without["top_holders"].to_list())


def test_the_total_is_the_sum_over_the_apiservers_at_each_instant(tmp_path: Path) -> None:
    """The total peak of an interval is the most in flight at one instant over all apiservers,
    not the sum of each one's peak (at different instants)."""
    get = {"verb": "get", "requestURI": "/api/v1/namespaces/default/pods/p"}
    create = {"verb": "create", "requestURI": "/api/v1/namespaces/default/pods"}
    a = [*_request("a1", 0, 10, **get), *_request("a2", 2, 6, **get)]
    b = [
        *_request("b1", 1, 3, **get),  # 0-5 s: a1, a2, b1 all in flight from 2 s to 3 s
        *_request("b2", 7, 8, **get),  # 5-10 s: a1, a2 at 5 s; a1, b2 at 7 s; never 3
        *_request("bm", 1, 2, **create),
    ]
    for server in ("apiserver-a", "apiserver-b"):
        (tmp_path / server).mkdir()
    logs = [jsonl(tmp_path / "apiserver-a" / "audit.log", a),
            jsonl(tmp_path / "apiserver-b" / "audit.log", b)]  # fmt: skip
    k8saudit.ingest(logs, dataset=tmp_path / "ds")
    ds = k8saudit.open(tmp_path / "ds")
    over_time = ds.inflight(every="5s", max_requests_inflight=2)
    assert over_time.select(
        "apiserver", "readonly_peak", "mutating_peak", "readonly_full_s", "seated", "is_total"
    ).rows() == [
        ("apiserver-a", 2, 0, 3.0, 2, False),  # a1, a2 from 2 s to 5 s: every seat taken
        ("apiserver-b", 1, 1, 0.0, 2, False),
        ("(total)", 3, 1, None, 4, True),  # no limit of its own: none reached
        ("apiserver-a", 2, 0, 1.0, 0, False),
        ("apiserver-b", 1, 0, 0.0, 1, False),
        ("(total)", 2, 0, None, 1, True),
    ]
    peaks = ds.inflight_peaks(max_requests_inflight=2).filter(kind="readonly")
    assert peaks.select("apiserver", "peak", "seat_limit", "full_s", "extra_429s").rows() == [
        ("apiserver-a", 2, 2, 4.0, 0),  # a1 and a2 from 2 s to 6 s
        ("apiserver-b", 1, 2, 0.0, 0),
        ("(total)", 3, None, None, None),
    ]
    total = peaks.row(2, named=True)
    assert total["peak_at"] == datetime(2019, 2, 4, 12, 0, 2, tzinfo=UTC)
    assert total["top_holders"] == "rest-client (logging:fluentd) 3"
    # --no-totals: the same rows per apiserver, without the second sweep's
    per_server = ds.inflight(every="5s", max_requests_inflight=2, totals=False)
    assert per_server.equals(over_time.filter(is_total=False))
    no_totals = ds.inflight_peaks(max_requests_inflight=2, totals=False)
    assert no_totals.equals(ds.inflight_peaks(max_requests_inflight=2).filter(is_total=False))
    code, out, err = run_cli("inflight-peaks", "--dataset", str(tmp_path / "ds"),
                             "--no-totals", "--format", "csv")  # fmt: skip
    assert code == 0, err
    assert [line.split(",")[0] for line in out.splitlines()] == [
        "apiserver", "apiserver-a", "apiserver-b", "apiserver-b"  # no (total) rows
    ]  # fmt: skip


def test_the_sample_total_matches_a_sweep_of_its_own(sample: k8saudit.Dataset) -> None:
    """Each interval's total peak against a sweep in Python over the same requests."""
    held = sample.sql(
        "SELECT verb IN ('get', 'list', 'watch') AS readonly, epoch_us(received_at) AS t0, "
        "epoch_us(coalesce(completed_at, (SELECT max(last) FROM observation))) AS t1 "
        "FROM requests WHERE NOT is_long_running AND code IS DISTINCT FROM 429"
    )
    minute = 60_000_000
    expected: dict[tuple[int, bool], int] = {}
    for readonly in (True, False):
        pool = held.filter(readonly=readonly)
        changes = sorted([(t, 1) for t in pool["t0"]] + [(t, -1) for t in pool["t1"]])
        level, i = 0, 0
        while i < len(changes):  # the changes of one instant net out first
            instant = changes[i][0]
            while i < len(changes) and changes[i][0] == instant:
                level += changes[i][1]
                i += 1
            key = (instant // minute, readonly)
            expected[key] = max(expected.get(key, 0), level)
    totals = sample.inflight(every="1m").filter(is_total=True)
    assert totals.height == 5
    for row in totals.iter_rows(named=True):
        start = int(row["interval_start"].timestamp()) * 1_000_000 // minute
        assert row["readonly_peak"] == expected[(start, True)]
        assert row["mutating_peak"] == expected[(start, False)]
    assert totals["readonly_peak"].max() == 800


def _access(audit_id: str, verb: str, end: str, seats: int) -> str:
    """An access-log line for request `audit_id`, completed at 12:00:`end`, with its seats."""
    return (
        f'I0204 12:00:{end}      11 httplog.go:132] "HTTP" verb="{verb}" URI="/api/v1/pods" '
        f'latency="1s" userAgent="kubelet/v1.28.0" audit-ID="{audit_id}" srcIP="10.0.0.7:4321" '
        f'apf_pl="workload-low" apf_fs="service-accounts" apf_iseats={seats} apf_fseats=0 '
        'apf_additionalLatency="0s" apf_execution_time="1s" resp=200'
    )


def test_seats_weigh_each_request_by_its_apf_seats(tmp_path: Path) -> None:
    """Seat-weighted peaks from the access log's apf_iseats; a request no line states counts
    one seat."""
    lists = {"verb": "list", "requestURI": "/api/v1/pods"}
    get = {"verb": "get", "requestURI": "/api/v1/namespaces/default/pods/p"}
    events = [
        *_request("a", 0, 10, **lists),  # 10 seats
        *_request("b", 2, 6, **get),  # 1 seat
        *_request("c", 3, 5, **lists),  # 4 seats
        *_request("d", 4, 8, **get),  # no access line: 1 seat
        *_request("m", 1, 3, verb="create", requestURI="/api/v1/namespaces/default/pods"),
    ]
    access = [
        _access("a", "LIST", "10.000000", 10),
        _access("b", "GET", "06.000000", 1),
        _access("c", "LIST", "05.000000", 4),
        _access("m", "POST", "03.000000", 2),
    ]
    logs = [jsonl(tmp_path / "audit.log", events),
            write_lines(tmp_path / "kube-apiserver.log", access)]  # fmt: skip
    k8saudit.ingest(logs, dataset=tmp_path / "ds")
    over_time = k8saudit.open(tmp_path / "ds").inflight(every="5s")
    # readonly seats: 10 from 0 s, 11 from 2 s, 15 from 3 s, 16 from 4 s (a, b, c, d), 12
    # from 5 s (a, b, d), 11 from 6 s, 10 from 8 s; in requests the peaks are 4 and 3
    assert over_time.select(
        "readonly_peak", "readonly_seats_peak", "mutating_peak", "mutating_seats_peak"
    ).rows() == [(4, 16, 1, 2), (3, 12, 0, 0)]


def test_absurd_seats_add_up_exactly_or_not_at_all(tmp_path: Path) -> None:
    """Stated seats of any size an access log can hold (nine digits) add up exactly, and a
    request completed before it was received (a broken log) holds no seat: it never takes
    the level below zero. Seats that could not all be added exactly (2^31 of them beyond the
    first, with the requests) are not guessed: the requests in flight stay exact, their seats
    are NULL."""
    lists = {"verb": "list", "requestURI": "/api/v1/pods"}
    events = [
        *_request("a", 0, 7, **lists),
        *_request("b", 1, 9, **lists),
        *_request("c", 2, 1.5, **lists),  # completed half a second before it was received
        *_request("m", 5, 4.5, verb="create", requestURI="/api/v1/namespaces/default/pods"),
    ]
    access = [
        _access("a", "LIST", "07.000000", 999_999_999),
        _access("b", "LIST", "09.000000", 999_999_998),
    ]
    logs = [jsonl(tmp_path / "audit.log", events),
            write_lines(tmp_path / "kube-apiserver.log", access)]  # fmt: skip
    k8saudit.ingest(logs, dataset=tmp_path / "ds")
    ds = k8saudit.open(tmp_path / "ds")
    by_3s = ds.inflight(every="3s", totals=False)
    # a from 0 s, b from 1 s (c at 2 s for no time), a ends at 7 s, b at 9 s
    assert by_3s.select("readonly_peak", "readonly_seats_peak").rows() == [
        (2, 1_999_999_997), (2, 1_999_999_997), (2, 1_999_999_997)
    ]  # fmt: skip
    peaks = ds.inflight_peaks(totals=False).filter(kind="readonly")
    assert peaks.select("peak", "seats_peak").rows() == [(2, 1_999_999_997)]
    # m alone in its pool, broken the same way: never -1 in flight (it was from 4.5 s to 5 s)
    assert ds.inflight(every="1s")["mutating_peak"].to_list() == [0] * 9

    # a third such request: 2^31 seats beyond the first are more than one sum carries
    events += _request("d", 3, 4, **lists)
    access.append(_access("d", "LIST", "04.000000", 999_999_997))
    (tmp_path / "again").mkdir()
    logs = [jsonl(tmp_path / "again" / "audit.log", events),
            write_lines(tmp_path / "again" / "kube-apiserver.log", access)]  # fmt: skip
    k8saudit.ingest(logs, dataset=tmp_path / "ds2")
    ds = k8saudit.open(tmp_path / "ds2")
    by_3s = ds.inflight(every="3s", totals=False)
    assert by_3s.select("readonly_peak", "readonly_seats_peak").rows() == [
        (2, None), (3, None), (2, None)
    ]  # fmt: skip
    peaks = ds.inflight_peaks(totals=False).filter(kind="readonly")
    assert peaks.select("peak", "seats_peak").rows() == [(3, None)]


def test_simulate_output_matches_its_ground_truth(tmp_path: Path) -> None:
    """On fresh `simulate` output with three apiservers (not only the committed sample), each
    apiserver's peak is the one the simulator counted from its own schedule, and the total is at
    least the highest of them and at most their sum."""
    result = simulate(tmp_path / "logs", nodes=40, duration="3m", seed=11, apiservers=3)
    k8saudit.ingest([tmp_path / "logs"], dataset=tmp_path / "ds")
    peaks = k8saudit.open(tmp_path / "ds").inflight_peaks()
    truth = result.ground_truth["inflight_peak"]["by_apiserver"]
    assert len(truth) == 3
    per_server = {
        (r["apiserver"], r["kind"]): r["peak"]
        for r in peaks.filter(is_total=False).iter_rows(named=True)
    }
    assert per_server == {
        (server, kind): peak for server, pools in truth.items() for kind, peak in pools.items()
    }
    for row in peaks.filter(is_total=True).iter_rows(named=True):
        mine = [pools[row["kind"]] for pools in truth.values()]
        assert max(mine) <= row["peak"] <= sum(mine)


def test_a_reader_of_both_keeps_the_seconds_once(sample: k8saudit.Dataset) -> None:
    """Inside `keeping()` (the report) the peaks and the intervals read one table of seconds
    per filters and limits, and get the rows they get without it; it is dropped after."""
    alone = (sample.inflight_peaks(totals=False), sample.inflight(every="1m", totals=False))

    def kept() -> int:
        query = "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'k8saudit_kept_%'"
        return int(sample.duckdb.execute(query).fetchall()[0][0])

    with sample.keeping():
        peaks = sample.inflight_peaks(totals=False)
        assert kept() == 1
        over_time = sample.inflight(every="1m", totals=False)
        assert kept() == 1  # the same filters and limits: the same seconds
        lower = sample.inflight(every="1m", totals=False, max_requests_inflight=300)
        assert kept() == 2  # another limit: seconds of its own
    assert kept() == 0
    assert peaks.equals(alone[0]) and over_time.equals(alone[1])
    assert lower.equals(sample.inflight(every="1m", totals=False, max_requests_inflight=300))


def test_the_intervals_are_whole_seconds(sample: k8saudit.Dataset, sample_dataset: Path) -> None:
    with pytest.raises(QueryError, match="whole seconds"):
        sample.inflight(every="1500ms")
    code, out, err = run_cli("inflight", "--every", "2.5s", "--dataset", str(sample_dataset))
    assert code == 5 and not out
    assert err.strip().count("\n") <= 1 and "whole seconds (1s, 10s, 1m...)" in err
    # the seconds make up any whole number of them: 2 s are the most of their two seconds
    by_second = sample.inflight(every="1s", totals=False)
    halves = (
        by_second.group_by(pl.col("interval_start").dt.truncate("2s"), "apiserver")
        .agg(pl.col("readonly_peak", "mutating_peak").max())
        .sort("interval_start", "apiserver")
    )
    pairs = sample.inflight(every="2s", totals=False).select(halves.columns)
    assert pairs.sort("interval_start", "apiserver").equals(halves)


#: DuckDB's time_bucket origin (2000-01-03 00:00:00 UTC) in microseconds since the epoch
_ORIGIN_US = 946_857_600_000_000
_NOON = datetime(2019, 2, 4, 12, tzinfo=UTC)


def _levels(held: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """A sweep in Python: (instant, level from then on, arrivals then) of one pool, the
    changes of one instant netted out first."""
    changes: dict[int, list[int]] = {}
    for t0, t1 in held:
        changes.setdefault(t0, [0, 0])[0] += 1
        changes.setdefault(t1, [0, 0])[1] += 1
    level, out = 0, []
    for instant in sorted(changes):
        arrived, completed = changes[instant]
        level += arrived - completed
        out.append((instant, level, arrived))
    return out


def _reference(
    held: list[tuple[int, int]], step: int, limit: int, window_end: int
) -> tuple[dict[int, tuple[int, int]], tuple[int, int, int, int] | None]:
    """Per interval of ``step`` us: (peak, us at or above ``limit``); and the pool's (peak,
    first instant of it, us full, arrivals that found every seat taken by the others), None
    when no level begins before ``window_end`` (the window is [first, last) instant). Each
    level holds until the next change; the last one, at no length."""
    swept = _levels(held)
    levels = [level for level in swept if level[0] < window_end]
    intervals: dict[int, tuple[int, int]] = {}
    if not levels:
        return intervals, None
    for i, (instant, level, _) in enumerate(levels):
        end = min(swept[i + 1][0] if i + 1 < len(swept) else instant, window_end)
        start = instant - (instant - _ORIGIN_US) % step
        while True:  # the interval it begins in, then those it goes on into
            peak, full = intervals.get(start, (0, 0))
            inside = max(min(end, start + step) - max(instant, start), 0)
            intervals[start] = (max(peak, level), full + (inside if level >= limit else 0))
            start += step
            if start >= end:
                break
    peak = max(level for _, level, _ in levels)
    first = min(instant for instant, level, _ in levels if level == peak)
    full = sum(f for _, f in intervals.values())
    # the requests received at t that found `limit` others in flight: received before t and
    # not completed by then (one received and completed at t is not one of them)
    found = sum(a for t, _, a in levels if a and sum(t0 < t < t1 for t0, t1 in held) >= limit)
    return intervals, (peak, first, full, found)


_requests = st.lists(
    st.tuples(
        st.one_of(st.integers(0, 8_000_000), st.sampled_from([1_000_000, 2_000_000, 2_500_000])),
        st.one_of(st.integers(0, 4_000_000), st.sampled_from([0, 1_000_000]), st.none()),
        st.booleans(),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_requests, st.sampled_from([1, 2, 3, 5]), st.integers(1, 4), st.integers(1, 3))
def test_the_seconds_give_a_sweeps_own_answer(
    requests: list[tuple[int, int | None, bool]], every: int, ro_limit: int, mu_limit: int
) -> None:
    """Requests of any length, some never completed, many at once or on a second's edge:
    each interval's peaks and seconds full, and the peaks of each pool, are those of a sweep
    in Python over the same requests."""

    def at(us: int) -> str:
        return (_NOON + timedelta(microseconds=us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    events = []
    for i, (start, length, readonly) in enumerate(requests):
        what = {"verb": "get"} if readonly else {"verb": "create", "requestURI": "/api/v1/pods"}
        times = {"requestReceivedTimestamp": at(start)}
        events.append(event(f"r{i}", "RequestReceived", stageTimestamp=at(start), **times, **what))
        if length is not None:
            events.append(event(f"r{i}", stageTimestamp=at(start + length), **times, **what))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ds"
        k8saudit.ingest([jsonl(Path(tmp) / "audit.log", events)], dataset=root)
        ds = k8saudit.open(root)
        end = int(ds.sql("SELECT epoch_us(max(last)) AS e FROM observation").item())
        limits = {"max_requests_inflight": ro_limit, "max_mutating_requests_inflight": mu_limit}
        over_time = ds.inflight(every=f"{every}s", **limits)
        peaks = ds.inflight_peaks(**limits)
    noon = int(_NOON.timestamp()) * 1_000_000
    expected_rows: dict[int, dict[str, Any]] = {}
    for readonly, limit in ((True, ro_limit), (False, mu_limit)):
        held = [
            (noon + start, noon + start + length if length is not None else end)
            for start, length, ro in requests
            if ro == readonly
        ]
        if not held:
            continue
        kind = "readonly" if readonly else "mutating"
        intervals, pool = _reference(held, every * 1_000_000, limit, end)
        for start, (interval_peak, interval_full) in intervals.items():
            row = expected_rows.setdefault(start, {"readonly": (0, 0), "mutating": (0, 0)})
            row[kind] = (interval_peak, interval_full)
        if pool is None:
            assert peaks.filter(kind=kind).height == 0
            continue
        peak, first, full, found = pool
        got = peaks.filter(kind=kind).row(0, named=True)
        assert (got["peak"], got["extra_429s"]) == (peak, found)
        assert got["peak_at"] == datetime.fromtimestamp(first / 1e6, UTC)
        assert abs(got["full_s"] - full / 1e6) < 0.0011
    assert over_time["interval_start"].to_list() == [
        datetime.fromtimestamp(s / 1e6, UTC) for s in sorted(expected_rows)
    ]
    for got, start in zip(over_time.iter_rows(named=True), sorted(expected_rows), strict=True):
        want = expected_rows[start]
        assert (got["readonly_peak"], got["mutating_peak"]) == (
            want["readonly"][0],
            want["mutating"][0],
        )
        assert abs(got["readonly_full_s"] - want["readonly"][1] / 1e6) < 0.0011
        assert abs(got["mutating_full_s"] - want["mutating"][1] / 1e6) < 0.0011
