"""The plain-text table: cells in one style per column, fitted to a width without lying.

A person in an incident reads these tables at a glance, so three things must hold whatever the
data: a number column has one style (``2,518.000`` beside ``503.629``, never ``2,518``), the
group key columns (the ``--by`` values, the interval) are shown whole while numeric columns
that do not fit are left out, and two different groups never print the same: a long value is
shortened in the middle, at a cut chosen so that every value stays distinct. Control characters
in attacker-controlled strings (user agents, usernames, URIs) are escaped so a log line cannot
repaint the terminal. ``k8saudit.render`` builds analysis views on top of this.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from k8saudit.rows import NUMERIC, TEMPORAL, Rows, as_rows, time_texts

if TYPE_CHECKING:
    import polars as pl

#: the widest a text cell of a column that is not a group key prints
MAX_CELL = 48
#: the narrowest a group key is shortened to when even one number does not fit beside it
MIN_KEY = 12
#: how narrow ``squeeze`` makes a text column at most before columns are left out instead
MIN_SQUEEZED = 22
#: the decimals a float cell keeps at most
DECIMALS = 3
ELLIPSIS = "…"
#: the columns of a result that its table states once below itself instead of in every row
WINDOW = ("window_start", "window_end")
EXCLUDED = ("long_running", "incomplete")
#: the ends of the names of the columns whose values an analysis's table view rewrites
#: (``render.table_view``): shares as %, rates as /s, durations in whole milliseconds/seconds
SHARE, RATE, WHOLE = "_share", "_per_s", ("_ms", "busy_s")
REWRITTEN = (SHARE, RATE, *WHOLE)


def escape_text(value: str) -> str:
    """Make an untrusted string safe to print: control characters become visible escapes.

    >>> escape_text("evil\\x1b[2Jua")
    'evil\\\\x1b[2Jua'
    """
    if value.isprintable():
        return value
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in value)


def markdown_cells(texts: list[str]) -> list[str]:
    """A column's cells as markdown holds them: HTML and pipes escaped (a markdown viewer
    renders HTML: a user agent `<img src=x onerror=...>` stays text), control characters made
    visible; a column with none of them in one look at all of it (most) as it is.

    >>> markdown_cells(["a|b", "<i>"])
    ['a\\\\|b', '&lt;i&gt;']
    """
    joined = "".join(texts)
    if joined.isprintable() and not any(c in joined for c in "&<>|"):
        return texts
    return [
        escape_text(t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")).replace(
            "|", "\\|"
        )
        for t in texts
    ]


def cell(value: Any, decimals: int = DECIMALS) -> str:
    """One value as a table prints it (floats with ``decimals`` places, thousands separated).

    >>> cell(2518.0, 3), cell(1234567), cell(None)
    ('2,518.000', '1,234,567', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:,.{decimals}f}" if abs(value) < 1e15 else f"{value:.3e}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".")
    if isinstance(value, list):
        return ",".join(cell(v) for v in value)
    return escape_text(str(value))


def column_decimals(values: Sequence[Any]) -> int:
    """The decimals a float column needs: the most any of its values needs, at most 3.

    >>> column_decimals([503.629, 2518.0]), column_decimals([1.5, 2.0]), column_decimals([3.0])
    (3, 1, 0)
    """
    needed = 0
    for value in values:
        if isinstance(value, float) and math.isfinite(value) and abs(value) < 1e15:
            fraction = f"{value:.{DECIMALS}f}".split(".")[1].rstrip("0")
            needed = max(needed, len(fraction))
    return needed


def column_cells(values: Sequence[Any], kind: str = "other") -> list[str]:
    """Each value of a column of ``kind`` (``rows.KINDS``) as ``cell`` prints it: strings,
    integers and times laid out by their kind, any other with the decimals the column needs
    (found once for the column: found for every value, a 140 k-row answer took 13 minutes as
    markdown).

    >>> column_cells([1.5, 2.0, None]), column_cells([1234, None], "integer")
    (['1.5', '2.0', ''], ['1,234', ''])
    """
    if kind in _CELLS:
        return _CELLS[kind](values)
    decimals = column_decimals(values)
    return [cell(value, decimals) for value in values]


def shorten(values: Sequence[str], width: int) -> list[str]:
    """Each value at most ``width`` characters, cut in the middle; different values stay
    different (the cut moves, and the width grows only when no cut keeps them apart).

    >>> shorten(["kube-controller-manager/leader-election", "kube-scheduler"], 20)
    ['kube-contro…election', 'kube-scheduler']
    """
    distinct = set(values)
    longest = max((len(v) for v in distinct), default=0)
    for size in range(max(width, 2), longest + 1):
        for head in _heads(size):
            cut = {v: _cut_middle(v, size, head) for v in distinct}
            if len(set(cut.values())) == len(cut):
                return [cut[v] for v in values]
    return list(values)


def _heads(size: int) -> list[int]:
    # the kept head's length: nearest to three fifths of the cell first, then all head or all
    # tail; a few tries per width keep many long values (10,000 user agents) fast
    preferred = round((size - 1) * 0.6)
    near = sorted(range(1, size - 1), key=lambda h: (abs(h - preferred), h))[:6]
    return list(dict.fromkeys([*near, size - 2, 1]))


def _cut_middle(text: str, size: int, head: int) -> str:
    if len(text) <= size:
        return text
    tail = size - 1 - head
    return text[:head] + ELLIPSIS + (text[-tail:] if tail else "")


def render_table(
    frame: pl.DataFrame | Rows,
    right_aligned: Collection[str] = (),
    width: int | None = None,
    keys: Collection[str] = (),
    squeeze: bool = False,
) -> str:
    """A plain-text table with a header rule; numbers right-aligned, one style per column.

    ``right_aligned`` names text columns that hold numbers already formatted for reading
    (``55.1%``, ``56.1/s``). With a ``width``, the columns after the ``keys`` that do not fit
    are left out; the keys are shortened (in the middle) only when not even one more column
    fits beside them. With ``squeeze``, the widest text columns are shortened first (to no
    less than ``MIN_SQUEEZED``; times are not), so that as many columns as can fit are shown.

    >>> import polars as pl
    >>> print(render_table(pl.DataFrame({"c": ["a", "b"], "x": [503.629, 2518.0]})), end="")
    c          x
    -  ---------
    a    503.629
    b  2,518.000
    """
    rows = as_rows(frame)
    names = rows.names
    numeric = [k in NUMERIC or n in right_aligned for n, k in zip(names, rows.kinds, strict=True)]
    # a column is laid out when it is shown or looked at: a long answer of many columns only
    # shows the few that fit on the terminal
    columns: list[list[str]] = [[] for _ in names]
    widths = [0] * len(names)
    laid_out = [False] * len(names)

    def width_of(i: int) -> int:
        if not laid_out[i]:
            columns[i] = _cells(rows.values[i], names[i] in keys, rows.kinds[i])
            widths[i] = max([len(names[i]), *map(len, columns[i])])
            laid_out[i] = True
        return widths[i]

    shown = list(range(len(names)))
    if width is None or squeeze:
        for i in shown:
            width_of(i)
    if width is not None:
        if squeeze:
            # a time shortened in its middle says nothing: only the other texts are
            temporal = [kind in TEMPORAL for kind in rows.kinds]
            texts = [i for i in range(len(names)) if not numeric[i] and not temporal[i]]
            _squeeze(names, columns, widths, texts, width)

        def shorten_key(i: int, target: int) -> None:
            columns[i] = shorten(columns[i], target)
            widths[i] = max([len(names[i]), *map(len, columns[i])])

        shown = fit(names, width_of, keys, width, None if squeeze else shorten_key)
    # column by column, then joined line by line
    padded = [
        [c.rjust(widths[i]) if numeric[i] else c.ljust(widths[i]) for c in [names[i], *columns[i]]]
        for i in shown
    ]
    lines = ["  ".join(cells).rstrip() for cells in zip(*padded, strict=True)] if shown else [""]
    body = "\n".join(lines[1:]) if rows.height else None
    return table_text(lines[0], [widths[i] for i in shown], body)


def table_text(heading: str, widths: Sequence[int], body: str | None) -> str:
    """A table's text from its heading line, the widths of its columns shown and its lines
    joined (None: it has no rows).

    >>> print(table_text("c  n", [1, 1], "a  1"), end="")
    c  n
    -  -
    a  1
    """
    rows = "(no rows)" if body is None else body
    return f"{heading}\n{'  '.join('-' * w for w in widths)}\n{rows}\n"


def key_columns(names: Sequence[str], kinds: Sequence[str]) -> set[str]:
    """The columns an analysis's table shows whole (its keys): the group column (the first
    text column among the first two) and an ``interval_start`` beside it.

    >>> sorted(key_columns(["interval_start", "client", "n"], ["timestamptz", "string", "integer"]))
    ['client', 'interval_start']
    """
    group = next((n for n, k in zip(names[:2], kinds[:2], strict=True) if k == "string"), None)
    if group is None:
        return set()
    return {group} | ({"interval_start"} & set(names))


def fit(
    names: Sequence[str],
    width_of: Callable[[int], int],
    keys: Collection[str],
    width: int,
    shorten_key: Callable[[int, int], None] | None = None,
) -> list[int]:
    """The columns shown in ``width`` (every key, then the others from the left while they
    fit); when the keys alone are too wide, ``shorten_key(i, target)`` shortens the widest
    one to the width that fits (no less than ``MIN_KEY``), after which ``width_of(i)`` is
    its new width.

    >>> fit(["client", "n", "m"], [8, 3, 3].__getitem__, {"client"}, 13)
    [0, 1]
    """
    shown = _fit(names, width_of, keys, width)
    key_at = [i for i in shown if names[i] in keys]
    over = sum(width_of(i) for i in shown) + 2 * (len(shown) - 1) - width
    if over > 0 and key_at and shorten_key is not None:
        widest = max(key_at, key=width_of)
        shorten_key(widest, max(width_of(widest) - over, MIN_KEY, len(names[widest])))
    return shown


def render_wrapped(frame: pl.DataFrame | Rows, width: int = 80) -> str:
    """A table whose last column is wrapped (never cut) to fit ``width``: for long prose like
    the query library's descriptions. The other columns print whole.

    >>> import polars as pl
    >>> text = "one two three four five six seven"
    >>> print(render_wrapped(pl.DataFrame({"n": ["a"], "d": [text]}), 25), end="")
    n  d
    -  ------------------
    a  one two three four
       five six seven
    """
    import textwrap

    rows = as_rows(frame)
    names = rows.names
    columns = [[cell(v) for v in values] for values in rows.values]
    widths = [max([len(n), *map(len, c)]) for n, c in zip(names[:-1], columns, strict=False)]
    indent = sum(widths) + 2 * len(widths)
    room = max(width - indent, 20)
    wrapped = [textwrap.wrap(text, room, break_on_hyphens=False) or [""] for text in columns[-1]]
    last = max([len(names[-1]), *(len(line) for lines in wrapped for line in lines)])

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, [*widths, last], strict=True)).rstrip()

    out = [line(list(names)), "  ".join("-" * w for w in [*widths, last])]
    for row, lines in enumerate(wrapped):
        out.append(line([c[row] for c in columns[:-1]] + [lines[0]]))
        out += [" " * indent + more for more in lines[1:]]
    return "\n".join(out) + "\n"


def _cells(values: list[Any], key: bool, kind: str) -> list[str]:
    texts = column_cells(values, kind)
    if key or max(map(len, texts), default=0) <= MAX_CELL:
        return texts
    return shorten(texts, MAX_CELL)


def _text_cells(values: Sequence[str | None]) -> list[str]:
    # a column whose every character prints (most) needs no escape: one look at all of it
    if "".join(filter(None, values)).isprintable():
        return ["" if v is None else v for v in values]
    return [cell(v) for v in values]


def _time_cell(value: datetime) -> str:
    # strftime("%Y-%m-%d %H:%M:%S.%f") at half the cost (it writes a year before 1000
    # without its zeros); a time past the year 9999 is DuckDB's text of it (rows.Rows)
    if not isinstance(value, datetime) or value.year < 1000:
        return cell(value)
    return value.isoformat(" ", "microseconds")[:26].rstrip("0").rstrip(".")


def _iso_cells(texts: list[str | None]) -> list[str]:
    return ["" if t is None else t.replace("T", " ").rstrip("0").rstrip(".") for t in texts]


#: the cells of a column of these kinds as ``cell`` writes them, without its tests of each
#: value's type (a 140 k-row answer took 1.9 s to lay out, most of it in ``cell``)
_CELLS: dict[str, Callable[[Sequence[Any]], list[str]]] = {
    "string": _text_cells,
    "integer": lambda values: ["" if v is None else f"{v:,}" for v in values],
    "timestamptz": lambda values: time_texts(values, _time_cell, _iso_cells),
}


def _squeeze(
    names: Sequence[str], columns: list[list[str]], widths: list[int], texts: list[int], width: int
) -> None:
    """Shorten the widest of the ``texts`` columns, one character at a time, until the table
    fits ``width`` or none can be shortened further (``MIN_SQUEEZED``, or its heading's length)."""
    over = sum(widths) + 2 * (len(widths) - 1) - width
    floor = {i: max(MIN_SQUEEZED, len(names[i])) for i in texts}
    while over > 0:
        candidates = [i for i in texts if widths[i] > floor[i]]
        if not candidates:
            return
        widest = max(candidates, key=lambda i: widths[i])
        target = max(
            widths[widest] - over, floor[widest], *(widths[i] for i in candidates if i != widest), 0
        )
        target = min(target, widths[widest] - 1)
        columns[widest] = shorten(columns[widest], target)
        new = max([len(names[widest]), *map(len, columns[widest])])
        if new >= widths[widest]:  # no cut keeps its values apart
            floor[widest] = widths[widest]
            continue
        over -= widths[widest] - new
        widths[widest] = new


def _fit(
    names: Sequence[str], width_of: Callable[[int], int], keys: Collection[str], width: int
) -> list[int]:
    """The columns shown: every key, then the others from the left while they fit (at least
    one, for which the keys make room); ``width_of(i)``: column i's width, asked for only of
    the keys and of the columns up to the first that does not fit."""
    key_at = [i for i, n in enumerate(names) if n in keys]
    shown = list(key_at)
    used = sum(width_of(i) for i in key_at) + 2 * max(len(key_at) - 1, 0)
    for i, _ in enumerate(names):
        if i in key_at:
            continue
        extra = width_of(i) + (2 if shown else 0)
        if shown and used + extra > width and (len(shown) > len(key_at) or not key_at):
            break
        shown.append(i)
        used += extra
    return sorted(shown)
