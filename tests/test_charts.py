"""The charts: their data reconciles with the dataset, stays small whatever its size, gives a
client one colour everywhere and reads time in UTC; ``k8saudit chart`` writes PNG, SVG and
HTML offline."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import k8saudit
from k8saudit.charts import MAX_ROWS, OTHERS, chart_names
from tests.helpers import event, jsonl, run_cli

pytest.importorskip("altair")
pytest.importorskip("vl_convert")


def data_rows(spec: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Every inline dataset of a Vega-Lite spec (``data.values``, wherever it is)."""
    found: list[list[dict[str, Any]]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("values"), list):
                found.append(node["values"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return found


def colours(spec: dict[str, Any]) -> dict[str, str]:
    """The colour each group has in a spec (its colour scale's domain and range)."""
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            scale = node.get("scale") if node.get("type") == "nominal" else None
            if isinstance(scale, dict) and "domain" in scale and "range" in scale:
                found.update(zip(scale["domain"], scale["range"], strict=True))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return found


@pytest.fixture(scope="module")
def ds(sample_dataset: Path) -> k8saudit.Dataset:
    return k8saudit.open(sample_dataset)


def test_the_charts() -> None:
    assert chart_names() == [
        "timeline", "throttling", "inflight", "latency", "errors", "pollers", "heatmap",
        "open_watches",
    ]  # fmt: skip


def test_timeline_counts_every_request_once(ds: k8saudit.Dataset) -> None:
    band, area = data_rows(ds.chart("timeline").to_dict())
    # 5 minutes in 5 s intervals (at most 100 of them), 8 clients apart and the rest together
    assert len({row["interval_start"] for row in area}) == 60
    assert len({row["label"] for row in area}) == 9
    assert sum(row["requests"] for row in area) == 30_573
    assert sum(row["throttled"] for row in area) == 528
    assert sum(row["interval_throttled"] for row in band) == 528  # the red band: 429 intervals
    assert {row["label"] for row in area if row["is_other"]} == {OTHERS}


def test_each_chart_draws_the_dataset(ds: k8saudit.Dataset) -> None:
    (throttled,) = data_rows(ds.chart("throttling").to_dict())
    assert sum(row["throttled"] for row in throttled) == 528
    (heatmap,) = data_rows(ds.chart("heatmap").to_dict())  # the busiest client: kubelet
    assert sum(row["requests"] for row in heatmap) == 16_834
    (inflight,) = data_rows(ds.chart("inflight").to_dict())
    assert max(r["in_flight"] for r in inflight if r["pool"] == "readonly") == 400
    assert {r["limit"] for r in inflight} == {400, 200}
    (errors,) = data_rows(ds.chart("errors").to_dict())
    assert sum(row["requests"] for row in errors) == 30_573
    (pollers,) = data_rows(ds.chart("pollers").to_dict())
    assert len(pollers) == 10
    (watches,) = data_rows(ds.chart("open_watches", limit=3).to_dict())
    assert len({row["label"] for row in watches}) == 3


def test_a_client_has_one_colour_in_every_chart(ds: k8saudit.Dataset) -> None:
    seen = [colours(ds.chart(name).to_dict()) for name in ("timeline", "throttling", "pollers")]
    for chart in seen:
        assert chart["datadog-agent"] == "#ff7f0e"
        assert chart["kubelet"] == "#1f77b4"
    # and so under a filter that changes which clients are busiest
    filtered = colours(ds.chart("timeline", without="kubelet").to_dict())
    assert filtered["datadog-agent"] == "#ff7f0e"
    assert "kubelet" not in filtered


@pytest.mark.parametrize("name", ["timeline", "throttling", "errors"])
def test_every_interval_is_drawn_to_its_end(ds: k8saudit.Dataset, name: str) -> None:
    # bars from each interval's start to its end: a step-after area drew the last interval
    # with no width (each point until the next), and held a value over an interval with no row
    spec = ds.chart(name, every="1m").to_dict()
    marks = [layer for layer in spec.get("layer", [spec]) if "interval_end" in json.dumps(layer)]
    drawn = marks[-1]
    assert drawn["mark"]["type"] == "rect"
    assert drawn["encoding"]["x2"]["field"] == "interval_end"
    (rows,) = data_rows(drawn)
    last = max(row["interval_start"] for row in rows)
    assert {row["interval_end"] for row in rows if row["interval_start"] == last} == {
        "2019-02-04T12:05:00+00:00"
    }


def test_the_inflight_lines_reach_the_end_of_the_last_interval(ds: k8saudit.Dataset) -> None:
    (rows,) = data_rows(ds.chart("inflight", every="1m").to_dict())
    for apiserver in ("apiserver-1", "apiserver-2"):
        mine = [row for row in rows if row["apiserver"] == apiserver]
        # the 12:04 interval, then a point at its end with the same peaks
        assert max(row["interval_start"] for row in mine) == "2019-02-04T12:05:00+00:00"
        ends = {
            (r["pool"], r["in_flight"]) for r in mine if r["interval_start"].endswith("05:00+00:00")
        }
        last = {
            (r["pool"], r["in_flight"]) for r in mine if r["interval_start"].endswith("04:00+00:00")
        }
        assert ends == last and len(ends) == 2


def test_latency_shades_the_intervals_of_requests_without_completion(
    ds: k8saudit.Dataset,
) -> None:
    # 1,003 of the 27,706 non-long-running requests have no completion in the logs: received
    # from 12:04:15 on and still running when they end, where the percentiles of the rest fall
    # to the 429s alone (p50 0.2 ms in the last 5 s)
    band, lines = data_rows(ds.chart("latency").to_dict())
    assert sum(row["latency_unknown"] for row in band) == 1_003
    assert min(row["at"] for row in band) == "2019-02-04 12:04:15 UTC"
    assert all(0 < row["latency_unknown"] <= row["timed"] for row in band)
    assert {row["at"] for row in band} < {row["at"] for row in lines}
    (last,) = [row for row in band if row["at"] == "2019-02-04 12:04:55 UTC"]
    assert (last["latency_unknown"], last["timed"]) == (444, 470)


def test_pollers_bubbles_stay_inside_the_axes(ds: k8saudit.Dataset) -> None:
    # redis-operator polls every second from one source: its bubble sits at the corner (1, 1)
    spec = ds.chart("pollers").to_dict()
    (pollers,) = data_rows(spec)
    assert {(r["period_s"], r["sources"]) for r in pollers if r["client"] == "redis-operator"} == {
        (1.0, 1)
    }
    radius = math.sqrt(spec["encoding"]["size"]["scale"]["range"][1] / math.pi)  # the largest
    for axis in ("x", "y"):
        scale = spec["encoding"][axis]["scale"]
        assert scale["type"] == "log"
        assert scale["padding"] >= radius  # pixels past the data, for a bubble at an edge
        assert scale["nice"] is False  # a nice domain would stretch it to a whole decade
    assert spec["encoding"]["y"]["scale"]["domain"] == [1, 200]
    # the series the report draws (diagnose's, 5 % and more) all come from the 200 nodes: their
    # axis spans a factor of 4 around them, not a single value
    few = ds.chart("pollers", min_share=0.05).to_dict()
    assert {r["sources"] for r in data_rows(few)[0]} == {200}
    assert few["encoding"]["y"]["scale"]["domain"] == [100, 400]


def test_time_axes_are_utc_and_say_so(ds: k8saudit.Dataset) -> None:
    for name in ("timeline", "throttling", "latency", "errors", "open_watches"):
        text = json.dumps(ds.chart(name).to_dict())
        assert '"title": "time (UTC)"' in text
        assert '"scale": {"type": "utc"}' in text, name


@pytest.fixture(scope="module")
def long_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 days of requests from 50 clients, one every 20 minutes: more intervals and groups
    than any chart may draw."""
    folder = tmp_path_factory.mktemp("long")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    events = []
    for i in range(60 * 24 * 3):
        at = start + timedelta(minutes=20 * i)
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        done = (at + timedelta(milliseconds=50 + i % 7)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        verb = "watch" if i % 5 == 0 else "list"
        events.append(
            event(f"id-{i}", verb=verb, userAgent=f"client-{i % 50}/1.0",
                  requestReceivedTimestamp=stamp, stageTimestamp=done,
                  responseStatus={"metadata": {}, "code": 429 if i % 11 == 0 else 200})
        )  # fmt: skip
    jsonl(folder / "audit.log", events)
    root = folder / "ds"
    k8saudit.ingest([folder / "audit.log"], dataset=root)
    return root


@pytest.mark.parametrize("name", chart_names())
def test_a_chart_stays_small_whatever_the_data(long_dataset: Path, name: str) -> None:
    with k8saudit.open(long_dataset) as ds:
        spec = ds.chart(name).to_dict()
    rows = sum(len(values) for values in data_rows(spec))
    assert 0 < rows <= MAX_ROWS
    if name == "timeline":  # 60 days in 1-day intervals, 8 clients apart and the rest
        assert len({r["interval_start"] for r in data_rows(spec)[1]}) == 60
        assert rows <= 60 * 9 + 60


def test_too_many_intervals_is_a_usage_error(ds: k8saudit.Dataset) -> None:
    with pytest.raises(k8saudit.K8sAuditError, match="3,000 intervals; a chart draws at most"):
        ds.chart("timeline", every="100ms")
    with pytest.raises(k8saudit.K8sAuditError, match="chart pollers takes no 'every'"):
        ds.chart("pollers", every="1m")
    with pytest.raises(k8saudit.K8sAuditError, match="no chart 'pie'"):
        ds.chart("pie")


@pytest.mark.parametrize("suffix", [".png", ".svg", ".html"])
def test_chart_command_writes_the_file(sample_dataset: Path, tmp_path: Path, suffix: str) -> None:
    output = tmp_path / f"timeline{suffix}"
    code, out, err = run_cli(
        "chart", "timeline", "--dataset", str(sample_dataset), "--output", str(output)
    )
    assert (code, out, err) == (0, f"{output}\n", "")
    data = output.read_bytes()
    if suffix == ".png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
    elif suffix == ".svg":
        assert b"<svg" in data[:200] and data.count(b"<path") > 60
    else:
        assert b"vegaEmbed" in data and b"https://cdn" not in data and b"<script src" not in data


def test_chart_command_errors_are_one_line(sample_dataset: Path, tmp_path: Path) -> None:
    code, out, err = run_cli(
        "chart",
        "heatmap",
        "--every",
        "1m",
        "-d",
        str(sample_dataset),
        "-o",
        str(tmp_path / "x.png"),
    )
    assert (code, out) == (2, "")
    assert err == "error: chart heatmap takes no 'every' (its options: only the filters)\n"
    code, _, err = run_cli("chart", "timeline", "-d", str(sample_dataset), "-o", "x.jpg")
    assert (code, err) == (2, "error: --output x.jpg: write a .png, .svg or .html file\n")
