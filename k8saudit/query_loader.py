"""The query library: ``queries/*.sql`` files loaded, checked and bound (aiosql-style).

SQL is code: every analysis is one ``.sql`` file whose header is the one place its name, help,
parameters, shape and chart are written; the ``Dataset`` methods, the ``k8saudit.NAME()``
shortcuts, the CLI commands with their ``--help`` and the README's command table are all derived
from it. A file is checked when it loads: a ``$name`` used but not declared, or declared but not
used, is a ``QueryError`` naming the file and line, so a typo never reaches a user's terminal as
a DuckDB binder error. Values are always bound (``$name``), never formatted into SQL.

Header syntax::

    -- name: top_talkers
    -- Who sends the API server the most work ...   (description lines: the help text)
    -- shape: grouped                               (grouped | over-time | listing)
    -- chart: bar                                   (bar | line | area; none if absent)
    -- filters: common                              (reads the `filtered` relation)
    -- with: _open_counts                           (reads the `open_counts` relation)
    -- param: sort VARCHAR = 'requests' IN (requests, p99_ms)  -- rank by this column
    -- param: audit_from TIMESTAMPTZ FROM _audit_span  -- set from that file's one-row result
    -- cli: limit = 20                              (the command's default, if not the library's)
    -- table: client, operation, req_per_s          (the terminal table's columns, if not all)
    -- arg: object RESOURCE[/NAME]                  (a positional argument, see below)
    -- inline: yes                                  (a part: computed again where it is read)
    -- keep: yes                                    (a part: kept for a reader of many queries)

Parameter types are SQL types plus DURATION and GROUPING (``k8saudit.params``). Files starting
with ``_`` are not analyses but parts of them. ``queries/_filters.sql`` declares the common
filters once; a query with ``-- filters: common`` gets it as the CTE ``filtered`` and inherits
its parameters. A query with ``-- with: _NAME`` gets ``queries/_NAME.sql`` (which reads
``filtered``) as the CTE ``NAME``: one piece of SQL that several analyses share. The
parameters a part declares are the query's own too, after those of the file itself
(``_inflight_levels``'s ``totals``: ``inflight --no-totals``).

``filtered`` is ``NOT MATERIALIZED``: each place that reads it scans the Parquet parts again
for the columns it reads, where DuckDB would otherwise hold every filtered row of every
column any reader needs (pollers on 10 M requests: 3.3 GB held, 0.7 GB not). A part as cheap
to compute again (a projection of ``filtered``) declares ``-- inline: yes`` and is not held
either; one that costs more to compute than to hold (a window, a join) is held where it is
read twice. A part may read an earlier part (``_inflight_seconds`` reads ``inflight_levels``):
the query declares both, in that order. A part whose rows are few and costly to compute
declares ``-- keep: yes``: inside ``Dataset.keeping()`` (the report) it is computed once for
each binding of its parameters into a temp table, which every query reading it then reads
(``kept_parts``, ``part_statement``, ``reading``). A query may declare a part's parameter
again, of the same type, to place it among its own options with its own help.

``-- arg: NAME [METAVAR]`` makes the declared parameter NAME (the file's own or a common filter)
a positional argument, in the order of the ``arg`` lines: ``k8saudit who VERB RESOURCE[/NAME]``
on the command line, ``ds.who("delete", "deployments/web")`` in Python. METAVAR (default: NAME in
capitals) is how usage lines write it; in brackets (``[USER]``) the argument may be left out,
else it is required and binding without it is a ``UsageError``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, Protocol

from k8saudit.durations import parse_duration
from k8saudit.exceptions import QueryError, UsageError
from k8saudit.params import TYPES, Param, convert

#: the part every ``-- filters: common`` query reads as its ``filtered`` relation
FILTERS = "_filters"
#: the shapes of result an analysis declares: one row per group, per interval and group, per item
SHAPES = ("grouped", "over-time", "listing")
#: the charts an analysis may declare
CHARTS = ("bar", "line", "area")
#: a directory of ``.sql`` files to load instead of the packaged library (tests, query authors)
QUERY_DIR_ENV = "_K8SAUDIT_QUERY_DIR"

#: one character of a word (`\w` in a pattern), for ``_has_word``
_WORD_CHAR = re.compile(r"\w")
_PARAM_LINE = re.compile(
    r"^param:\s*(?P<name>[A-Za-z_]\w*)\s+(?P<type>[A-Za-z]+(?:\[\])?)"
    r"(?:\s*=\s*(?P<default>'[^']*'|[^\s-]+))?"
    r"(?:\s+IN\s*\((?P<choices>[^)]*)\))?"
    r"(?:\s+FROM\s+(?P<source>_\w+))?"
    r"\s*(?:--\s*(?P<description>.*))?$"
)
_CLI_LINE = re.compile(r"^cli:\s*(?P<name>[A-Za-z_]\w*)\s*=\s*(?P<default>'[^']*'|\S+)$")
_ARG_LINE = re.compile(r"^arg:\s*(?P<name>[A-Za-z_]\w*)(?:\s+(?P<metavar>\S+))?$")
_FILTERS_LINE = re.compile(r"^--\s*filters:", re.MULTILINE)
#: ``CREATE [TEMP] TABLE name AS`` and ``COPY (``: a WITH clause goes in front of what follows
_QUERY_INSIDE = re.compile(
    r"\s*(?:CREATE\s+(?:TEMP\s+)?TABLE\s+\w+\s+AS\s+|COPY\s*\(\s*)", re.IGNORECASE
)
_WITH = re.compile(r"\s*WITH\s+", re.IGNORECASE)
#: a bound parameter (``$name``) in SQL text
PLACEHOLDER = re.compile(r"\$([A-Za-z_]\w*)")
#: string literals and comments, which may contain `$` without it being a parameter
NOT_CODE = re.compile(r"'(?:[^']|'')*'|--[^\n]*")


@dataclass(frozen=True)
class Arg:
    """A parameter given by position (``-- arg: NAME [METAVAR]``).

    >>> Arg("user", "[USER]").required, Arg("verb", "VERB").required
    (False, True)
    """

    name: str
    metavar: str

    @property
    def required(self) -> bool:
        return not self.metavar.startswith("[")


class BindContext(Protocol):
    """What binding needs from the data: its end (for relative times), computed values."""

    def end(self) -> datetime | None: ...

    def row(self, source: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Query:
    """A loaded, checked query: its declaration and the SQL DuckDB runs.

    >>> q = get_query("top_talkers")
    >>> (q.params["sort"].default, q.shape, q.chart, q.cli_defaults)
    ('requests', 'grouped', 'bar', {'limit': 20})
    """

    name: str
    description: str
    path: str
    body: str
    #: the body after the common filters and the ``-- with:`` parts as CTEs of their names
    sql: str
    params: dict[str, Param] = field(default_factory=dict)
    uses_filters: bool = False
    parts: tuple[str, ...] = ()  # the `-- with:` files, e.g. ``_open_counts``
    shape: str | None = None
    chart: str | None = None
    cli_defaults: dict[str, Any] = field(default_factory=dict)
    #: the names of the parameters the file declares itself (the rest come from the filters)
    own: tuple[str, ...] = ()
    #: whether the query (or a part it reads) uses the group key ``grp``: else ``--by`` would
    #: change nothing, and it is not offered
    groups: bool = False
    #: the columns of the terminal table, in order (``-- table:``); empty: every column
    table: tuple[str, ...] = ()
    #: the parameters given by position, in order (``-- arg:``)
    args: tuple[Arg, ...] = ()
    #: a part computed again wherever it is read, never held (``-- inline: yes``)
    inline: bool = False
    #: a part whose rows a reader of several queries keeps for all of them (``-- keep: yes``)
    keep: bool = False

    @property
    def summary(self) -> str:
        """The first sentence of the description (for tables of commands).

        >>> get_query("latency").summary[:31]
        'How long the API server took, p'
        """
        return re.split(r"(?<=\.) (?=[A-Z])", self.description, maxsplit=1)[0]

    @property
    def options(self) -> list[Param]:
        """The parameters a caller sets: the positional ones (``-- arg:``), grouping, the
        file's own, then the filters.

        >>> [p.name for p in get_query("timeline").options][:4]
        ['by', 'every', 'limit', 'since']
        """
        settable = [
            p
            for p in self.params.values()
            if p.computed_from is None and (self.groups or p.type != "GROUPING")
        ]
        positional = [self.params[a.name] for a in self.args]
        rest = [p for p in settable if p not in positional]
        grouping = [p for p in rest if p.type == "GROUPING"]
        own = [p for p in rest if p.name in self.own and p not in grouping]
        return positional + grouping + own + [p for p in rest if p not in grouping + own]

    @property
    def positional(self) -> dict[str, Arg]:
        """The positional parameters by name.

        >>> get_query("top_talkers").positional
        {}
        """
        return {a.name: a for a in self.args}

    def bind(self, values: Mapping[str, Any], context: BindContext | None = None) -> dict[str, Any]:
        """Every parameter's value: ``values`` checked against the declaration, else the default.

        Strings are converted to the declared type (so ``-p limit=5`` binds an integer); None
        means the declared default (but ``limit=None`` means no limit); computed parameters and
        relative times come from ``context``. An unknown name, a value outside the declared
        choices or an inverted window (``--since`` not before ``--until``) is a ``UsageError``.

        >>> get_query("top_talkers").bind({"limit": "5", "by": "user"})["by"]
        ['user']
        """
        settable = {p.name for p in self.options}
        unknown = sorted(set(values) - settable)
        if unknown:
            raise UsageError(
                f"{self.name}: unknown parameter {unknown[0]!r}",
                hint="parameters: " + ", ".join(sorted(settable)),
            )
        for arg in self.args:
            if arg.required and values.get(arg.name) is None:
                raise UsageError(
                    f"{self.name}: missing {arg.metavar}",
                    hint="usage: " + " ".join([self.name, *(a.metavar for a in self.args)]),
                )
        bound: dict[str, Any] = {}
        for name, param in self.params.items():
            if param.computed_from is not None:
                bound[name] = context.row(param.computed_from).get(name) if context else None
                continue
            value = values.get(name, param.default)
            if value is None and name != "limit":  # None is the default; a limit of None is none
                value = param.default
            relative = param.type == "TIMESTAMPTZ" and isinstance(value, str)
            end = context.end() if context and relative and parse_duration(value) else None
            bound[name] = convert(param, value, end)
        since, until = bound.get("since"), bound.get("until")
        if since is not None and until is not None and since >= until:
            raise UsageError(
                f"--since {since:%Y-%m-%d %H:%M:%S} is not before "
                f"--until {until:%Y-%m-%d %H:%M:%S}",
                hint="the window runs from --since to --until",
            )
        return bound


def _parse_default(text: str | None) -> Any:
    if text is None or text.upper() == "NULL":
        return None
    if text.startswith("'"):
        return text[1:-1]
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        return float(text)


def _has_word(text: str, word: str) -> bool:
    """Whether the name ``word`` is a whole word of ``text``, as ``re.search(rf"\\b{word}\\b",
    text)`` says, found by its letters first: a pattern that starts with ``\\b`` is tried at
    every position of the text (it was most of the time the library took to load).

    >>> _has_word("SELECT grp FROM x", "grp"), _has_word("SELECT grps, a_grp FROM x", "grp")
    (True, False)
    """
    for match in re.finditer(rf"{re.escape(word)}\b", text):
        start = match.start()
        if start == 0 or not _WORD_CHAR.match(text, start - 1):
            return True
    return False


def parse_query(text: str, path: str, library: Mapping[str, Query] | None = None) -> Query:
    """Parse and check one query file's text; ``path`` is used in error messages.

    ``library`` holds the parsed parts (``_filters``, ``_open_counts``...) that ``-- filters:``,
    ``-- with:`` and ``FROM`` may name.

    >>> parse_query("-- name: n\\n-- Count.\\n-- shape: listing\\nSELECT 1", "n.sql").shape
    'listing'
    """
    library = library or {}
    lines = text.splitlines()
    name, description, header = "", [], _Header()
    body_start = len(lines)
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not stripped.startswith("--"):
            body_start = number - 1
            break
        content = stripped[2:].strip()
        if number == 1:
            if not content.startswith("name:"):
                raise QueryError(f"{path}:1: the first line must be `-- name: NAME`")
            name = content[5:].strip()
        elif not header.read(content, path, number, library) and content:
            description.append(content)
    expected = Path(path).stem
    if name != expected:
        raise QueryError(f"{path}:1: query name {name!r} differs from the file name {expected!r}")
    if not description:
        raise QueryError(f"{path}:2: no description under the name line")
    body = "\n".join(lines[body_start:]).strip()
    if not body:
        raise QueryError(f"{path}: no SQL after the header")
    inherited: dict[str, Param] = {}
    if header.uses_filters:
        if FILTERS not in library:
            raise QueryError(f"{path}: uses the common filters but {FILTERS}.sql is missing")
        # a query's parts may read `filtered`; a part may use the filters' parameters only
        reads = _has_word(body, "filtered") or header.parts or name.startswith("_")
        if not reads:
            raise QueryError(f"{path}: declares `-- filters: common` but never reads `filtered`")
        inherited = library[FILTERS].params
    for declared, line in ((header.inline, "inline"), (header.keep, "keep")):
        if declared and not name.startswith("_"):
            raise QueryError(f"{path}: `-- {line}:` is for parts (files starting with _)")
    if header.inline and header.keep:
        raise QueryError(f"{path}: a part computed again wherever read (inline) is not kept")
    for i, part in enumerate(header.parts):
        # read by the query or by a part declared after it (`_inflight_seconds` reads
        # `inflight_levels`)
        readers = [body, *(library[later].body for later in header.parts[i + 1 :])]
        if not any(_has_word(text, part[1:]) for text in readers):
            raise QueryError(f"{path}: declares `-- with: {part}` but never reads `{part[1:]}`")
    # a part's own parameters are the query's too, after the query's own
    from_parts = {
        name: param
        for part in header.parts
        for name, param in library[part].params.items()
        if name in library[part].own and name not in header.params
    }
    # a part's parameter the query declares again (to place it among its own, with its help)
    again = {
        own: library[part].params[own]
        for part in header.parts
        for own in library[part].own
        if own in header.params
    }
    for own, theirs in again.items():
        if header.params[own].type != theirs.type:
            at = header.params[own].line
            raise QueryError(f"{path}:{at}: {own!r} is {theirs.type} in the part that uses it")
    _check_params(path, lines, body_start, header.params, {**inherited, **from_parts}, again)
    params = {**inherited, **header.params, **from_parts}
    for arg, number in header.args:
        if arg.name not in params or params[arg.name].computed_from is not None:
            raise QueryError(f"{path}:{number}: `-- arg: {arg.name}` names no parameter")
    for option, (value, number) in header.cli.items():
        if option not in params:
            raise QueryError(f"{path}:{number}: `-- cli: {option}` names no parameter")
        header.cli[option] = (convert(params[option], value), number)
    sql = _compose(body, library, header.uses_filters, header.parts)
    groups = any(
        _has_word(text, "grp") for text in [body, *(library[p].body for p in header.parts)]
    )
    return Query(
        name,
        " ".join(description),
        path,
        body,
        sql,
        params,
        header.uses_filters,
        tuple(header.parts),
        header.shape,
        header.chart,
        {option: value for option, (value, _) in header.cli.items()},
        (*header.params, *from_parts),
        groups,
        header.table,
        tuple(arg for arg, _ in header.args),
        header.inline,
        header.keep,
    )


@dataclass
class _Header:
    """The declarations of a header, as its lines are read."""

    params: dict[str, Param] = field(default_factory=dict)
    uses_filters: bool = False
    parts: list[str] = field(default_factory=list)
    shape: str | None = None
    chart: str | None = None
    cli: dict[str, tuple[Any, int]] = field(default_factory=dict)
    table: tuple[str, ...] = ()
    args: list[tuple[Arg, int]] = field(default_factory=list)
    inline: bool = False
    keep: bool = False

    def read(self, content: str, path: str, number: int, library: Mapping[str, Query]) -> bool:
        """Take one header line; False when it is a line of the description."""
        key, _, value = content.partition(":")
        value = value.strip()
        if key == "param":
            param = _parse_param(content, path, number, library)
            if param.name in self.params:
                raise QueryError(f"{path}:{number}: parameter {param.name!r} declared twice")
            self.params[param.name] = param
        elif key == "filters":
            if value != "common":
                raise QueryError(f"{path}:{number}: only `-- filters: common` is supported")
            self.uses_filters = True
        elif key == "with":
            parts = sorted(p for p in library if p != FILTERS)
            if value not in parts:
                known = ", ".join(parts) or "none"
                raise QueryError(f"{path}:{number}: no part {value!r} (parts: {known})")
            self.parts.append(value)
        elif key == "inline":
            self.inline = _one_of(value, ("yes", "no"), path, number, "inline value") == "yes"
        elif key == "keep":
            self.keep = _one_of(value, ("yes", "no"), path, number, "keep value") == "yes"
        elif key == "shape":
            self.shape = _one_of(value, SHAPES, path, number, "shape")
        elif key == "chart":
            self.chart = _one_of(value, CHARTS, path, number, "chart")
        elif key == "table":
            self.table = tuple(c.strip() for c in value.split(",") if c.strip())
            if not self.table or not all(re.fullmatch(r"[a-z_]\w*", c) for c in self.table):
                raise QueryError(f"{path}:{number}: bad table line (expected column names)")
        elif key == "cli":
            match = _CLI_LINE.match(content)
            if not match:
                raise QueryError(f"{path}:{number}: bad cli line (expected `-- cli: NAME = VALUE`)")
            self.cli[match["name"]] = (_parse_default(match["default"]), number)
        elif key == "arg":
            match = _ARG_LINE.match(content)
            if not match:
                expected = "expected `-- arg: NAME [METAVAR]`"
                raise QueryError(f"{path}:{number}: bad arg line ({expected})")
            if any(arg.name == match["name"] for arg, _ in self.args):
                raise QueryError(f"{path}:{number}: argument {match['name']!r} declared twice")
            metavar = match["metavar"] or match["name"].upper()
            if self.args and not self.args[-1][0].required and not metavar.startswith("["):
                raise QueryError(f"{path}:{number}: a required argument after an optional one")
            self.args.append((Arg(match["name"], metavar), number))
        else:
            return False
        return True


def _one_of(value: str, known: tuple[str, ...], path: str, number: int, what: str) -> str:
    if value not in known:
        raise QueryError(
            f"{path}:{number}: unknown {what} {value!r}", hint="one of " + ", ".join(known)
        )
    return value


def _compose(
    body: str,
    library: Mapping[str, Query],
    filters: bool,
    parts: list[str],
    tables: Mapping[str, str] | None = None,
) -> str:
    tables = tables or {}
    ctes = {"filtered": library[FILTERS].body} if filters else {}
    ctes |= {
        part[1:]: f"SELECT * FROM {tables[part]}" if part in tables else library[part].body
        for part in parts
    }
    inline = {"filtered", *(part[1:] for part in parts if library[part].inline)}
    return compose(body, inline=inline, **ctes) if ctes else body


def kept_parts(query: Query) -> list[str]:
    """The parts ``query`` reads that declare ``-- keep: yes``, in the order it declares them.

    >>> kept_parts(get_query("inflight_peaks"))
    ['_inflight_seconds']
    """
    library = load_all()
    return [part for part in query.parts if library[part].keep]


def part_statement(query: Query, part: str) -> str:
    """The rows of ``part`` as ``query`` reads it (with the filters and the parts before it).

    >>> part_statement(get_query("inflight"), "_inflight_held").endswith("FROM inflight_held")
    True
    """
    before = list(query.parts[: query.parts.index(part) + 1])
    return _compose(f"SELECT * FROM {part[1:]}", load_all(), query.uses_filters, before)


def parameters_in(statement: str) -> set[str]:
    """The names of the parameters ``statement`` binds (``$name`` outside strings, comments).

    >>> sorted(parameters_in("SELECT $b, '$not' -- $nor\\nFROM t WHERE x = $a"))
    ['a', 'b']
    """
    return set(PLACEHOLDER.findall(NOT_CODE.sub("", statement)))


def reading(query: Query, tables: Mapping[str, str]) -> str:
    """``query``'s statement with the parts in ``tables`` (part -> table) read from those tables
    (``part_statement``'s rows kept) instead of computed.

    >>> "FROM kept_1" in reading(get_query("inflight"), {"_inflight_seconds": "kept_1"})
    True
    """
    return _compose(query.body, load_all(), query.uses_filters, list(query.parts), tables)


def compose(statement: str, /, *, inline: Collection[str] = (), **relations: str) -> str:
    """``statement`` (SQL text of a query, an INSERT, a ``CREATE [TEMP] TABLE name AS`` query or
    a ``COPY (query) TO``) reading ``relations`` (name -> SQL), as one statement: the relations
    become a WITH clause, in the order given, in front of the query (joining its own WITH).
    The relations named in ``inline`` are ``NOT MATERIALIZED``: computed again wherever read.

    >>> compose("SELECT * FROM b", a="SELECT 1 AS x", b="SELECT x FROM a")
    'WITH a AS (\\nSELECT 1 AS x\\n),\\nb AS (\\nSELECT x FROM a\\n)\\nSELECT * FROM b'
    >>> compose("COPY (WITH b AS (FROM a) FROM b) TO 'x'", a="SELECT 1 AS x").replace("\\n", " ")
    "COPY (WITH a AS ( SELECT 1 AS x ), b AS (FROM a) FROM b) TO 'x'"
    >>> compose("SELECT * FROM a", inline={"a"}, a="SELECT 1 AS x").replace("\\n", " ")
    'WITH a AS NOT MATERIALIZED ( SELECT 1 AS x ) SELECT * FROM a'
    """
    ctes = ",\n".join(
        f"{name} AS {'NOT MATERIALIZED ' if name in inline else ''}(\n{sql}\n)"
        for name, sql in relations.items()
    )
    head = _QUERY_INSIDE.match(statement)
    start = head.end() if head else 0
    own_with = _WITH.match(statement, start)
    if own_with:
        return f"{statement[:start]}WITH {ctes},\n{statement[own_with.end() :]}"
    return f"{statement[:start]}WITH {ctes}\n{statement[start:]}"


def _parse_param(content: str, path: str, number: int, library: Mapping[str, Query]) -> Param:
    match = _PARAM_LINE.match(content)
    if not match:
        raise QueryError(
            f"{path}:{number}: bad parameter line",
            hint="expected `-- param: NAME TYPE [= DEFAULT] [IN (a, b)] [FROM _part] "
            "[-- description]`",
        )
    kind = match["type"].upper()
    if kind not in TYPES:
        raise QueryError(f"{path}:{number}: unknown type {kind!r} for {match['name']!r}")
    source = match["source"]
    if source is not None and source not in library:
        raise QueryError(f"{path}:{number}: {match['name']!r} is computed from no file {source!r}")
    choices = tuple(c.strip() for c in (match["choices"] or "").split(",") if c.strip())
    description = (match["description"] or "").strip()
    default = _parse_default(match["default"])
    return Param(match["name"], kind, default, description, choices, number, source)


def _check_params(
    path: str,
    lines: list[str],
    body_start: int,
    params: dict[str, Param],
    inherited: dict[str, Param],
    in_parts: Collection[str] = (),
) -> None:
    # inherited (common filter) parameters may be used; the file's own ones must be, by the
    # file or (``in_parts``) by a part it reads
    used: dict[str, int] = {}
    for number, raw in enumerate(lines[body_start:], start=body_start + 1):
        for match in PLACEHOLDER.finditer(NOT_CODE.sub("", raw)):
            used.setdefault(match[1], number)
    for name, number in used.items():
        if name not in params and name not in inherited:
            raise QueryError(f"{path}:{number}: parameter ${name} is used but not declared")
    for name, param in params.items():
        if name not in used and name not in in_parts:
            raise QueryError(f"{path}:{param.line}: parameter {name!r} is declared but never used")


def load_query_file(path: str | Path, library: Mapping[str, Query] | None = None) -> Query:
    """Load and check one ``.sql`` file from disk (the path-based entry point, for tests/tools).

    >>> load_query_file("queries/top_talkers.sql", load_all()).name  # doctest: +SKIP
    'top_talkers'
    """
    file = Path(path)
    return parse_query(file.read_text(), str(file), library)


def load_all(folder: str | Path | None = None) -> dict[str, Query]:
    """Every file of the query library by name, parts (``_filters``...) included.

    ``folder`` (default: ``$_K8SAUDIT_QUERY_DIR``, else the packaged ``queries/``) is the seam
    through which tests load a library of their own.

    >>> sorted(load_all())[:1]
    ['_audit_span']
    """
    if folder is None:
        folder = os.environ.get(QUERY_DIR_ENV, "")
    return _load(str(folder))


@cache
def _load(folder: str) -> dict[str, Query]:
    where: Traversable = Path(folder) if folder else resources.files("k8saudit.queries")
    prefix = folder.rstrip("/") if folder else "queries"
    texts = {f.name[:-4]: f.read_text() for f in where.iterdir() if f.name.endswith(".sql")}
    loaded: dict[str, Query] = {}
    for name in sorted(texts, key=lambda n: (_load_order(n, texts[n]), n)):
        path = f"{prefix}/{name}.sql"
        loaded[name] = query = parse_query(texts[name], path, loaded)
        if not name.startswith("_") and query.shape is None:  # the surfaces need it
            raise QueryError(f"{path}: no `-- shape:` line", hint="one of " + ", ".join(SHAPES))
    return dict(sorted(loaded.items()))


def _load_order(name: str, text: str) -> int:
    # the parts the filters' computed parameters name, the filters, the parts that read them,
    # then the analyses
    if not name.startswith("_"):
        return 3
    if name == FILTERS:
        return 1
    return 2 if _FILTERS_LINE.search(text) else 0


def list_queries() -> list[Query]:
    """The analyses of the library (``queries/*.sql`` minus ``_``-prefixed parts), by name.

    >>> [q.name for q in list_queries()][:1]
    ['activity']
    """
    return [q for name, q in load_all().items() if not name.startswith("_")]


def get_query(name: str) -> Query:
    """The analysis called ``name`` (``top-talkers`` works too); ``QueryError`` if none.

    >>> get_query("top-talkers").name
    'top_talkers'
    """
    wanted = name.replace("-", "_")
    for query in list_queries():
        if query.name == wanted:
            return query
    names = ", ".join(q.name for q in list_queries())
    raise QueryError(f"no query named {name!r}", hint=f"queries: {names}")
