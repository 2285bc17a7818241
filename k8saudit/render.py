"""One renderer for every output format (table, csv, json, parquet, markdown) and the texts.

Results are polars DataFrames; this module turns them into text or files. The terminal table is
built for an 80-column screen (``table_view``: short headings, shares as %, rates as /s; numbers
right-aligned, long strings cut with an ellipsis), and control characters in attacker-controlled
strings (user agents, usernames, URIs, file names) are escaped so a log line cannot repaint the
terminal. The ingest summary and ``info`` are rendered here too, so the CLI only prints them.
"""

from __future__ import annotations

import io
import math
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from k8saudit.exceptions import UsageError

if TYPE_CHECKING:
    from collections.abc import Collection

    import polars as pl

    from k8saudit.dataset import Info
    from k8saudit.ingestion import IngestReport


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"
    MARKDOWN = "markdown"


MAX_CELL = 48


def escape_text(value: str) -> str:
    """Make an untrusted string safe to print: control characters become visible escapes.

    >>> escape_text("evil\\x1b[2Jua")
    'evil\\\\x1b[2Jua'
    """
    if value.isprintable():
        return value
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else f"{value:.3e}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".")
    if isinstance(value, list):
        return ",".join(_cell(v) for v in value)
    return escape_text(str(value))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(frame: pl.DataFrame, right_aligned: Collection[str] = ()) -> str:
    """A plain-text table with a header rule; numbers right-aligned.

    ``right_aligned`` names text columns that hold numbers already formatted for reading
    (``55.1%``, ``56.1/s``), which align like numbers.

    >>> frame = pl.DataFrame({"c": ["a"], "share": ["5.0%"]})  # doctest: +SKIP
    >>> print(render_table(frame, {"share"}))  # doctest: +SKIP
    c  share
    -  -----
    a   5.0%
    """
    names = frame.columns
    numeric = [frame.schema[n].is_numeric() or n in right_aligned for n in names]
    rows = [[_cut(_cell(v), MAX_CELL) for v in row] for row in frame.iter_rows()]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]

    def line(cells: list[str]) -> str:
        parts = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(list(names)), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    if frame.height == 0:
        out.append("(no rows)")
    return "\n".join(out) + "\n"


def render_markdown(frame: pl.DataFrame) -> str:
    """A GitHub-flavoured markdown table (pipes in values escaped)."""
    numeric = [frame.schema[n].is_numeric() for n in frame.columns]

    def esc(text: str) -> str:
        return text.replace("|", "\\|")

    out = ["| " + " | ".join(esc(c) for c in frame.columns) + " |"]
    out.append("|" + "|".join("---:" if num else "---" for num in numeric) + "|")
    for row in frame.iter_rows():
        out.append("| " + " | ".join(esc(_cell(v)) for v in row) + " |")
    return "\n".join(out) + "\n"


def render(frame: pl.DataFrame, fmt: str | OutputFormat = OutputFormat.TABLE) -> str | bytes:
    """Render ``frame`` in ``fmt``: text for every format but parquet (bytes).

    >>> print(render(pl.DataFrame({"client": ["kubelet"], "n": [3]}), "csv"))  # doctest: +SKIP
    client,n
    kubelet,3
    """
    try:
        kind = OutputFormat(fmt)
    except ValueError:
        choices = ", ".join(f.value for f in OutputFormat)
        raise UsageError(f"unknown output format {fmt!r} (choose from {choices})") from None
    if kind is OutputFormat.TABLE:
        return render_table(frame)
    if kind is OutputFormat.MARKDOWN:
        return render_markdown(frame)
    if kind is OutputFormat.CSV:
        return frame.write_csv()
    if kind is OutputFormat.JSON:
        buffer = io.StringIO()
        frame.write_json(buffer)
        return buffer.getvalue() + "\n"
    out = io.BytesIO()
    frame.write_parquet(out)
    return out.getvalue()


def write_output(frame: pl.DataFrame, fmt: str | OutputFormat, output: Path | None) -> str | None:
    """Write the rendering to ``output``; return it instead when ``output`` is None (stdout).

    Parquet needs a file: asking for it on stdout is a usage error.
    """
    data = render(frame, fmt)
    if output is None:
        if isinstance(data, bytes):
            raise UsageError("--format parquet needs --output FILE")
        return data
    try:
        if isinstance(data, bytes):
            output.write_bytes(data)
        else:
            output.write_text(data)
    except OSError as exc:
        raise UsageError(f"--output {output}: {exc.strerror or exc}") from None
    return None


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

    >>> import polars as pl
    >>> table_view(pl.DataFrame({"c": ["a"], "request_share": [0.1234]})).right_aligned
    frozenset({'req%'})
    """
    import polars as pl

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


def render_view(frame: pl.DataFrame) -> str:
    """The terminal table of an analysis result: ``render_table`` of its ``table_view``.

    >>> import polars as pl
    >>> print(render_view(pl.DataFrame({"client": ["kubelet"], "req_per_s": [56.11]})), end="")
    client    req/s
    -------  ------
    kubelet  56.1/s
    """
    view = table_view(frame)
    return render_table(view.frame, view.right_aligned)


def ingest_summary(report: IngestReport) -> str:
    """The closing summary of an ingest run (stdout): files, requests, span, skips, rejects.

    >>> print(ingest_summary(k8saudit.ingest(["logs/"])), end="")  # doctest: +SKIP
    dataset     k8saudit-data
    ...
    """
    from rich.filesize import decimal

    duplicates = sum(1 for f in report.files if f.status == "duplicate")
    ingested = [f for f in report.files if f.status == "ingested"]
    unreadable = len(report.files) - len(ingested) - duplicates
    formats = ", ".join(f"{name} {n}" for name, n in sorted(report.formats.items()))
    mb_s = report.bytes_read / max(report.seconds, 1e-9) / 1e6
    lines = [
        f"dataset     {escape_text(str(report.dataset))}",
        f"files       {len(ingested)} ingested ({formats or 'none'}), {duplicates} already "
        f"ingested, {unreadable} unreadable",
        f"requests    +{report.requests_added:,} (now {report.requests_after:,}) from "
        f"{report.events:,} log events",
    ]
    if report.first and report.last:
        lines.append(f"time span   {_span(report.first, report.last)}")
    lines.append(f"skipped     {report.skipped:,} records (not API requests)")
    lines.append(f"rejected    {report.rejected:,} records")
    lines.append(
        f"took        {report.seconds:.2f} s ({decimal(report.bytes_read)}, {mb_s:.0f} MB/s)"
    )
    return "\n".join(lines) + "\n"


def ingest_notes(report: IngestReport) -> list[str]:
    """The warnings and notes on an ingest run's files, one line each (stderr, before the
    summary): unreadable files, where a klog year came from.

    >>> ingest_notes(k8saudit.ingest(["logs/"]))  # doctest: +SKIP
    ['warning: logs/ground_truth.json: JSON, but no audit events ...; skipped']
    """
    lines = []
    for f in report.files:
        if f.status == "unreadable":
            lines.append(f"warning: {escape_text(f.path)}: {escape_text(f.message)}; skipped")
        elif f.status == "ingested" and f.message:
            lines.append(f"note: {escape_text(f.path)}: {escape_text(f.message)}")
    return lines


def rejects_warning(report: IngestReport) -> str | None:
    """The closing warning of a run that rejected records (stderr, after the summary).

    >>> rejects_warning(k8saudit.ingest(["clean.log"])) is None  # doctest: +SKIP
    True
    """
    if not report.rejected:
        return None
    return (
        f"warning: {report.rejected} records could not be read; "
        "`k8saudit rejects` shows them with file and line"
    )


def info_text(info: Info) -> str:
    """What ``k8saudit info`` prints: the dataset's span, files, notes and summary tables.

    >>> print(info_text(k8saudit.open().info()), end="")  # doctest: +SKIP
    dataset    k8saudit-data
    ...
    """
    lines = [
        f"dataset    {escape_text(str(info.dataset))}",
        f"files      {info.files} ingested, {info.rejects} rejected records",
        f"requests   {info.requests:,}",
    ]
    if info.first and info.last:
        lines.append(f"time span  {_span(info.first, info.last)}")
    lines += [f"note       {escape_text(note)}" for note in info.time_notes]
    text = "\n".join(lines) + "\n"
    for title, frame in info.tables.items():
        text += f"\n{title}\n" + render_table(frame)
    return text


def _span(first: datetime, last: datetime) -> str:
    return f"{first:%Y-%m-%d %H:%M:%S} .. {last:%Y-%m-%d %H:%M:%S} UTC"
