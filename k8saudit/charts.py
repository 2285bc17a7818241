"""Charts: the analyses as pictures (altair), drawn from data DuckDB has already aggregated.

Each chart asks one library query for its data and returns an altair chart, ready for a
notebook, ``save_chart`` (PNG/SVG through vl-convert-python, offline; HTML self-contained) or
the report. Like ``k8saudit.analyses`` it knows only a connection (anything with ``sql``: a
``Dataset`` is one), so ``ds.chart("timeline")`` needs no import upward.

The data reaching a chart is small whatever the size of the dataset: intervals are chosen so
that the window has at most ``AUTO_INTERVALS`` of them (an ``every`` of one's own may make up
to ``MAX_INTERVALS``), groups are the top ``limit`` and the rest together
(``queries/_chart_series.sql``), and a chart whose data would still exceed ``MAX_ROWS`` rows
is refused. SQL counts; Python only reshapes rows (wide to long) and picks colours.

A client has one colour in every chart of a dataset: the twenty groups with the most requests
of the whole dataset (``queries/_chart_palette.sql``, whatever a chart's filters) take the
palette in that order, any other group a colour from its name, the rest together grey. Time
axes are UTC and say so.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k8saudit.analyses import Connection, bind_query, read_internal, run_query
from k8saudit.durations import parse_duration
from k8saudit.exceptions import UsageError
from k8saudit.query_loader import load_all

if TYPE_CHECKING:
    import altair as alt
    import polars as pl

#: intervals a chart's window is cut into when no ``every`` is given (at most)
AUTO_INTERVALS = 100
#: the most intervals an ``every`` of one's own may cut a window into
MAX_INTERVALS = 1000
#: the most rows of data a chart carries
MAX_ROWS = 5000
#: interval lengths a chart picks from, shortest first
STEPS = (
    "1s",
    "2s",
    "5s",
    "10s",
    "15s",
    "30s",
    "1m",
    "2m",
    "5m",
    "10m",
    "15m",
    "30m",
    "1h",
    "2h",
    "3h",
    "6h",
    "12h",
    "1d",
    "2d",
    "7d",
    "14d",
    "28d",
)
#: the colours of the groups with the most requests, in their order (none grey: that is the rest)
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#dbdb8d",
    "#9edae5",
    "#393b79",
    "#637939",
)
OTHER_COLOUR = "#b0b0b0"
THROTTLED_COLOUR = "#e45756"
#: what the rest of the groups are called in a legend
OTHERS = "(all others)"
#: the pollers chart's bubbles, smallest and largest, in square pixels
BUBBLE_AREA = (30, 2500)
WIDTH, HEIGHT = 720, 280


@dataclass(frozen=True)
class ChartKind:
    """One chart of the library: its name, what it shows, the options it takes besides the
    common filters, and the function that draws it."""

    name: str
    description: str
    options: tuple[str, ...]
    draw: Callable[[_Request], alt.TopLevelMixin]


class _Request:
    """One chart being drawn: the connection, the dataset's memo, the options given."""

    def __init__(self, con: Connection, memo: dict[str, Any], params: Mapping[str, Any]) -> None:
        self.con = con
        self.memo = memo
        self.params = {k: v for k, v in params.items() if v is not None}
        self.filters = {k: v for k, v in self.params.items() if k in filter_names()}
        self.span: timedelta | None = None  # the window's length, once ``every`` is known

    def option(self, name: str, default: Any) -> Any:
        return self.params.get(name, default)

    def run(self, query: str, **values: Any) -> pl.DataFrame:
        """The rows of ``query`` with the chart's filters and ``values``; too many is an error."""
        bound = {**self.filters, **values}
        if query.startswith("_"):  # a part of the library made for the charts
            frame = read_internal(self.con, query, self.memo, bound)
        else:
            frame = run_query(self.con, query, bound, self.memo)
        if frame.height > MAX_ROWS:
            raise UsageError(
                f"a chart draws at most {MAX_ROWS:,} rows; this one has {frame.height:,}",
                hint="give a longer --every or a smaller --limit",
            )
        return frame

    def every(self) -> str:
        """The interval length: the one given, or the shortest of ``STEPS`` that cuts the
        window into at most ``AUTO_INTERVALS``."""
        bound = bind_query(self.con, "timeline", self.filters, self.memo)
        first, last = read_internal(self.con, "_observed_span", self.memo).row(0)
        if first is None:
            return self.option("every", "1m")
        start = max(first, bound["since"]) if bound["since"] else first
        end = min(last, bound["until"]) if bound["until"] else last
        span = max(end - start, timedelta(seconds=1))
        self.span = span
        given = self.params.get("every")
        if given is not None:
            step = parse_duration(given) if isinstance(given, str) else given
            if step is None or step <= timedelta(0):
                raise UsageError(f"--every {given!r}: not a duration", hint="e.g. 10s, 1m, 1h")
            if span / step > MAX_INTERVALS:
                raise UsageError(
                    f"--every {given}: {span / step:,.0f} intervals; a chart draws at most "
                    f"{MAX_INTERVALS:,}",
                    hint=f"leave --every out (a chart picks it) or give {_fitting(span)} or more",
                )
            return str(given) if isinstance(given, str) else f"{step.total_seconds():g}s"
        return _fitting(span)

    def palette(self, by: str) -> dict[str, str]:
        key = f"_chart_palette:{by}"
        if key not in self.memo:
            top = read_internal(self.con, "_chart_palette", self.memo, {"by": by})
            self.memo[key] = dict(zip(top["grp"].to_list(), PALETTE, strict=False))
        colours: dict[str, str] = self.memo[key]
        return colours

    def colour(self, field: str, labels: list[str], by: str = "client") -> alt.Color:
        """A colour encoding of ``field`` (whose values are ``labels``, in legend order) that
        gives each group its colour of the dataset."""
        import altair as alt

        colours = self.palette(by)
        scale = alt.Scale(domain=labels, range=[colour_of(x, colours) for x in labels])
        legend = alt.Legend(labelLimit=320)  # client names are long; show them whole
        return alt.Color(
            f"{field}:N", scale=scale, sort=labels, title=by.replace(",", ", "), legend=legend
        )


def filter_names() -> list[str]:
    """The common filters (``queries/_filters.sql``) every chart takes; ``by`` is a chart's own.

    >>> filter_names()[:3]
    ['since', 'until', 'verb']
    """
    return [p.name for p in load_all()["_filters"].options if p.name != "by"]


def _fitting(span: timedelta) -> str:
    for step in STEPS:
        length = parse_duration(step)
        assert length is not None
        if span / length <= AUTO_INTERVALS:
            return step
    return f"{-(-span.days // AUTO_INTERVALS)}d"


def colour_of(label: str, colours: Mapping[str, str]) -> str:
    """The colour of a group: its place among the dataset's busiest, else one from its name.

    >>> colour_of("kubelet", {"kubelet": "#1f77b4"}), colour_of(OTHERS, {})
    ('#1f77b4', '#b0b0b0')
    """
    if label == OTHERS:
        return OTHER_COLOUR
    return colours.get(label) or PALETTE[zlib.crc32(label.encode()) % len(PALETTE)]


def _values(frame: pl.DataFrame) -> alt.Data:
    """Rows for a spec; times as ISO 8601 text with their UTC offset (Vega parses it)."""
    import altair as alt

    rows = frame.to_dicts()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, datetime):
                row[key] = value.isoformat()
    return alt.Data(values=rows)


def _time(field: str = "interval_start", span: timedelta | None = None) -> alt.X:
    """A time axis in UTC that says so; labelled with the date only when the span has days."""
    import altair as alt

    if span is not None and span <= timedelta(hours=1):
        fmt = "%H:%M:%S"
    else:
        fmt = "%H:%M" if span is None or span <= timedelta(days=1) else "%b %d %H:%M"
    return alt.X(
        f"{field}:T", title="time (UTC)", scale=alt.Scale(type="utc"), axis=alt.Axis(format=fmt)
    )


def _utc_text(frame: pl.DataFrame, field: str = "interval_start") -> pl.DataFrame:
    import polars as pl

    return frame.with_columns(
        pl.col(field).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S UTC").alias("at")
    )


def _series(request: _Request, rank: str, limit: int) -> tuple[pl.DataFrame, str, list[str]]:
    """``_chart_series`` with each row's legend label, the grouping, the labels in order."""
    import polars as pl

    every = request.every()
    by = request.option("by", "client")
    frame = request.run("_chart_series", every=every, limit=limit, rank=rank, by=by)
    step = parse_duration(every)
    frame = _utc_text(frame).with_columns(
        pl.when(pl.col("is_other")).then(pl.lit(OTHERS)).otherwise(pl.col("grp")).alias("label"),
        (pl.col("interval_start") + step).alias("interval_end"),
    )
    ranked = frame.select("group_rank", "label").unique().sort("group_rank")
    return frame, str(by), ranked["label"].to_list()


def _throttled_band(frame: pl.DataFrame, span: timedelta | None) -> alt.Chart:
    import altair as alt

    band = frame.filter(frame["interval_throttled"] > 0).select(
        "interval_start", "interval_end", "at", "interval_throttled"
    )
    return (
        alt.Chart(_values(band.unique().sort("interval_start")))
        .mark_rect(color=THROTTLED_COLOUR, opacity=0.18)
        .encode(
            x=_time(span=span),
            x2="interval_end:T",
            tooltip=[
                alt.Tooltip("at:N", title="interval"),
                alt.Tooltip("interval_throttled:Q", title="429s (all clients)"),
            ],
        )
    )


def timeline_chart(request: _Request) -> alt.TopLevelMixin:
    """Requests per second over time, stacked: the busiest groups apart, the rest together;
    the intervals with 429s shaded red behind."""
    import altair as alt

    limit = int(request.option("limit", 8))
    frame, by, labels = _series(request, "requests", limit)
    bars = _stacked_intervals(
        frame,
        "req_per_s",
        "requests per second",
        request.colour("label", labels, by),
        request.span,
        [
            "at:N",
            alt.Tooltip("label:N", title=by),
            "requests:Q",
            alt.Tooltip("req_per_s:Q", format=".1f"),
            alt.Tooltip("throttled:Q", title="429s"),
        ],
    )
    title = alt.TitleParams(
        f"Requests per second by {by}: the {limit} busiest apart",
        subtitle="shaded red: intervals in which requests got 429 (throttled)",
    )
    return alt.layer(_throttled_band(frame, request.span), bars).properties(
        title=title, width=WIDTH, height=HEIGHT
    )


def _stacked_intervals(
    frame: pl.DataFrame,
    field: str,
    title: str,
    colour: alt.Color,
    span: timedelta | None,
    tooltip: list[Any],
) -> alt.Chart:
    """The rows of ``frame`` (``_series``) as bars from each interval's start to its end, as
    high as ``field``, its groups stacked by rank: stacked by hand, since Vega-Lite stacks only
    bars of one band, not of an x-x2 span. (A step-after area would draw the last interval with
    no width: it draws each point until the next.)"""
    import altair as alt

    return (
        alt.Chart(_values(frame))
        .transform_stack(
            stack=field,
            groupby=["interval_start"],
            sort=[alt.SortField("group_rank")],
            as_=["below", "above"],
        )
        .mark_rect()
        .encode(
            x=_time(span=span),
            x2="interval_end:T",
            y=alt.Y("below:Q", title=title),
            y2="above:Q",
            color=colour,
            tooltip=tooltip,
        )
    )


def throttling_chart(request: _Request) -> alt.TopLevelMixin:
    """429s per interval, stacked by the groups that got the most of them."""
    import altair as alt

    limit = int(request.option("limit", 8))
    frame, by, labels = _series(request, "throttled", limit)
    frame = frame.filter(frame["throttled"] > 0)
    return _stacked_intervals(
        frame,
        "throttled",
        "requests that got 429",
        request.colour("label", labels, by),
        request.span,
        [
            "at:N",
            alt.Tooltip("label:N", title=by),
            alt.Tooltip("throttled:Q", title="429s"),
            "requests:Q",
        ],
    ).properties(
        title=f"429s (throttled requests) per interval, by {by}",
        width=WIDTH,
        height=HEIGHT,
    )


def inflight_chart(request: _Request) -> alt.TopLevelMixin:
    """Per apiserver, the most requests in flight in each interval against the limits (no
    '(total)' rows: the limits hold per apiserver, and they would take a second sweep)."""
    import altair as alt
    import polars as pl

    limits = {
        "readonly": int(request.option("max_requests_inflight", 400)),
        "mutating": int(request.option("max_mutating_requests_inflight", 200)),
    }
    frame = request.run(
        "inflight",
        every=request.every(),
        max_requests_inflight=limits["readonly"],
        max_mutating_requests_inflight=limits["mutating"],
        totals=False,
    )
    long = (
        _utc_text(frame)
        .unpivot(
            ["readonly_peak", "mutating_peak"],
            index=["interval_start", "at", "apiserver"],
            variable_name="pool",
            value_name="in_flight",
        )
        .with_columns(pl.col("pool").str.replace("_peak", ""))
        .with_columns(pl.col("pool").replace_strict(limits, return_dtype=pl.Int64).alias("limit"))
    )
    # a step-after line draws each point until the next: each apiserver's last interval gets
    # a point at its end too, or it would have no width
    last = long.filter(pl.col("interval_start") == pl.col("interval_start").max().over("apiserver"))
    step = parse_duration(request.every())
    long = pl.concat([long, last.with_columns(pl.col("interval_start") + step)])
    pools = alt.Scale(domain=["readonly", "mutating"], range=["#1f77b4", "#ff7f0e"])
    colour = alt.Color("pool:N", scale=pools, title="max-inflight pool")
    peaks = (
        alt.Chart()
        .mark_line(interpolate="step-after")
        .encode(
            x=_time(span=request.span),
            y=alt.Y("in_flight:Q", title="most in flight at once"),
            color=colour,
            tooltip=["at:N", "apiserver:N", "pool:N", "in_flight:Q", "limit:Q"],
        )
    )
    limit_lines = (
        alt.Chart()
        .mark_line(strokeDash=[6, 4], opacity=0.8)
        .encode(x=_time(span=request.span), y="limit:Q", color=colour)
    )
    layered = alt.layer(peaks, limit_lines, data=_values(long)).properties(
        width=WIDTH, height=HEIGHT * 0.6
    )
    return layered.facet(row=alt.Row("apiserver:N", title="apiserver")).properties(
        title=alt.TitleParams(
            "Requests in flight per apiserver against --max-requests-inflight",
            subtitle="dashed: the limit of each pool; at it, new requests get 429",
        )
    )


def _health(request: _Request) -> pl.DataFrame:
    import polars as pl

    every = request.every()
    frame = _utc_text(request.run("_chart_health", every=every))
    return frame.with_columns(
        (pl.col("interval_start") + parse_duration(every)).alias("interval_end")
    )


def latency_chart(request: _Request) -> alt.TopLevelMixin:
    """p50, p90 and p99 latency of non-long-running requests per interval (log scale); the
    intervals with requests whose latency the logs do not give shaded grey behind: their
    percentiles leave those out (at the end of the logs, the requests still running: there
    they read low, down to the 429s alone)."""
    import altair as alt
    import polars as pl

    health = _health(request)
    frame = health.unpivot(
        ["p50_ms", "p90_ms", "p99_ms"],
        index=["interval_start", "at"],
        variable_name="percentile",
        value_name="latency_ms",
    )
    frame = frame.filter(frame["latency_ms"] > 0)
    scale = alt.Scale(
        domain=["p50_ms", "p90_ms", "p99_ms"], range=["#54a24b", "#eeca3b", "#e45756"]
    )
    lines = (
        alt.Chart(_values(frame))
        .mark_line(point=False)
        .encode(
            x=_time(span=request.span),
            y=alt.Y("latency_ms:Q", scale=alt.Scale(type="log"), title="latency (ms, log scale)"),
            color=alt.Color("percentile:N", scale=scale, title="percentile"),
            tooltip=["at:N", "percentile:N", alt.Tooltip("latency_ms:Q", format=",.1f")],
        )
    )
    unknown = health.filter(pl.col("latency_unknown") > 0).select(
        "interval_start", "interval_end", "at", "latency_unknown", "timed"
    )
    band = (
        alt.Chart(_values(unknown))
        .mark_rect(color=OTHER_COLOUR, opacity=0.25)
        .encode(
            x=_time(span=request.span),
            x2="interval_end:T",
            tooltip=[
                alt.Tooltip("at:N", title="interval"),
                alt.Tooltip("latency_unknown:Q", title="requests of unknown latency"),
                alt.Tooltip("timed:Q", title="of non-long-running requests"),
            ],
        )
    )
    title = alt.TitleParams(
        "Latency of non-long-running requests per interval",
        subtitle="shaded grey: requests with no completion in the logs (still running when the "
        "logs end?), left out of the percentiles, which may read low there",
    )
    return alt.layer(band, lines).properties(title=title, width=WIDTH, height=HEIGHT)


def errors_chart(request: _Request) -> alt.TopLevelMixin:
    """5xx responses per second per interval."""
    import altair as alt

    return (
        # a bar over each interval (an interval without requests has no row, and no bar)
        alt.Chart(_values(_health(request)))
        .mark_rect(color="#d62728", opacity=0.7)
        .encode(
            x=_time(span=request.span),
            x2="interval_end:T",
            y=alt.Y("error_5xx_per_s:Q", title="5xx responses per second"),
            y2=alt.datum(0),
            tooltip=[
                "at:N",
                "requests:Q",
                alt.Tooltip("errors_5xx:Q", title="5xx"),
                alt.Tooltip("error_5xx_share:Q", format=".2%", title="5xx share"),
                alt.Tooltip("errors_4xx:Q", title="4xx"),
            ],
        )
        .properties(title="Server errors (5xx) per second", width=WIDTH, height=HEIGHT)
    )


def _log_span(values: pl.Series) -> list[float]:
    """The domain of a log axis over ``values`` (> 0): from the least to the greatest, or a
    factor of 4 around their geometric middle when they are closer than that (1 with none).

    >>> import polars as pl
    >>> _log_span(pl.Series([1, 60])), _log_span(pl.Series([200, 200])), _log_span(pl.Series([]))
    ([1.0, 60.0], [100.0, 400.0], [0.5, 2.0])
    """
    numbers = [float(value) for value in values.to_list()] or [1.0]
    low, high = min(numbers), max(numbers)
    if high < 4 * low:
        middle = math.sqrt(low * high)
        low, high = middle / 2, middle * 2
    return [low, high]


def pollers_chart(request: _Request) -> alt.TopLevelMixin:
    """The pollers: period against sources, each bubble as large as its req/s."""
    import altair as alt

    limit = int(request.option("limit", 40))
    # every series above min_share (at most 1 / min_share of them), the first limit drawn: the
    # same query diagnose asks, so a report runs it once
    options = {"min_share": request.params["min_share"]} if "min_share" in request.params else {}
    frame = request.run("pollers", limit=0, **options).head(limit)
    frame = frame.filter(frame["period_s"].is_not_null() & (frame["period_s"] > 0))
    labels = list(dict.fromkeys(frame["client"].to_list()))
    # the axes reach past the data by the largest bubble's radius (a series polling every
    # second from one source sits at the corner (1, 1), and was drawn half over the axes), over
    # at least a factor of 4 (DaemonSets on every node share one number of sources)
    padding = math.ceil(math.sqrt(BUBBLE_AREA[1] / math.pi))

    def axis(column: str) -> alt.Scale:
        return alt.Scale(type="log", nice=False, padding=padding, domain=_log_span(frame[column]))

    return (
        alt.Chart(_values(frame))
        .mark_circle(opacity=0.7, stroke="#333", strokeWidth=0.5)
        .encode(
            x=alt.X("period_s:Q", scale=axis("period_s"), title="period (s, log scale)"),
            y=alt.Y("sources:Q", scale=axis("sources"), title="sources (log scale)"),
            size=alt.Size("req_per_s:Q", title="req/s", scale=alt.Scale(range=list(BUBBLE_AREA))),
            color=request.colour("client", labels),
            tooltip=[
                "client:N",
                "operation:N",
                "cost_class:N",
                alt.Tooltip("period_s:Q", format=".1f"),
                alt.Tooltip("jitter_s:Q", format=".1f"),
                "sources:Q",
                alt.Tooltip("req_per_s:Q", format=".2f"),
                alt.Tooltip("request_share:Q", format=".1%"),
                alt.Tooltip("time_share:Q", format=".1%", title="API-server time share"),
            ],
        )
        .properties(
            title=alt.TitleParams(
                "Pollers: how often, from how many sources, how much",
                subtitle="one bubble per series; size: requests per second",
            ),
            width=WIDTH,
            height=HEIGHT + 60,
        )
    )


def heatmap_chart(request: _Request) -> alt.TopLevelMixin:
    """What one client asks: its requests by verb and resource (``client``; default the
    busiest)."""
    import altair as alt
    import polars as pl

    client = request.params.get("client") or next(iter(request.palette("client")), None)
    frame = request.run("_chart_heatmap", by="verb,resource", client=client, limit=MAX_ROWS)
    frame = frame.with_columns(
        pl.col("grp").str.split_exact(" | ", 1).struct.rename_fields(["verb", "resource"])
    ).unnest("grp")
    return (
        alt.Chart(_values(frame))
        .mark_rect()
        .encode(
            x=alt.X("resource:N", title="resource", sort="-color"),
            y=alt.Y("verb:N", title="verb", sort="-color"),
            color=alt.Color("requests:Q", scale=alt.Scale(scheme="oranges", type="sqrt")),
            tooltip=[
                "verb:N",
                "resource:N",
                "requests:Q",
                alt.Tooltip("time_share:Q", format=".1%", title="API-server time share"),
                alt.Tooltip("throttled:Q", title="429s"),
            ],
        )
        .properties(
            title=f"What {client or 'nobody'} asks: requests by verb and resource",
            width=alt.Step(40),
            height=alt.Step(28),
        )
    )


def open_watches_chart(request: _Request) -> alt.TopLevelMixin:
    """Watches open at each interval's start, per group holding the most."""
    import altair as alt

    by = str(request.option("by", "client"))
    limit = int(request.option("limit", 8))
    frame = _utc_text(request.run("open_watches", every=request.every(), limit=limit, by=by))
    labels = list(dict.fromkeys(frame[by].to_list()))
    frame = frame.rename({by: "label"})
    return (
        alt.Chart(_values(frame))
        .mark_line(interpolate="step-after")
        .encode(
            x=_time(span=request.span),
            y=alt.Y("open_watches:Q", title="watches open"),
            color=request.colour("label", labels, by),
            tooltip=["at:N", alt.Tooltip("label:N", title=by), "open_watches:Q", "started:Q"],
        )
        .properties(title=f"Watches open over time, by {by}", width=WIDTH, height=HEIGHT)
    )


_OVER_TIME = ("every", "limit", "by")
CHARTS = {
    kind.name: kind
    for kind in (
        ChartKind(
            "timeline",
            "requests per second over time, the busiest clients stacked, "
            "the rest as one, intervals with 429s shaded",
            _OVER_TIME,
            timeline_chart,
        ),
        ChartKind(
            "throttling",
            "429s over time, by the clients that got the most",
            _OVER_TIME,
            throttling_chart,
        ),
        ChartKind(
            "inflight",
            "requests in flight per apiserver against the max-inflight limits",
            ("every", "max_requests_inflight", "max_mutating_requests_inflight"),
            inflight_chart,
        ),
        ChartKind("latency", "p50/p90/p99 latency over time", ("every",), latency_chart),
        ChartKind("errors", "5xx responses per second over time", ("every",), errors_chart),
        ChartKind(
            "pollers",
            "the pollers: period x sources, sized by req/s",
            ("limit", "min_share"),
            pollers_chart,
        ),
        ChartKind(
            "heatmap",
            "one client's requests by verb x resource (--client, default the busiest)",
            (),
            heatmap_chart,
        ),
        ChartKind(
            "open_watches",
            "watches open over time, by the clients holding the most",
            _OVER_TIME,
            open_watches_chart,
        ),
    )
}


def chart_names() -> list[str]:
    """The charts of the library.

    >>> chart_names()[:3]
    ['timeline', 'throttling', 'inflight']
    """
    return list(CHARTS)


def chart(
    con: Connection, name: str, params: Mapping[str, Any], memo: dict[str, Any]
) -> alt.TopLevelMixin:
    """The chart ``name`` (``timeline``, ``open-watches``...) of the data behind ``con``, with
    the common filters and the chart's own options in ``params``.

    >>> chart(ds, "timeline", {"since": "30m", "limit": 5}, {})  # doctest: +SKIP
    alt.LayerChart(...)
    """
    kind = CHARTS.get(name.replace("-", "_"))
    if kind is None:
        raise UsageError(f"no chart {name!r}", hint="charts: " + ", ".join(CHARTS))
    unknown = sorted(set(params) - set(filter_names()) - set(kind.options))
    if unknown:
        allowed = ", ".join(o.replace("_", "-") for o in kind.options) or "only the filters"
        raise UsageError(
            f"chart {kind.name} takes no {unknown[0]!r}", hint=f"its options: {allowed}"
        )
    try:
        import altair  # noqa: F401
    except ImportError:
        raise UsageError("charts need altair", hint="pip install 'k8saudit[charts]'") from None
    return kind.draw(_Request(con, memo, params))


#: the files ``save_chart`` writes, by suffix
CHART_FORMATS = (".png", ".svg", ".html")


def save_chart(figure: alt.TopLevelMixin, output: Path, title: str = "k8saudit chart") -> None:
    """Write ``figure`` to ``output``: PNG or SVG drawn offline by vl-convert-python, or one
    self-contained HTML page (``k8saudit.htmlpage``); the suffix says which.

    >>> save_chart(ds.chart("timeline"), Path("timeline.png"))  # doctest: +SKIP
    """
    suffix = output.suffix.lower()
    if suffix not in CHART_FORMATS:
        raise UsageError(f"--output {output}: write a .png, .svg or .html file")
    spec = figure.to_dict()
    if suffix == ".html":
        from k8saudit.htmlpage import escape_html, page  # hashlib, html: a page's only

        data: str | bytes = page(
            title, f"<h1>{escape_html(title)}</h1><div id=chart></div>", {"chart": spec}
        )
    else:
        try:
            import vl_convert
        except ImportError:
            raise UsageError(
                f"{suffix[1:].upper()} charts need vl-convert-python",
                hint="pip install 'k8saudit[charts]'",
            ) from None
        data = (
            vl_convert.vegalite_to_png(spec, scale=2)
            if suffix == ".png"
            else (vl_convert.vegalite_to_svg(spec))
        )
    try:
        if isinstance(data, bytes):
            output.write_bytes(data)
        else:
            output.write_text(data)
    except OSError as exc:
        raise UsageError(f"--output {output}: {exc.strerror or exc}") from None
