"""One renderer for every output format: table, csv, json, parquet, markdown.

Results are polars DataFrames; this module turns them into text or files. The terminal table is
built for an 80-column screen: numbers right-aligned, long strings cut with an ellipsis, and
control characters in attacker-controlled strings (user agents, usernames, URIs) escaped so a
log line cannot repaint the terminal.
"""

from __future__ import annotations

import io
import math
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k8saudit.exceptions import UsageError

if TYPE_CHECKING:
    from collections.abc import Collection

    import polars as pl


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
