"""The analyses as ``Dataset`` methods: ``k8saudit.open(ds).top_talkers(by="user")``.

Each method is one query of ``queries/`` with the same name. This module turns friendly Python
arguments into the query's bound parameters: relative times (``since="30m"``) become timestamps
counted back from the dataset's last request, and ``by="client,user"`` becomes whitelisted
grouping names (``by1``, ``by2``...), so user input only ever reaches SQL as bound values.
It also holds ``table_view``, the small display step that makes results read well in 80 columns.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict, Unpack

from k8saudit.exceptions import UsageError
from k8saudit.query_loader import get_query

if TYPE_CHECKING:
    import polars as pl

#: how many names ``--by`` may combine with commas
MAX_GROUP_BY = 3

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Filters(TypedDict, total=False):
    """The common filters every analysis takes (``queries/_filters.sql``)."""

    since: str | datetime | None
    until: str | datetime | None
    verb: str | None
    resource: str | None
    namespace: str | None
    user: str | None
    client: str | None
    code: int | None
    source: str


def group_by_choices() -> tuple[str, ...]:
    """The names ``--by`` accepts (the whitelist declared in ``queries/_filters.sql``).

    >>> group_by_choices()[:2]
    ('client', 'user')
    """
    return get_query("top_talkers").params["by1"].choices


def group_params(by: str) -> dict[str, str | None]:
    """``by1``..``by3`` for a ``--by`` value, each one checked against the whitelist.

    >>> group_params("client,user")
    {'by1': 'client', 'by2': 'user', 'by3': None}
    """
    allowed = group_by_choices()
    names = [part.strip() for part in by.split(",")]
    choices = ", ".join(allowed)
    for name in names:
        if name not in allowed:
            raise UsageError(f"--by {name!r} is not a grouping", hint=f"choose from {choices}")
    if len(names) > MAX_GROUP_BY:
        raise UsageError(f"--by {by!r}: at most {MAX_GROUP_BY} names")
    names += [None] * (MAX_GROUP_BY - len(names))  # type: ignore[list-item]
    return {f"by{i}": name for i, name in enumerate(names, start=1)}


def parse_time(value: str | datetime | None, end: datetime | None) -> datetime | None:
    """An absolute time, or one relative to ``end`` (the dataset's last request): ``30m``, ``2h``.

    >>> parse_time("30m", datetime(2019, 2, 4, 12, 30, tzinfo=UTC))
    datetime.datetime(2019, 2, 4, 12, 0, tzinfo=datetime.timezone.utc)
    """
    if value is None:
        return None
    if isinstance(value, datetime):  # naive means UTC, as for strings: never the machine's zone
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    relative = _RELATIVE.match(value.strip())
    if relative:
        if end is None:  # an empty dataset: nothing to count back from
            return None
        seconds = float(relative[1]) * _UNIT_SECONDS[relative[2]]
        return end - timedelta(seconds=seconds)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"bad time {value!r}", hint="use RFC3339 (2019-02-04T12:00:00Z) or 30m, 2h, 1d"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class Analyses:
    """The analysis methods of ``Dataset``; each runs the ``queries/`` file of the same name."""

    if TYPE_CHECKING:  # provided by Dataset

        def sql(self, query: str, **params: Any) -> pl.DataFrame: ...

    def query(self, name: str, **params: Any) -> pl.DataFrame:
        """Run the library query ``name`` with its parameters (strings are converted).

        ``since``/``until`` may be relative and ``by`` a comma list, as in the methods below.

        >>> ds.query("top_talkers", by="user", limit="5")  # doctest: +SKIP
        """
        spec = get_query(name)
        values = dict(params)
        by = values.pop("by", None)
        if str(values.get("limit")) == "0":  # 0 means all, as on the command line
            values["limit"] = None
        if spec.uses_filters:
            if by is not None:
                values.update(group_params(by))
            if values.get("since") is not None or values.get("until") is not None:
                end = self.sql("SELECT max(received_at) AS end FROM requests").item()
                for key in ("since", "until"):
                    values[key] = parse_time(values.get(key), end)
            if values.get("source", "auto") == "auto":
                values.update(self._audit_span())
        elif by is not None:
            values["by"] = by
        frame = self.sql(spec.sql, **spec.bind(values))
        if spec.uses_filters and "grp" in frame.columns:
            named = [values[k] for k in ("by1", "by2", "by3") if values.get(k)]
            frame = frame.rename({"grp": by or ",".join(named) or "client"})
        return frame

    def _audit_span(self) -> dict[str, datetime | None]:
        """For ``--source auto``: the period audit logs cover, when access-log requests without
        an audit-ID exist (those inside it are the audit log's requests seen a second time).

        Computed once per opened dataset: what the manifest lists does not change under it.
        """
        cached: dict[str, datetime | None] | None = getattr(self, "_audit_span_cache", None)
        if cached is not None:
            return cached
        row = self.sql(
            "SELECT min(received_at) FILTER (WHERE has_audit) AS audit_from, "
            "max(received_at) FILTER (WHERE has_audit) AS audit_to, "
            "bool_or(NOT has_audit AND audit_id IS NULL) AS unjoined FROM requests"
        ).row(0, named=True)
        span = {"audit_from": row["audit_from"], "audit_to": row["audit_to"]}
        if not row["unjoined"]:
            span = {"audit_from": None, "audit_to": None}
        self._audit_span_cache = span
        return span

    def top_talkers(
        self,
        by: str = "client",
        sort: str = "requests",
        limit: int | None = None,
        **filters: Unpack[Filters],
    ) -> pl.DataFrame:
        """Who sends the most work, per client (or user, UA, source IP...): see top_talkers.sql.

        >>> ds.top_talkers(since="2m", limit=3)["client"].to_list()  # doctest: +SKIP
        ['kubelet', 'datadog-agent', 'rest-client (logging:fluentd)']
        """
        return self.query("top_talkers", by=by, sort=sort, limit=limit, **filters)

    def throttling(
        self, by: str = "client", limit: int | None = None, **filters: Unpack[Filters]
    ) -> pl.DataFrame:
        """Who got 429s, how much of its traffic and of all 429s, and under which APF level.

        >>> ds.throttling(limit=3)  # doctest: +SKIP
        """
        return self.query("throttling", by=by, limit=limit, **filters)

    def throttled_minutes(
        self, by: str = "client", limit: int | None = None, **filters: Unpack[Filters]
    ) -> pl.DataFrame:
        """Who filled the API server in the minutes that had 429s: requests, shares, busy time.

        >>> ds.throttled_minutes(limit=3)["client"].to_list()  # doctest: +SKIP
        ['kubelet', 'datadog-agent', 'rest-client (logging:fluentd)']
        """
        return self.query("throttled_minutes", by=by, limit=limit, **filters)

    def latency(
        self, by: str = "client", limit: int | None = None, **filters: Unpack[Filters]
    ) -> pl.DataFrame:
        """Latency percentiles and busy time of non-long-running requests, per group.

        >>> ds.latency(by="verb")  # doctest: +SKIP
        """
        return self.query("latency", by=by, limit=limit, **filters)

    def errors(
        self, by: str = "client", limit: int | None = None, **filters: Unpack[Filters]
    ) -> pl.DataFrame:
        """4xx/5xx counts and shares, 429s, denials and the most frequent error code, per group.

        >>> ds.errors(by="resource", limit=5)  # doctest: +SKIP
        """
        return self.query("errors", by=by, limit=limit, **filters)

    def watches(
        self, by: str = "client", limit: int | None = None, **filters: Unpack[Filters]
    ) -> pl.DataFrame:
        """Watches started, most open at once, per minute and per hour, sources, cluster-wide and
        selector-scoped watches, relisting and median duration, per group: see watches.sql.

        >>> ds.watches(limit=1)["peak_open"].to_list()  # doctest: +SKIP
        [2518]
        """
        return self.query("watches", by=by, limit=limit, **filters)

    def open_watches(
        self,
        by: str = "client",
        every: str = "1m",
        limit: int | None = 5,
        **filters: Unpack[Filters],
    ) -> pl.DataFrame:
        """Watches open at the start of each interval (``every``: 10s, 1m, 5m...) and watches
        started in it, for the top ``limit`` groups by peak open watches: a relist storm is the
        open count dropping and coming back.

        >>> ds.open_watches(every="5m", limit=1).rows()  # doctest: +SKIP
        [(datetime(2019, 2, 4, 12, 0, tzinfo=UTC), 'kubelet', 0, 2518)]
        """
        seconds = interval_seconds(every)
        return self.query("open_watches", by=by, every_s=seconds, limit=limit, **filters)

    def timeline(
        self,
        by: str = "client",
        every: str = "1m",
        limit: int | None = 5,
        **filters: Unpack[Filters],
    ) -> pl.DataFrame:
        """Requests and 429s per interval (``every``: 10s, 1m, 5m...) for the top ``limit`` groups.

        >>> ds.timeline(every="30s", code=429)  # doctest: +SKIP
        """
        seconds = interval_seconds(every)
        return self.query("timeline", by=by, every_s=seconds, limit=limit, **filters)


def interval_seconds(every: str) -> int:
    """Whole seconds of an interval like ``10s``, ``1m``, ``1h``.

    >>> interval_seconds("5m")
    300
    """
    match = _RELATIVE.match(every.strip())
    seconds = float(match[1]) * _UNIT_SECONDS[match[2]] if match else 0
    if seconds < 1:
        raise UsageError(f"bad interval {every!r}", hint="use e.g. 10s, 1m, 1h")
    return int(seconds)


#: short table headings for the result columns of the library's queries
_LABELS = {
    "requests": "reqs",
    "req_per_s": "req/s",
    "request_share": "req%",
    "time_share": "time%",
    "throttled": "429s",
    "throttled_share": "429%",
    "throttled_request_share": "429/req%",
    "error_5xx_share": "5xx%",
    "peak_per_minute": "peak/min",
    "interval_start": "interval",
    "errors_4xx": "4xx",
    "error_4xx_share": "4xx%",
    "errors_5xx": "5xx",
    "top_error_code": "top code",
    "watches_per_min": "/min",
    "cluster_wide": "cluster",
    "lists_per_watch": "list/watch",
    "minutes": "mins",
    "peak_open": "peak",
    "restarts_per_hour": "/hour",
    "selector_scoped": "selector",
    "median_duration_s": "median s",
    "open_watches": "open",
}
_GROUP_WIDTH = 30


class TableView(NamedTuple):
    """A result formatted for the terminal, and its text columns that align like numbers."""

    frame: pl.DataFrame
    right_aligned: frozenset[str]


def table_view(frame: pl.DataFrame, width: int = 80) -> TableView:
    """``frame`` formatted for the terminal: shares as %, rates as ``/s``; fits ``width`` columns.

    Headings get short labels, the group column (the first column, or the second after
    ``interval_start``) is cut to 30 characters, and columns that do not fit are left out
    (csv/json/parquet keep them all, with raw numbers). The % and /s
    columns are text, so the view names them for ``render_table`` to right-align.

    >>> table_view(pl.DataFrame({"c": ["a"], "request_share": [0.1234]})).right_aligned
    ... # doctest: +SKIP
    frozenset({'req%'})
    """
    import polars as pl

    from k8saudit.render import MAX_CELL

    def text(values: pl.Expr, fmt: str) -> pl.Expr:
        return values.map_elements(lambda v: fmt.format(v), return_dtype=pl.String)

    columns: list[pl.Expr] = []
    formatted: set[str] = set()
    group = next((name for name in frame.columns[:2] if frame.schema[name] == pl.String), None)
    for name in frame.columns:
        column = pl.col(name)
        label = _LABELS.get(name, name)
        if name.endswith("_share"):
            column = text(column * 100, "{:.1f}%")
            formatted.add(label)
        elif name.endswith("_per_s"):
            column = text(column, "{:.1f}/s")
            formatted.add(label)
        elif name.endswith(("_ms", "busy_s")):  # whole milliseconds/seconds read better
            column = column.round(0).cast(pl.Int64)
        elif name == group:
            cut = column.str.slice(0, _GROUP_WIDTH - 1) + "…"
            column = pl.when(column.str.len_chars() > _GROUP_WIDTH).then(cut).otherwise(column)
        columns.append(column.alias(label))
    shown = frame.select(columns)
    kept: list[str] = []
    used = 0
    for name in shown.columns:
        cells = shown[name].cast(pl.String, strict=False).fill_null("")
        cell_width = min(max([len(name), *cells.str.len_chars().to_list()]), MAX_CELL)
        if kept and used + 2 + cell_width > width:
            break
        kept.append(name)
        used += cell_width + (2 if len(kept) > 1 else 0)
    return TableView(shown.select(kept), frozenset(formatted & set(kept)))
