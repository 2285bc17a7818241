"""One renderer for every output format (table, csv, json, parquet, markdown) and the texts.

Results are polars DataFrames; this module turns them into text or files. An analysis's terminal
table is its ``table_view`` (short headings, shares as %, rates as /s) laid out by
``k8saudit.tables`` for the terminal's width, with what holds for every row stated once below
it: the observation window its rates divide by, the requests a latency result leaves out.
csv/json/parquet keep every column with raw numbers; markdown states the footer too. The
ingest summary, ``info`` and the explanation of an empty answer are rendered here as well, with
every string from a log escaped, so the CLI only prints them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from k8saudit.exceptions import UsageError
from k8saudit.params import HEADINGS
from k8saudit.tables import cell, column_decimals, escape_text, render_table, render_wrapped

if TYPE_CHECKING:
    import polars as pl

    from k8saudit.dataset import Info
    from k8saudit.explain import EmptyReason
    from k8saudit.ingestion import IngestReport
    from k8saudit.ingestion.merge import MergeReport

__all__ = [
    "escape_text", "render", "render_table", "render_view", "render_wrapped", "table_view",
    "write_output",
]  # fmt: skip


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"
    MARKDOWN = "markdown"


#: the columns of a result that a table states once below itself instead of in every row
WINDOW = ("window_start", "window_end")
EXCLUDED = ("long_running", "incomplete")


def render_markdown(frame: pl.DataFrame) -> str:
    """A GitHub-flavoured markdown table (pipes in values escaped), then its footer lines.

    >>> import polars as pl
    >>> print(render_markdown(pl.DataFrame({"c": ["a|b"], "n": [2.5]})), end="")
    | c | n |
    |---|---:|
    | a\\|b | 2.5 |
    """
    numeric = [frame.schema[n].is_numeric() for n in frame.columns]

    def esc(text: str) -> str:
        # a markdown viewer renders HTML: a user agent `<img src=x onerror=...>` stays text
        html = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return escape_text(html).replace("|", "\\|")

    out = ["| " + " | ".join(esc(c) for c in frame.columns) + " |"]
    out.append("|" + "|".join("---:" if num else "---" for num in numeric) + "|")
    columns = [frame[n].to_list() for n in frame.columns]
    texts = [[cell(v, column_decimals(c)) for v in c] for c in columns]
    out += ["| " + " | ".join(esc(t[row]) for t in texts) + " |" for row in range(frame.height)]
    footer = footer_lines(frame)
    return "\n".join(out + (["", *footer] if footer else [])) + "\n"


#: what a spreadsheet takes as the start of a formula (OWASP "CSV injection"): such a cell is
#: prefixed with a single quote, which makes it text
FORMULA_START = r"^[=+\-@\t\r]"
CONTROL = r"[\x00-\x1f\x7f-\x9f]"


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` as CSV may carry it: lists joined with ``;``, structs as JSON, and in every
    text cell control characters made visible escapes and a formula start quoted, as OWASP
    recommends (numbers stay numbers: only text columns change).

    >>> import polars as pl
    >>> csv_safe(pl.DataFrame({"ua": ["=HYPERLINK(1)", "-x", "ok\\x1b"], "n": [-1, 2, 3],
    ...                        "g": [["a", "b"], [], None]})).rows()
    [("'=HYPERLINK(1)", -1, 'a;b'), ("'-x", 2, ''), ('ok\\\\x1b', 3, None)]
    """
    import polars as pl

    columns = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.List | pl.Array):
            column = column.cast(pl.List(pl.String)).list.join(";")
        elif isinstance(dtype, pl.Struct):
            column = column.struct.json_encode()
        elif dtype != pl.String and not isinstance(dtype, pl.Categorical | pl.Enum):
            columns.append(column)
            continue
        text = column.cast(pl.String)
        escaped = (
            pl.when(text.str.contains(CONTROL))
            .then(text.map_elements(escape_text, return_dtype=pl.String))
            .otherwise(text)
        )
        guarded = pl.when(escaped.str.contains(FORMULA_START)).then("'" + escaped)
        columns.append(guarded.otherwise(escaped).alias(name))
    return frame.select(columns)


def render(frame: pl.DataFrame, fmt: str | OutputFormat = OutputFormat.TABLE) -> str | bytes:
    """Render ``frame`` in ``fmt``: text for every format but parquet (bytes).

    >>> import polars as pl
    >>> print(render(pl.DataFrame({"client": ["kubelet"], "n": [3]}), "csv"), end="")
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
        return csv_safe(frame).write_csv()
    if kind is OutputFormat.JSON:
        buffer = io.StringIO()
        frame.write_json(buffer)
        return buffer.getvalue() + "\n"
    out = io.BytesIO()
    frame.write_parquet(out)
    return out.getvalue()


def write_output(
    frame: pl.DataFrame,
    fmt: str | OutputFormat,
    output: Path | None,
    *,
    protect: Path | None = None,
) -> str | None:
    """Write the rendering to ``output``; return it instead when ``output`` is None (stdout).

    Parquet needs a file: asking for it on stdout is a usage error, and so is an ``output``
    inside the directory ``protect`` (the dataset: a file written there could replace a part).
    """
    inside = output is not None and protect is not None
    if inside and output.resolve().is_relative_to(protect.resolve()):  # type: ignore[union-attr]
        raise UsageError(f"--output {output}: inside the dataset {protect}; write elsewhere")
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


class TableView(NamedTuple):
    """A result formatted for the terminal: its text columns that align like numbers, its
    group key columns (shown whole), and the lines stated below it."""

    frame: pl.DataFrame
    right_aligned: frozenset[str]
    keys: frozenset[str]
    footer: list[str]


def table_view(frame: pl.DataFrame) -> TableView:
    """``frame`` formatted for the terminal: short headings, shares as %, rates as ``/s``.

    The group column (the first text column among the first two) and an ``interval_start``
    before it are the keys; the window and the excluded counts become footer lines instead of
    columns. The % and /s columns are text, so the view names them for ``render_table`` to
    right-align.

    >>> import polars as pl
    >>> table_view(pl.DataFrame({"c": ["a"], "request_share": [0.1234]})).right_aligned
    frozenset({'req%'})
    """
    import polars as pl

    def text(values: pl.Expr, fmt: str) -> pl.Expr:
        return values.map_elements(lambda v: fmt.format(v), return_dtype=pl.String)

    columns: list[pl.Expr] = []
    formatted: set[str] = set()
    keys: set[str] = set()
    group = next((name for name in frame.columns[:2] if frame.schema[name] == pl.String), None)
    for name in frame.columns:
        if name in WINDOW or name in EXCLUDED:
            continue
        column = pl.col(name)
        label = HEADINGS.get(name, name)
        if name.endswith("_share"):
            column = text(column * 100, "{:.1f}%")
            formatted.add(label)
        elif name.endswith("_per_s"):
            column = text(column, "{:.1f}/s")
            formatted.add(label)
        elif name.endswith(("_ms", "busy_s")):  # whole milliseconds/seconds read better
            column = column.round(0).cast(pl.Int64)
        elif name == group or (name == "interval_start" and group is not None):
            keys.add(label)
        columns.append(column.alias(label))
    shown = frame.select(columns)
    return TableView(shown, frozenset(formatted), frozenset(keys), footer_lines(frame))


def render_view(frame: pl.DataFrame, width: int = 80, columns: Sequence[str] = ()) -> str:
    """The terminal table of an analysis result, ``width`` columns wide, and its footer.

    With ``columns`` (a query's ``-- table:``) the table shows those, in that order, and
    shortens its longest texts so that they fit before it leaves any out.

    >>> import polars as pl
    >>> print(render_view(pl.DataFrame({"client": ["kubelet"], "req_per_s": [56.11]})), end="")
    client    req/s
    -------  ------
    kubelet  56.1/s
    """
    if columns:
        kept = [*columns, *(n for n in (*WINDOW, *EXCLUDED) if n in frame.columns)]
        frame = frame.select(n for n in kept if n in frame.columns)
    view = table_view(frame)
    table = render_table(view.frame, view.right_aligned, width, view.keys, squeeze=bool(columns))
    return table + "".join(line + "\n" for line in view.footer)


def footer_lines(frame: pl.DataFrame) -> list[str]:
    """What a result states once below its table: the observation window its rates divide by,
    and the requests a latency result leaves out (so its ``reqs`` reconcile with top-talkers).

    >>> import polars as pl
    >>> from datetime import datetime as dt
    >>> ends = [dt(2019, 2, 4, 12)], [dt(2019, 2, 4, 12, 4, 59, 990000)]
    >>> footer_lines(pl.DataFrame(dict(zip(WINDOW, ends))))
    ['window 2019-02-04 12:00:00 .. 12:04:59 UTC (5m 0s)']
    """
    if not frame.height:
        return []
    lines = []
    if all(name in frame.columns for name in WINDOW):
        first = frame.row(0, named=True)
        start, end = first["window_start"], first["window_end"]
        if start is not None and end is not None:
            lines.append(f"window {window_text(start, end)}")
    if all(name in frame.columns for name in EXCLUDED):
        long_running, incomplete = (int(frame[name].fill_null(0).sum()) for name in EXCLUDED)
        lines.append(
            f"excluded {long_running:,} long-running and {incomplete:,} incomplete requests "
            "(no latency)"
        )
    return lines


def window_text(start: datetime, end: datetime) -> str:
    """A time window as a footer states it: its ends (the date once within a day), its length.

    >>> from datetime import datetime as dt
    >>> window_text(dt(2019, 2, 4, 23), dt(2019, 2, 5, 1, 30))
    '2019-02-04 23:00:00 .. 2019-02-05 01:30:00 UTC (2h 30m 0s)'
    """
    last = f"{end:%H:%M:%S}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M:%S}"
    length = duration_text((end - start).total_seconds())
    return f"{start:%Y-%m-%d %H:%M:%S} .. {last} UTC ({length})"


def duration_text(seconds: float) -> str:
    """A length of time in days, hours, minutes and whole seconds.

    >>> duration_text(299.98), duration_text(45), duration_text(90061)
    ('5m 0s', '45s', '1d 1h 1m 1s')
    """
    left = round(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if left >= size or parts:
            parts.append(f"{left // size}{unit}")
            left %= size
    return " ".join([*parts, f"{left}s"])


def empty_text(reason: EmptyReason) -> str:
    """Why an answer is empty, in one line (stderr), every value from the data escaped.

    >>> from k8saudit.explain import NoSuchValue
    >>> empty_text(NoSuchValue("client", "datadog", ("datadog-agent",)))
    "no client 'datadog'; did you mean 'datadog-agent'?"
    """
    from k8saudit.explain import NoCombination, NoneKept, NoSuchValue, OutsideData

    def quoted(value: str) -> str:
        return f"'{escape_text(value)}'"

    if isinstance(reason, NoSuchValue):
        text = f"no {reason.filter} {quoted(reason.value)}"
        if reason.nearest:
            names = [quoted(v) for v in reason.nearest]
            alternatives = (
                names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
            )
            text += f"; did you mean {alternatives}?"
        return text
    if isinstance(reason, OutsideData):
        since, until = (
            f"{t:%Y-%m-%d %H:%M:%S} UTC" if t else None for t in (reason.since, reason.until)
        )
        window = (
            f"between {since} and {until}" if since and until
            else f"at or after {since}" if since else f"before {until}"
        )  # fmt: skip
        span = window_text(reason.first, reason.last) if reason.first and reason.last else "nothing"
        return f"no requests {window}: the data spans {span}"
    if isinstance(reason, NoCombination):
        named = [f"{name} {quoted(value)}" for name, value in reason.filters if name != "without"]
        filters = " and ".join(named)
        filters += "".join(
            f" with --without {quoted(v)}" for n, v in reason.filters if n == "without"
        )
        within = " in the --since/--until window" if reason.windowed else ""
        return f"no request matches {filters or 'the filters'}{within}"
    assert isinstance(reason, NoneKept)
    command = reason.analysis.replace("_", "-")
    return (
        f"{reason.requests:,} requests match the filters, but {command} keeps none of them "
        f"(see `k8saudit {command} --help`)"
    )


def ingest_summary(report: IngestReport) -> str:
    """The closing summary of an ingest run (stdout): files, requests, span, skips, rejects.

    >>> print(ingest_summary(k8saudit.ingest(["logs/"])), end="")  # doctest: +SKIP
    dataset     k8saudit-data
    ...
    """
    from rich.filesize import decimal

    duplicates = sum(1 for f in report.files if f.status == "duplicate")
    ingested = [f for f in report.files if f.status == "ingested"]
    not_logs = sum(1 for f in report.files if f.status == "not a log")
    unreadable = len(report.files) - len(ingested) - duplicates - not_logs
    formats = ", ".join(f"{name} {n}" for name, n in sorted(report.formats.items()))
    mb_s = report.bytes_read / max(report.seconds, 1e-9) / 1e6
    lines = [
        f"dataset     {escape_text(str(report.dataset))}",
        f"files       {len(ingested)} ingested ({formats or 'none'}), {duplicates} already "
        f"ingested, {not_logs} not a log, {unreadable} unreadable",
        f"requests    +{report.requests_added:,} (now {report.requests_after:,}) from "
        f"{report.events:,} log events",
    ]
    if report.first and report.last:
        lines.append(f"time span   {_span(report.first, report.last)}")
    lines.append(f"skipped     {report.skipped:,} records (not API requests)")
    lines.append(f"rejected    {report.rejected:,} records")
    if report.suspicious:
        lines.append(
            f"suspicious  {report.suspicious:,} events dated before 2014 or over a day after "
            "their file was written (kept)"
        )
    if report.conflicts:
        lines.append(
            f"conflicts   {report.conflicts:,} audit IDs with complete events that disagree "
            "(the latest completion kept)"
        )
    lines.append(
        f"took        {report.seconds:.2f} s ({decimal(report.bytes_read)}, {mb_s:.0f} MB/s)"
    )
    return "\n".join(lines) + "\n"


def merge_summary(report: MergeReport) -> str:
    """The closing summary of ``k8saudit merge`` (stdout): shards, files, requests.

    >>> print(merge_summary(k8saudit.merge(["a", "b"], dataset="ab")), end="")  # doctest: +SKIP
    dataset     ab
    ...
    """
    shards = ", ".join(escape_text(str(p)) for p in report.inputs) or "none"
    lines = [
        f"dataset     {escape_text(str(report.dataset))}",
        f"merged      {len(report.inputs)} datasets ({shards})",
        f"files       {report.files_added} added, {report.files_duplicate} already held",
        f"requests    {report.requests_after:,} (was {report.requests_before:,}) from "
        f"{report.rows_read:,} request rows",
        f"took        {report.seconds:.2f} s",
    ]
    return "\n".join(lines) + "\n"


def ingest_notes(report: IngestReport) -> list[str]:
    """The warnings and notes on an ingest run's files, one line each (stderr, before the
    summary): unreadable files, where a klog year came from.

    >>> ingest_notes(k8saudit.ingest(["logs/"]))  # doctest: +SKIP
    ['note: logs/ground_truth.json: not a log (JSON without audit events ...); skipped']
    """
    lines = []
    for f in report.files:
        if f.status == "unreadable":
            lines.append(f"warning: {escape_text(f.path)}: {escape_text(f.message)}; skipped")
        elif f.status == "not a log":
            lines.append(f"note: {escape_text(f.path)}: {escape_text(f.message)}; skipped")
        elif f.status == "ingested" and f.message:
            lines.append(f"note: {escape_text(f.path)}: {escape_text(f.message)}")
        if f.warning:
            lines.append(f"warning: {escape_text(f.path)}: {escape_text(f.warning)}")
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
