"""``k8saudit report``: one self-contained HTML postmortem of a dataset, for people to read.

An incident review is read by people, not parsers: the report says in plain words what the
logs show (the window, the requests, the share that got 429, then the ``diagnose`` findings
first, and how many security findings ``sensitive`` has), then the charts
(``k8saudit.charts``), the key tables of the analyses, the security findings by kind and actor
and how it was made (dataset, files, version). Every number comes from the library's queries;
this module only lays them out. Every string from a log (clients, user agents, usernames,
URIs, operation names) is HTML-escaped (``htmlpage.escape_html``), and the page runs only its
own scripts (``htmlpage.page``): a user agent of ``<script>alert(1)</script>`` shows as that
text.

Building takes a dozen queries; ``progress`` hears of each step, so a large dataset's report
shows where it is.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k8saudit.dataset import Dataset
from k8saudit.dataset import open as open_dataset
from k8saudit.diagnosis import DEFAULT_MIN_SHARE, Diagnosis, diagnose
from k8saudit.exceptions import UsageError
from k8saudit.htmlpage import escape_html, page
from k8saudit.render import duration_text, table_view, window_text
from k8saudit.rows import NUMERIC
from k8saudit.tables import column_cells

if TYPE_CHECKING:
    import polars as pl

#: a step of the report done: (steps done, steps in all, what was just done)
ReportProgress = Callable[[int, int, str], None]

#: the charts of the report, in order: (chart, heading, options)
CHARTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("timeline", "Request rate", {}),
    ("throttling", "Throttled requests (429)", {}),
    ("inflight", "In flight against the limit", {}),
    ("pollers", "Pollers", {"min_share": DEFAULT_MIN_SHARE}),
    ("heatmap", "What the busiest client asks", {}),
    ("latency", "Latency", {}),
    ("errors", "Server errors", {}),
    ("open_watches", "Watches", {}),
)
#: the most rows a table of the report shows
TABLE_ROWS = 12
#: the kinds of finding of ``sensitive``, in its order, as the security section names them
SECURITY_KINDS: dict[str, str] = {
    "cluster-admin": "changes to the cluster-admin role or binding",
    "rbac-grant": "bindings granting cluster-admin or a role with '*' rules",
    "rbac-change": "other RBAC changes",
    "privileged-pod": "privileged pods and pod templates",
    "exec": "exec, attach and port-forward into pods",
    "anonymous": "anonymous requests",
    "impersonation": "impersonation",
    "secret-read": "Secret reads and lists",
    "denial-burst": "bursts of 401/403 denials",
    "denied": "401/403 denials",
}
#: the columns of a security finding the report shows
SECURITY_COLUMNS = ("why", "username", "impersonated_user", "requests", "objects", "denied",
                    "first_seen", "first_audit_id")  # fmt: skip
#: the tables of the report, in order: (query, heading, options, columns shown: None for all)
TABLES: tuple[tuple[str, str, dict[str, Any], tuple[str, ...] | None], ...] = (
    ("top_talkers", "Top talkers", {"limit": 10}, None),
    ("top_talkers", "Top user agents", {"by": "user_agent", "limit": 10}, ("user_agent",
     "requests", "req_per_s", "request_share", "time_share", "throttled", "sources")),
    ("pollers", "Pollers", {"min_share": DEFAULT_MIN_SHARE, "limit": 0}, ("client",
     "operation", "period_s", "jitter_s", "sources", "req_per_s", "request_share",
     "time_share", "throttled_share", "cost_class")),
    ("inflight_peaks", "In-flight peaks", {"totals": False}, ("apiserver", "kind", "peak",
     "seat_limit", "full_s", "full_share", "throttled", "top_holders")),
    ("throttling", "Who was throttled", {"limit": 10}, None),
    ("throttled_minutes", "Who filled the API server while it throttled", {"limit": 10}, None),
    ("errors", "Errors", {"limit": 10}, None),
    ("watches", "Watches", {"limit": 10}, ("client", "watches", "peak_open", "watches_per_min",
     "sources", "cluster_wide", "lists_per_watch", "restarts_per_hour")),
)  # fmt: skip


@dataclass(frozen=True)
class Summary:
    """The report's first paragraph, in numbers: the window, the requests, the 429s."""

    window_start: datetime | None
    window_end: datetime | None
    rate: float  # requests per second over the observation window
    requests: int
    throttled: int

    def text(self) -> str:
        """The summary in plain words.

        >>> from datetime import datetime as dt
        >>> Summary(dt(2019, 2, 4, 12), dt(2019, 2, 4, 12, 5), 10.0, 3000, 30).text()
        'From 2019-02-04 12:00:00 .. 12:05:00 UTC (5m 0s) the logs show 3,000 requests \
(10.0 per second); 30 of them (1.0%) got 429 (throttled).'
        """
        if self.window_start is None or self.window_end is None or not self.requests:
            return "The dataset holds no request in this window."
        share = self.throttled / self.requests
        throttled = (
            f"{self.throttled:,} of them ({share:.1%}) got 429 (throttled)"
            if self.throttled
            else "none of them got 429 (throttled)"
        )
        return (
            f"From {window_text(self.window_start, self.window_end)} the logs show "
            f"{self.requests:,} requests ({self.rate:,.1f} per second); {throttled}."
        )


def summarize(talkers: pl.DataFrame) -> Summary:
    """The summary of a window from its top-talkers rows of every group (``limit=0``): the
    totals are their sums, the rate the sum of their rates (over the same window).

    >>> import polars as pl
    >>> from datetime import datetime as dt
    >>> rows = {"requests": [2, 1], "req_per_s": [0.2, 0.1], "throttled": [1, 0],
    ...         "window_start": [dt(2019, 2, 4)] * 2, "window_end": [dt(2019, 2, 4, 0, 0, 10)] * 2}
    >>> summarize(pl.DataFrame(rows)).requests, summarize(pl.DataFrame(rows)).rate
    (3, 0.30000000000000004)
    """
    if not talkers.height:
        return Summary(None, None, 0.0, 0, 0)
    first = talkers.row(0, named=True)
    return Summary(
        first["window_start"], first["window_end"], float(talkers["req_per_s"].sum()),
        int(talkers["requests"].sum()), int(talkers["throttled"].sum()),
    )  # fmt: skip


def html_table(frame: pl.DataFrame, columns: tuple[str, ...] | None = None) -> str:
    """A result as an HTML table the way the terminal shows it (short headings, shares as %,
    rates as /s), every cell escaped, then its footer lines.

    >>> import polars as pl
    >>> print(html_table(pl.DataFrame({"client": ["<b>"], "requests": [3]})))
    <table><tr><th>client</th><th class="num">reqs</th></tr>
    <tr><td>&lt;b&gt;</td><td class="num">3</td></tr>
    </table>
    """
    if columns is not None:
        frame = frame.select([c for c in (*columns, *_KEPT) if c in frame.columns])
    if not frame.height:
        return '<p class="note">(no rows)</p>'
    view = table_view(frame)
    shown = view.frame
    numeric = {
        name for name, kind in zip(shown.names, shown.kinds, strict=True)
        if kind in NUMERIC or name in view.right_aligned
    }  # fmt: skip
    head = "".join(
        f'<th class="num">{escape_html(n)}</th>' if n in numeric else f"<th>{escape_html(n)}</th>"
        for n in shown.names
    )
    texts = [column_cells(c, k) for c, k in zip(shown.values, shown.kinds, strict=True)]
    rows = []
    for i in range(shown.height):
        cells = "".join(
            f'<td class="num">{escape_html(t[i])}</td>' if n in numeric
            else f"<td>{escape_html(t[i])}</td>"
            for n, t in zip(shown.names, texts, strict=True)
        )  # fmt: skip
        rows.append(f"<tr>{cells}</tr>")
    footer = "".join(f'<p class="note">{escape_html(line)}</p>' for line in view.footer)
    return f"<table><tr>{head}</tr>\n" + "\n".join(rows) + "\n</table>" + footer


#: the columns a table keeps whatever it shows: what its footer states
_KEPT = ("window_start", "window_end", "long_running", "incomplete")


def _findings_html(found: Diagnosis) -> str:
    items = []
    for f in found.findings:
        known = f" ({escape_html(f.known_as)})" if f.known_as else ""
        items.append(
            f"<li><b>{escape_html(f.client)}</b>: {escape_html(f.what)}{known}<br>"
            f"{escape_html(f.evidence)}<br><i>Remedy:</i> {escape_html(f.remedy)}</li>"
        )
    listing = f'<ol class="findings">{"".join(items)}</ol>' if items else ""
    return f"<p><b>{escape_html(found.summary)}</b></p>{listing}"


def _counted(n: int, thing: str) -> str:
    """``n`` things, in words.

    >>> _counted(1, "actor"), _counted(1200, "request")
    ('1 actor', '1,200 requests')
    """
    return f"{n:,} {thing}" + ("" if n == 1 else "s")


def _security_summary_html(found: pl.DataFrame) -> str:
    """One line under the findings: how many security findings of which kinds, linked."""
    if not found.height:
        return '<p>No <a href="#security">security findings</a>.</p>'
    kinds = found["finding"].value_counts(sort=False).rows()
    order = list(SECURITY_KINDS)
    kinds.sort(key=lambda kind: order.index(kind[0]) if kind[0] in order else len(order))
    links = ", ".join(
        f'<a href="#security-{escape_html(kind)}">{count:,} {escape_html(kind)}</a>'
        for kind, count in kinds
    )
    return f'<p><a href="#security">{_counted(found.height, "security finding")}</a>: {links}.</p>'


def _security_html(found: pl.DataFrame) -> str:
    """The security section: the findings of ``sensitive`` counted by kind and by actor, then
    the first of each kind, each kind under its own anchor (``#security-KIND``)."""
    import polars as pl

    intro = (
        "<p>What <span class=mono>k8saudit sensitive</span> lists for a security responder: "
        "RBAC changes and grants, privileged pods (where bodies were kept), exec into pods, "
        "anonymous requests, impersonation, Secret reads and denials; each finding says why "
        "it is listed.</p>"
    )
    if not found.height:
        return intro + '<p class="note">(no findings in this window)</p>'
    by_kind = found.group_by("finding", maintain_order=True).agg(
        pl.len().alias("findings"),
        pl.col("requests").sum(),
        pl.col("username").n_unique().alias("actors"),
        pl.col("denied").sum(),
    )
    items = "".join(
        f'<li><a href="#security-{escape_html(kind)}">{escape_html(kind)}</a> '
        f"({escape_html(SECURITY_KINDS.get(kind, kind))}): {_counted(findings, 'finding')}, "
        f"{_counted(requests, 'request')}, {_counted(actors, 'actor')}, {denied:,} denied</li>"
        for kind, findings, requests, actors, denied in by_kind.rows()
    )
    actors = (
        found.group_by("username")
        .agg(
            pl.len().alias("findings"),
            pl.col("requests").sum(),
            pl.col("denied").sum(),
            pl.col("finding").unique(maintain_order=True).str.join(", ").alias("kinds"),
        )
        .sort(["findings", "requests", "username"], descending=[True, True, False])
    )
    parts = [intro, f"<ul>{items}</ul>", "<h3>Top actors</h3>",
             html_table(actors.head(TABLE_ROWS))]  # fmt: skip
    for kind, findings, *_ in by_kind.rows():
        rows = found.filter(pl.col("finding") == kind)
        more = (
            f'<p class="note">and {findings - TABLE_ROWS:,} more '
            "(<span class=mono>k8saudit sensitive</span> lists them all)</p>"
            if findings > TABLE_ROWS
            else ""
        )
        parts.append(
            f'<h3 id="security-{escape_html(kind)}">{escape_html(kind)}: '
            f"{escape_html(SECURITY_KINDS.get(kind, kind))}</h3>"
            + html_table(rows.head(TABLE_ROWS), SECURITY_COLUMNS)
            + more
        )
    return "".join(parts)


def _made_html(ds: Dataset, filters: Mapping[str, Any], took: float) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("k8saudit")
    except PackageNotFoundError:  # run from a source tree that was never installed
        release = "(not installed)"
    files = sorted(ds.manifest.files, key=lambda f: f.path)
    rows = "".join(
        f"<tr><td class=mono>{escape_html(f.path)}</td><td>{escape_html(f.format)}</td>"
        f'<td class="num">{f.records:,}</td><td class="num">{f.rejected:,}</td>'
        f"<td>{escape_html(f.apiserver or '')}</td></tr>"
        for f in files
    )
    given = ", ".join(f"{k}={v}" for k, v in filters.items() if v is not None) or "none"
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"<p>k8saudit {escape_html(release)}, {escape_html(now)}, in "
        f"{escape_html(duration_text(took))}, from the dataset <span class=mono>"
        f"{escape_html(ds.root)}</span> ({len(files):,} files); filters: "
        f"<span class=mono>{escape_html(given)}</span>. Every number is a query of the library "
        "(<span class=mono>k8saudit queries</span>); <span class=mono>k8saudit diagnose</span>, "
        "<span class=mono>k8saudit top-talkers</span> and the other commands give the same "
        "answers as tables.</p>"
        "<table><tr><th>file</th><th>format</th><th class=num>records</th>"
        f"<th class=num>rejected</th><th>apiserver</th></tr>{rows}</table>"
    )


#: the steps of a report: the summary, diagnose, sensitive, each chart and table, the page
STEPS = 4 + len(CHARTS) + len(TABLES)


class _Remembering(Dataset):
    """The dataset as a report reads it: a query asked again with the same values (the
    pollers and in-flight peaks of ``diagnose``, of a chart and of a table) is answered from
    the first time, over the same connection."""

    def __init__(self, dataset: Dataset) -> None:
        super().__init__(dataset.root, dataset.manifest)
        self._con = dataset._connection()  # the answers stay kept (``duckdb`` stops them)
        self._answers = dataset._answers  # and kept as they are: stopped if they were
        self._asked: dict[tuple[str, str], pl.DataFrame] = {}

    def sql(self, query: str, **params: Any) -> pl.DataFrame:
        key = (query, repr(sorted(params.items())))
        if key not in self._asked:
            self._asked[key] = super().sql(query, **params)
        return self._asked[key]


def build_report(
    dataset: Dataset | str | os.PathLike[str] | None = None,
    *,
    progress: ReportProgress | None = None,
    **filters: Any,
) -> str:
    """The postmortem report of ``dataset`` as one self-contained HTML document, over the
    common ``filters`` (``since``, ``until``, ``without``...).

    >>> html = k8saudit.report.build_report("k8saudit-data", since="1h")  # doctest: +SKIP
    """
    if not isinstance(dataset, Dataset):
        with open_dataset(dataset) as ds:
            return build_report(ds, progress=progress, **filters)
    steps = STEPS
    done = 0

    def tick(what: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, steps, what)

    values = {k: v for k, v in filters.items() if v is not None}
    with _Remembering(dataset).keeping() as ds:
        html = _build(ds, values, tick)
    tick("page")
    return html


def _build(ds: Dataset, values: dict[str, Any], tick: Callable[[str], None]) -> str:
    started = time.monotonic()
    # every client: the totals are their sums (a dataset without requests is an error here)
    talkers = ds.answer("top_talkers", limit=0, **values).frame
    summary = summarize(talkers)
    tick("summary")
    found = diagnose(ds, **values)
    tick("diagnose")
    security = ds.query("sensitive", **values)
    tick("sensitive")
    specs: dict[str, dict[str, Any]] = {}
    sections = []
    for name, heading, options in CHARTS:
        target = f"chart-{name}"
        specs[target] = ds.chart(name, **options, **values).to_dict()
        sections.append(f'<h2>{escape_html(heading)}</h2><div class="chart" id="{target}"></div>')
        tick(f"chart {name}")
    for name, heading, options, columns in TABLES:
        if name == "top_talkers" and "by" not in options:
            frame = talkers.head(options["limit"])
        else:  # the pollers and in-flight peaks are diagnose's (same values: run once)
            frame = ds.query(name, **options, **values).head(TABLE_ROWS)
        sections.append(f"<h2>{escape_html(heading)}</h2>{html_table(frame, columns)}")
        tick(f"table {name.replace('_', '-')}")
    made = _made_html(ds, values, time.monotonic() - started)
    body = (
        "<h1>Kubernetes API server: what the audit logs show</h1>"
        f"<p>{escape_html(summary.text())}</p><h2>Findings</h2>{_findings_html(found)}"
        + _security_summary_html(security)
        + "".join(sections)
        + f'<h2 id="security">Security findings</h2>{_security_html(security)}'
        + f"<h2>How this report was made</h2>{made}"
    )
    return page("k8saudit report", body, specs)


def write_report(
    output: Path,
    dataset: Dataset | str | os.PathLike[str] | None = None,
    *,
    progress: ReportProgress | None = None,
    **filters: Any,
) -> Path:
    """Write the report (``build_report``) to ``output`` (an ``.html`` file); return its path.

    >>> k8saudit.report.write_report(Path("report.html"), "k8saudit-data")  # doctest: +SKIP
    PosixPath('report.html')
    """
    if output.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--output {output}: the report is an .html file")
    html = build_report(dataset, progress=progress, **filters)
    try:
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--output {output}: {exc.strerror or exc}") from None
    return output
