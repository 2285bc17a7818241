"""One renderer for every output format (table, csv, json, parquet, markdown) and the texts.

Results are polars DataFrames, or ``k8saudit.rows.Rows`` (plain values: what a command renders
without importing polars); this module turns them into text or files, the text formats of both
through the same code but CSV and JSON, which polars writes for a DataFrame and ``rows_csv`` /
``rows_json`` byte for byte the same for Rows (a test compares them); a command's CSV and JSON
are mostly written by DuckDB instead (``k8saudit.engine_text``: the same bytes again, the
answer then a ``WrittenText``, which renders as its text). An analysis's terminal
table is its ``table_view`` (short headings, shares as %, rates as /s) laid out by
``k8saudit.tables`` for the terminal's width, with what holds for every row stated once below
it: the observation window its rates divide by, the requests a latency result leaves out.
csv/json/parquet keep every column with raw numbers; markdown states the footer too. The
ingest summary, ``info`` and the explanation of an empty answer are rendered here as well, with
every string from a log escaped, so the CLI only prints them.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from k8saudit.engine_text import WrittenText, csv_field
from k8saudit.exceptions import UsageError
from k8saudit.params import HEADINGS
from k8saudit.rows import NUMERIC, Rows, as_rows, time_texts
from k8saudit.tables import (
    EXCLUDED,
    RATE,
    REWRITTEN,
    SHARE,
    WHOLE,
    WINDOW,
    column_cells,
    escape_text,
    key_columns,
    markdown_cells,
    render_table,
    render_wrapped,
)

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


def render_markdown(frame: pl.DataFrame | Rows) -> str:
    """A GitHub-flavoured markdown table (pipes in values escaped), then its footer lines.

    >>> import polars as pl
    >>> print(render_markdown(pl.DataFrame({"c": ["a|b"], "n": [2.5]})), end="")
    | c | n |
    |---|---:|
    | a\\|b | 2.5 |
    """
    rows = as_rows(frame)
    out = ["| " + " | ".join(markdown_cells(list(rows.names))) + " |"]
    out.append("|" + "|".join("---:" if kind in NUMERIC else "---" for kind in rows.kinds) + "|")
    texts = [
        markdown_cells(column_cells(c, k)) for c, k in zip(rows.values, rows.kinds, strict=True)
    ]
    out += ["| " + " | ".join(cells) + " |" for cells in zip(*texts, strict=True)]
    footer = footer_lines(rows)
    return "\n".join(out + (["", *footer] if footer else [])) + "\n"


#: what a spreadsheet takes as the start of a formula (OWASP "CSV injection"): such a cell is
#: prefixed with a single quote, which makes it text
FORMULA_START = r"^[=+\-@\t\r]"
CONTROL = r"[\x00-\x1f\x7f-\x9f]"
_FORMULA_START, _CONTROL = re.compile(FORMULA_START), re.compile(CONTROL)


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


def rows_csv(rows: Rows) -> str:
    """``rows`` as ``csv_safe(frame).write_csv()`` writes the same result as a DataFrame, byte
    for byte (a test compares them), without polars.

    >>> rows = Rows(("ua", "n"), ("string", "float"), (["=1", 'a"b'], [2.0, None]))
    >>> print(rows_csv(rows), end="")
    ua,n
    '=1,2.0
    "a""b",
    """
    columns = [
        _CSV_COLUMN[kind](values) for kind, values in zip(rows.kinds, rows.values, strict=True)
    ]
    lines = [",".join(csv_field(name) for name in rows.names)]
    lines += map(",".join, zip(*columns, strict=True))
    return "\n".join(lines) + "\n"


#: what joins a column's strings for one look at all of them: printable, nothing CSV quotes,
#: no formula start (in a value it can only send the column the slow way)
_JOIN = "\u00b6"
#: in a column's strings so joined: a value opening with a formula start, or empty
_FORMULA_OR_EMPTY = re.compile(f"{_JOIN}(?:[=+\\-@]|{_JOIN}|$)")


def _csv_strings(values: Sequence[str | None]) -> list[str]:
    # most columns hold no value that needs more than writing: one look at all of them instead
    # of three tests of each (a 140 k-row answer was written in 2.8 s, most of it here). Not
    # printable: a control character (and a few other characters, which take the slow way).
    joined = _JOIN + _JOIN.join(v for v in values if v is not None)
    if (
        not joined.isprintable()
        or "," in joined
        or '"' in joined
        or _FORMULA_OR_EMPTY.search(joined)
    ):
        return ["" if v is None else _csv_text(v) for v in values]
    return ["" if v is None else v for v in values]


def _csv_values(write: Callable[[Any], str]) -> Callable[[Sequence[Any]], list[str]]:
    return lambda values: ["" if v is None else write(v) for v in values]


def _csv_time(value: datetime) -> str:
    # as f"{value.year:04d}-{value:%m-%dT%H:%M:%S.%f%z}" writes it, at half the cost; a time
    # past the year 9999 is DuckDB's text of it (rows.Rows)
    if not isinstance(value, datetime):
        return _csv_text(str(value))
    text = value.isoformat(timespec="microseconds")
    return text[:26] + text[26:].replace(":", "")


def _csv_iso(texts: list[str | None]) -> list[str]:
    return ["" if t is None else t + "+0000" for t in texts]


def _csv_text(value: str) -> str:
    # csv_safe's rules: control characters escaped, a formula start quoted
    text = escape_text(value) if _CONTROL.search(value) else value
    return csv_field("'" + text if _FORMULA_START.match(text) else text)


def _csv_float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return float_text(value) if math.isfinite(value) else repr(value)  # inf, -inf


_CSV_COLUMN: dict[str, Callable[[Sequence[Any]], list[str]]] = {
    "string": _csv_strings,
    "integer": _csv_values(str),
    "boolean": _csv_values(lambda v: "true" if v else "false"),
    "float": _csv_values(_csv_float),
    "timestamptz": lambda values: time_texts(values, _csv_time, _csv_iso),
    "list": _csv_values(lambda v: _csv_text(";".join(e for e in v if e is not None))),
}


def rows_json(rows: Rows) -> str:
    """``rows`` as a DataFrame's ``write_json`` writes the same result, byte for byte (a test
    compares them), without polars: one object per row.

    >>> print(rows_json(Rows(("s", "x"), ("string", "float"), (["a\\x1b", None], [1e20, 0.5]))))
    [{"s":"a\\u001b","x":1e+20},{"s":null,"x":0.5}]
    """
    members = [
        _json_members(json.dumps(name, ensure_ascii=False) + ":", kind, values)
        for name, kind, values in zip(rows.names, rows.kinds, rows.values, strict=True)
    ]
    return "[" + ",".join("{" + ",".join(row) + "}" for row in zip(*members, strict=True)) + "]"


#: what json.dumps escapes in a string (ensure_ascii=False): quotes, backslashes, controls
_JSON_ESCAPED = re.compile(r'[\x00-\x1f"\\]')


def _json_members(key: str, kind: str, values: Sequence[Any]) -> list[str]:
    """A column's ``"name":value`` members, made column by column: a column of strings that
    need no escape (most) is quoted as it is, not dumped value by value (140 k rows of 16
    columns: 3.4 -> 1.1 s)."""
    if kind == "string" and not _JSON_ESCAPED.search("".join(filter(None, values))):
        return [key + "null" if v is None else key + '"' + v + '"' for v in values]
    if kind == "timestamptz":
        return [key + t for t in time_texts(values, _json_time, _json_iso, "null")]
    write = _JSON_VALUE[kind]
    return [key + "null" if v is None else key + write(v) for v in values]


def _json_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json_time(value: datetime) -> str:
    # RFC 3339 with the fewest of 0, 3 or 6 decimals that hold the microseconds; isoformat
    # writes the rest but for a time with no zone or an offset in seconds; a time past the
    # year 9999 is DuckDB's text of it (rows.Rows)
    if not isinstance(value, datetime):
        return _json_string(str(value))
    text = value.isoformat("T", "seconds")
    if len(text) != 25:
        offset = value.strftime("%z")  # none for a naive time ('infinity' as fetchall gives it)
        zone = f"{offset[:3]}:{offset[3:]}" if offset else ""
        text = f"{value.year:04d}-{value:%m-%dT%H:%M:%S}{zone}"
    micros = value.microsecond
    fraction = (
        "" if not micros else f".{micros // 1000:03d}" if not micros % 1000 else f".{micros:06d}"
    )
    return f'"{text[:19]}{fraction}{text[19:]}"'


def _json_iso(texts: list[str | None]) -> list[str]:
    # as _json_time writes them: the fewest of 0, 3 or 6 decimals
    return [
        "null" if t is None
        else f'"{t[:19]}+00:00"' if t.endswith("000000")
        else f'"{t[:23]}+00:00"' if t.endswith("000")
        else f'"{t}+00:00"'
        for t in texts
    ]  # fmt: skip


_JSON_VALUE: dict[str, Callable[[Any], str]] = {
    "string": _json_string,
    "integer": str,
    "boolean": lambda v: "true" if v else "false",
    "float": lambda v: float_text(v) if math.isfinite(v) else "null",
    "timestamptz": _json_time,
    "list": lambda v: "[" + ",".join("null" if e is None else _json_string(e) for e in v) + "]",
}


def float_text(value: float) -> str:
    """A finite float as polars writes it: the shortest digits that read back the same, in
    positional notation from 1e-5 to below 1e16, else scientific (``1e-7``, ``1.5e+16``).

    >>> float_text(55.15), float_text(1e15), float_text(1e16), float_text(1e-5), float_text(-1e-7)
    ('55.15', '1000000000000000.0', '1e+16', '0.00001', '-1e-7')
    """
    text = repr(value)
    sign = "-" if text.startswith("-") else ""
    mantissa, _, exponent = text.lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    joined = whole + fraction
    digits = joined.lstrip("0").rstrip("0")
    if not digits:
        return sign + "0.0"
    # the value is 0.<digits> x 10^point
    point = len(whole) + int(exponent or 0) - (len(joined) - len(joined.lstrip("0")))
    if len(digits) <= point <= 16:
        return sign + digits + "0" * (point - len(digits)) + ".0"
    if 0 < point <= 16:
        return sign + digits[:point] + "." + digits[point:]
    if -5 < point <= 0:
        return sign + "0." + "0" * -point + digits
    power = point - 1
    head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{head}e{'+' if power >= 0 else '-'}{abs(power)}"


def render(
    frame: pl.DataFrame | Rows | WrittenText, fmt: str | OutputFormat = OutputFormat.TABLE
) -> str | bytes:
    """Render ``frame`` in ``fmt``: text for every format but parquet (bytes). A
    ``WrittenText`` (an answer DuckDB wrote: ``Dataset.answer_text``) is its text already.

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
    if isinstance(frame, WrittenText):
        if kind.value != frame.fmt:
            raise TypeError(f"an answer written as {frame.fmt} is not rendered as {kind.value}")
        return frame.text
    if kind is OutputFormat.TABLE:
        return render_table(frame)
    if kind is OutputFormat.MARKDOWN:
        return render_markdown(frame)
    if kind is OutputFormat.CSV:
        return rows_csv(frame) if isinstance(frame, Rows) else csv_safe(frame).write_csv()
    if kind is OutputFormat.JSON:
        if isinstance(frame, Rows):
            return rows_json(frame) + "\n"
        buffer = io.StringIO()
        frame.write_json(buffer)
        return buffer.getvalue() + "\n"
    if isinstance(frame, Rows):
        raise TypeError("parquet is written from a DataFrame, not from Rows")
    out = io.BytesIO()
    frame.write_parquet(out)
    return out.getvalue()


def write_output(
    frame: pl.DataFrame | Rows | WrittenText,
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

    frame: Rows
    right_aligned: frozenset[str]
    keys: frozenset[str]
    footer: list[str]


def table_view(frame: pl.DataFrame | Rows) -> TableView:
    """``frame`` formatted for the terminal: short headings, shares as %, rates as ``/s``.

    The group column (the first text column among the first two) and an ``interval_start``
    before it are the keys; the window and the excluded counts become footer lines instead of
    columns. The % and /s columns are text, so the view names them for ``render_table`` to
    right-align.

    >>> import polars as pl
    >>> table_view(pl.DataFrame({"c": ["a"], "request_share": [0.1234]})).right_aligned
    frozenset({'req%'})
    """
    rows = as_rows(frame)

    def text(values: list[Any], fmt: str) -> list[str | None]:
        return [None if v is None else fmt.format(v) for v in values]

    names: list[str] = []
    kinds: list[str] = []
    columns: list[list[Any]] = []
    formatted: set[str] = set()
    keys = key_columns(rows.names, rows.kinds)
    for name, kind, values in zip(rows.names, rows.kinds, rows.values, strict=True):
        if name in WINDOW or name in EXCLUDED:
            continue
        label = HEADINGS.get(name, name)
        if name.endswith(SHARE):
            values, kind = (
                text([None if v is None else v * 100 for v in values], "{:.1f}%"),
                "string",
            )
            formatted.add(label)
        elif name.endswith(RATE):
            values, kind = text(values, "{:.1f}/s"), "string"
            formatted.add(label)
        elif name.endswith(WHOLE):  # whole milliseconds/seconds read better
            values, kind = [None if v is None else round(v) for v in values], "integer"
        names.append(label)
        kinds.append(kind)
        columns.append(values)
    shown = Rows(tuple(names), tuple(kinds), tuple(columns))
    # a key keeps its values as they are
    labels = frozenset(HEADINGS.get(n, n) for n in keys if not n.endswith(REWRITTEN))
    return TableView(shown, frozenset(formatted), labels, footer_lines(rows))


def render_view(frame: pl.DataFrame | Rows, width: int = 80, columns: Sequence[str] = ()) -> str:
    """The terminal table of an analysis result, ``width`` columns wide, and its footer.

    With ``columns`` (a query's ``-- table:``) the table shows those, in that order, and
    shortens its longest texts so that they fit before it leaves any out.

    >>> import polars as pl
    >>> print(render_view(pl.DataFrame({"client": ["kubelet"], "req_per_s": [56.11]})), end="")
    client    req/s
    -------  ------
    kubelet  56.1/s
    """
    rows = as_rows(frame)
    if columns:
        kept = [*columns, *(n for n in (*WINDOW, *EXCLUDED) if n in rows.names)]
        rows = rows.select(n for n in kept if n in rows.names)
    view = table_view(rows)
    table = render_table(view.frame, view.right_aligned, width, view.keys, squeeze=bool(columns))
    return table + "".join(line + "\n" for line in view.footer)


def footer_lines(frame: pl.DataFrame | Rows) -> list[str]:
    """What a result states once below its table: the observation window its rates divide by,
    and the requests a latency result leaves out (so its ``reqs`` reconcile with top-talkers).

    >>> import polars as pl
    >>> from datetime import datetime as dt
    >>> ends = [dt(2019, 2, 4, 12)], [dt(2019, 2, 4, 12, 4, 59, 990000)]
    >>> footer_lines(pl.DataFrame(dict(zip(WINDOW, ends))))
    ['window 2019-02-04 12:00:00 .. 12:04:59 UTC (5m 0s)']
    """
    rows = as_rows(frame)
    if not rows.height:
        return []
    lines = []
    if all(name in rows.names for name in WINDOW):
        first = rows.row(0, named=True)
        start, end = first["window_start"], first["window_end"]
        if start is not None and end is not None:
            lines.append(f"window {window_text(start, end)}")
    if all(name in rows.names for name in EXCLUDED):
        long_running, incomplete = (
            int(sum(0 if v is None else v for v in rows.column(name))) for name in EXCLUDED
        )
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
