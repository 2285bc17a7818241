"""The query library: ``queries/*.sql`` files loaded, checked and bound (aiosql-style).

SQL is code: every analysis is one ``.sql`` file whose header comment names it, describes it (the
``--help`` text) and declares its parameters with type and default. A file is checked when it
loads: a ``$name`` used but not declared, or declared but not used, is a ``QueryError`` naming the
file and line, so a typo never reaches a user's terminal as a DuckDB binder error. Values are
always bound (``$name``), never formatted into SQL.

Header syntax::

    -- name: top_talkers
    -- Who sends the API server the most work ...   (description lines)
    -- filters: common                               (reads the `filtered` relation)
    -- with: _open_counts                            (reads the `open_counts` relation)
    -- param: sort VARCHAR = 'requests' IN (requests, p99_ms)  -- rank by this column

Files starting with ``_`` are not analyses but parts of them. ``queries/_filters.sql`` declares
the common filters once; a query with ``-- filters: common`` gets it as the CTE ``filtered`` and
inherits its parameters. A query with ``-- with: _NAME`` gets ``queries/_NAME.sql`` (which
reads ``filtered`` and declares no parameters) as the CTE ``NAME``: one piece of SQL that
several analyses share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from k8saudit.exceptions import QueryError, UsageError

#: the file every ``-- filters: common`` query reads as its ``filtered`` relation
FILTERS_FILE = "_filters.sql"

_TYPES = {"VARCHAR", "INTEGER", "BIGINT", "DOUBLE", "BOOLEAN", "TIMESTAMPTZ", "DATE", "VARCHAR[]"}
_PARAM_LINE = re.compile(
    r"^param:\s*(?P<name>[A-Za-z_]\w*)\s+(?P<type>[A-Za-z]+(?:\[\])?)"
    r"(?:\s*=\s*(?P<default>'[^']*'|[^\s-]+))?"
    r"(?:\s+IN\s*\((?P<choices>[^)]*)\))?"
    r"\s*(?:--\s*(?P<description>.*))?$"
)
_PLACEHOLDER = re.compile(r"\$([A-Za-z_]\w*)")
# string literals and comments, which may contain `$` without it being a parameter
_NOT_CODE = re.compile(r"'(?:[^']|'')*'|--[^\n]*")


@dataclass(frozen=True)
class Param:
    """One declared parameter of a query file."""

    name: str
    type: str
    default: Any
    description: str
    choices: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Query:
    """A loaded, checked query: its name, help text, parameters and the SQL DuckDB runs.

    >>> q = get_query("top_talkers")
    >>> q.params["sort"].default
    'requests'
    """

    name: str
    description: str
    path: str
    body: str
    params: dict[str, Param] = field(default_factory=dict)
    uses_filters: bool = False
    parts: tuple[str, ...] = ()  # the `-- with:` files, e.g. ``_open_counts``

    @property
    def sql(self) -> str:
        """The SQL to run: the body, after the common filters as the ``filtered`` CTE if used
        and each ``-- with:`` part as a CTE of its name."""
        library = load_all()
        ctes = [f"filtered AS (\n{library[FILTERS_FILE].body}\n)"] if self.uses_filters else []
        ctes += [f"{part[1:]} AS (\n{library[part + '.sql'].body}\n)" for part in self.parts]
        if not ctes:
            return self.body
        prefix = "WITH " + ",\n".join(ctes)
        head = re.match(r"\s*WITH\s", self.body, re.IGNORECASE)
        if head:
            return f"{prefix},\n{self.body[head.end() :]}"
        return f"{prefix}\n{self.body}"

    def bind(self, values: dict[str, Any]) -> dict[str, Any]:
        """Every parameter's value: ``values`` checked against the declaration, else the default.

        Strings are converted to the declared type (so ``-p limit=5`` binds an integer). An unknown
        name or a value outside the declared choices is a ``UsageError``.

        >>> get_query("top_talkers").bind({"limit": "5"})["limit"]
        5
        """
        unknown = sorted(set(values) - set(self.params))
        if unknown:
            names = ", ".join(sorted(self.params))
            raise UsageError(
                f"{self.name}: unknown parameter {unknown[0]!r}", hint=f"parameters: {names}"
            )
        bound: dict[str, Any] = {}
        for name, param in self.params.items():
            value = values.get(name, param.default)
            value = _convert(param, value) if isinstance(value, str) else value
            if param.choices and value is not None and value not in param.choices:
                raise UsageError(
                    f"{self.name}: {name} {value!r} is not allowed",
                    hint="choose from " + ", ".join(param.choices),
                )
            bound[name] = value
        return bound


def _convert(param: Param, text: str) -> Any:
    try:
        if param.type in ("INTEGER", "BIGINT"):
            return int(text)
        if param.type == "DOUBLE":
            return float(text)
        if param.type == "BOOLEAN":
            return text.lower() in ("1", "true", "yes", "on")
    except ValueError:
        raise UsageError(f"{param.name}: {text!r} is not a {param.type}") from None
    return text


def _parse_default(text: str | None) -> Any:
    if text is None or text.upper() == "NULL":
        return None
    if text.startswith("'"):
        return text[1:-1]
    try:
        return int(text)
    except ValueError:
        return float(text)


def parse_query(
    text: str, path: str, filters: Query | None = None, parts: frozenset[str] = frozenset()
) -> Query:
    """Parse and check one query file's text; ``path`` is used in error messages.

    ``filters`` is the parsed ``_filters.sql``, whose parameters a ``-- filters: common`` query
    inherits; ``parts`` the names of the files a ``-- with:`` line may name.

    >>> parse_query("-- name: n\\n-- Count.\\nSELECT count(*) FROM requests", "n.sql").name
    'n'
    """
    lines = text.splitlines()
    name = ""
    description: list[str] = []
    params: dict[str, Param] = {}
    uses_filters = False
    includes: list[str] = []
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
        elif content.startswith("param:"):
            param = _parse_param(content, path, number)
            if param.name in params:
                raise QueryError(f"{path}:{number}: parameter {param.name!r} declared twice")
            params[param.name] = param
        elif content == "filters: common":
            uses_filters = True
        elif content.startswith("filters:"):
            raise QueryError(f"{path}:{number}: only `-- filters: common` is supported")
        elif content.startswith("with:"):
            part = content[5:].strip()
            if part not in parts:
                known = ", ".join(sorted(parts)) or "none"
                raise QueryError(f"{path}:{number}: no part {part!r} (parts: {known})")
            includes.append(part)
        elif content:
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
    if uses_filters:
        if filters is None:
            raise QueryError(f"{path}: uses the common filters but {FILTERS_FILE} is missing")
        if not re.search(r"\bfiltered\b", body) and not includes:  # parts read it
            raise QueryError(f"{path}: declares `-- filters: common` but never reads `filtered`")
        inherited = filters.params
    for part in includes:
        if not re.search(rf"\b{part[1:]}\b", body):
            raise QueryError(f"{path}: declares `-- with: {part}` but never reads `{part[1:]}`")
    _check_params(path, lines, body_start, params, inherited)
    params = {**inherited, **params}
    return Query(name, " ".join(description), path, body, params, uses_filters, tuple(includes))


def _parse_param(content: str, path: str, number: int) -> Param:
    match = _PARAM_LINE.match(content)
    if not match:
        raise QueryError(
            f"{path}:{number}: bad parameter line",
            hint="expected `-- param: NAME TYPE [= DEFAULT] [IN (a, b)] [-- description]`",
        )
    kind = match["type"].upper()
    if kind not in _TYPES:
        raise QueryError(f"{path}:{number}: unknown type {kind!r} for {match['name']!r}")
    choices = tuple(c.strip() for c in (match["choices"] or "").split(",") if c.strip())
    description = (match["description"] or "").strip()
    return Param(
        match["name"], kind, _parse_default(match["default"]), description, choices, number
    )


def _check_params(
    path: str,
    lines: list[str],
    body_start: int,
    params: dict[str, Param],
    inherited: dict[str, Param],
) -> None:
    # inherited (common filter) parameters may be used; the file's own ones must be
    used: dict[str, int] = {}
    for number, raw in enumerate(lines[body_start:], start=body_start + 1):
        for match in _PLACEHOLDER.finditer(_NOT_CODE.sub("", raw)):
            used.setdefault(match[1], number)
    for name, number in used.items():
        if name not in params and name not in inherited:
            raise QueryError(f"{path}:{number}: parameter ${name} is used but not declared")
    for name, param in params.items():
        if name not in used:
            raise QueryError(f"{path}:{param.line}: parameter {name!r} is declared but never used")


def load_query_file(path: str | Path, filters: Query | None = None) -> Query:
    """Load and check one ``.sql`` file from disk (the path-based entry point, for tests/tools).

    >>> filters = load_all()["_filters.sql"]
    >>> load_query_file("queries/top_talkers.sql", filters).name  # doctest: +SKIP
    'top_talkers'
    """
    file = Path(path)
    return parse_query(file.read_text(), str(file), filters)


@cache
def load_all() -> dict[str, Query]:
    """Every file of the packaged query library by file name, ``_filters.sql`` included."""
    folder = resources.files("k8saudit.queries")
    files: dict[str, Traversable] = {f.name: f for f in folder.iterdir() if f.name.endswith(".sql")}
    loaded: dict[str, Query] = {}
    filters = None
    if FILTERS_FILE in files:
        filters = parse_query(files[FILTERS_FILE].read_text(), f"queries/{FILTERS_FILE}")
        loaded[FILTERS_FILE] = filters
    parts = frozenset(f.removesuffix(".sql") for f in files if f.startswith("_")) - {"_filters"}
    for file_name in sorted(files):
        if file_name != FILTERS_FILE:
            text = files[file_name].read_text()
            loaded[file_name] = parse_query(text, f"queries/{file_name}", filters, parts)
    return loaded


def list_queries() -> list[Query]:
    """The analyses of the library (``queries/*.sql`` minus ``_``-prefixed helpers), by name.

    >>> [q.name for q in list_queries()][:1]
    ['errors']
    """
    return [q for file, q in sorted(load_all().items()) if not file.startswith("_")]


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
