"""Reading audit Events with DuckDB's native JSON reader: the hot path of ``ingest``.

A plain audit log (one ``audit.k8s.io`` Event per line, the common case and the big one) is read
by DuckDB straight from the file, gzip/zstd included, with explicit column types, so no Python
touches a line: with ``read_json`` on every core (``direct_audit_source``), or line by line with
``json_transform`` (``audit_lines_source``) where lines must be numbered despite blank lines, or
malformed ones kept with their number and text.
Events that arrive wrapped (EKS, AKS, EventList, YAML...) are unwrapped in Python into a temporary
JSON-lines file of plain Events carrying their source line, then read the same way. Either way
``k8saudit/sql/audit_events.sql`` turns them into raw event rows.
"""

from __future__ import annotations

import json

from k8saudit.io import Compression

#: read_json column types: only the fields k8saudit keeps (requestObject etc. are never parsed).
EVENT_COLUMNS: dict[str, str] = {
    "kind": "VARCHAR",
    "apiVersion": "VARCHAR",
    "level": "VARCHAR",
    "auditID": "VARCHAR",
    "stage": "VARCHAR",
    "requestURI": "VARCHAR",
    "verb": "VARCHAR",
    "user": (
        'STRUCT(username VARCHAR, groups VARCHAR[], extra STRUCT("authentication.kubernetes.io/'
        'pod-name" VARCHAR[], "authentication.kubernetes.io/node-name" VARCHAR[]))'
    ),
    "impersonatedUser": "STRUCT(username VARCHAR)",
    "sourceIPs": "VARCHAR[]",
    "userAgent": "VARCHAR",
    "objectRef": (
        "STRUCT(resource VARCHAR, namespace VARCHAR, name VARCHAR, apiGroup VARCHAR, "
        "apiVersion VARCHAR, subresource VARCHAR)"
    ),
    "responseStatus": "STRUCT(code BIGINT, reason VARCHAR)",
    "requestReceivedTimestamp": "VARCHAR",
    "stageTimestamp": "VARCHAR",
    "timestamp": "VARCHAR",
    "annotations": 'STRUCT("authorization.k8s.io/decision" VARCHAR)',
}

#: the Event fields that say which request an event is for, its stage and times, and whether it
#: is an audit event at all: what readers.Stager keys a file read in place by
KEY_FIELDS = frozenset(
    {"kind", "apiVersion", "auditID", "stage", "verb", "requestURI", "requestReceivedTimestamp",
     "stageTimestamp", "timestamp"}
)  # fmt: skip

#: extra keys the Python unwrapper injects into each Event it writes to the temporary file
INJECTED_COLUMNS: dict[str, str] = {
    "_line": "BIGINT",
    "_item": "INTEGER",
    "_apiserver": "VARCHAR",
    "_wrapper": "VARCHAR",
}

#: the longest line read line by line (an Event at level RequestResponse can carry a large
#: object); the buffer per reading thread is twice that
MAX_LINE_BYTES = 16 << 20


def _columns_literal(columns: dict[str, str]) -> str:
    items = ", ".join(
        f"'{name}': '{kind.replace(chr(39), chr(39) * 2)}'" for name, kind in columns.items()
    )
    return "{" + items + "}"


def _compression_literal(compression: Compression) -> str:
    return {"none": "none", "gzip": "gzip", "zstd": "zstd"}[compression.value]


def plain_audit_source() -> str:
    """SQL for the relation `src` over an uncompressed audit log (``$path``, ``$source_file``).

    ``read_json`` numbering its lines ``WITH ORDINALITY``, which reads on one thread. It does
    not count the blank lines it skips and one malformed line fails the whole query: the caller
    uses it only for files known to be clean and without blank lines.
    """
    return (
        "SELECT *, ordinality AS _line, $source_file AS _source_file, "
        "NULL::VARCHAR AS _apiserver, '' AS _wrapper, 0 AS _item, false AS _unparsed, "
        "NULL::VARCHAR AS _text "
        f"FROM read_json($path, {_read_json_options(Compression.NONE)}) WITH ORDINALITY"
    )


def direct_audit_source(compression: Compression) -> str:
    """SQL for `src` over audit logs read in place (``$paths_none``, ``$paths_gzip``...: a list).

    The fastest reader: ``read_json`` on every core, with no line numbers (``_line`` is NULL)
    and the file's path as ``_source_file``. Run with ``preserve_insertion_order`` it yields each
    file's events in file order. One malformed line fails the whole query, and blank lines are
    skipped silently: the caller checks the row count against the file's line count.
    """
    return (
        "SELECT *, NULL::BIGINT AS _line, filename AS _source_file, "
        "NULL::VARCHAR AS _apiserver, '' AS _wrapper, 0 AS _item, false AS _unparsed, "
        "NULL::VARCHAR AS _text "
        f"FROM read_json($paths_{compression.value}, filename=true, "
        f"{_read_json_options(compression)})"
    )


def _read_json_options(compression: Compression) -> str:
    return (
        f"format='newline_delimited', compression='{_compression_literal(compression)}', "
        f"columns={_columns_literal(EVENT_COLUMNS)}"
    )


def _lines(compression: Compression, numbered: bool) -> str:
    """Every physical line of ``$path`` as ``line`` (NULL when blank), numbered ``ordinality``.

    read_csv with a delimiter that valid JSON never holds unescaped (U+0001) and no quoting: one
    column per line, blank lines kept, so line numbers are exact. Numbering reads on one thread:
    unnumbered, in file order (``preserve_insertion_order``), the n-th row is line n.
    """
    return (
        "read_csv($path, columns={'line': 'VARCHAR'}, header=false, delim=chr(1), quote='', "
        "escape='', auto_detect=false, strict_mode=false, null_padding=true, "
        f"max_line_size={MAX_LINE_BYTES}, buffer_size={2 * MAX_LINE_BYTES}, "
        f"compression='{_compression_literal(compression)}')"
        + (" WITH ORDINALITY" if numbered else "")
    )


def audit_lines_source(
    compression: Compression, *, numbered: bool = True, keys_only: bool = False
) -> str:
    """SQL for `src` over any audit log, line by line (``$path``, ``$schema``): exact and robust.

    Each line is parsed with ``try(json_transform(...))``: a malformed line becomes a row with
    ``_unparsed`` and its ``_text`` (a reject), a blank line a row with NULL text (skipped), a
    field of an unexpected type a NULL field. Compressed files are read this way too.
    ``numbered=False`` leaves ``_line`` NULL and reads on every core (see ``_lines``).
    ``keys_only`` (with the ``event_schema`` of that name) parses ``KEY_FIELDS`` only, the
    other columns being NULL.
    """
    line = "ordinality" if numbered else "NULL::BIGINT"
    unparsed = "".join(
        f'NULL::{kind} AS "{name}", '
        for name, kind in EVENT_COLUMNS.items()
        if keys_only and name not in KEY_FIELDS
    )
    return (
        f"SELECT unnest(_e), {unparsed}"
        "_e IS NULL AS _unparsed, CASE WHEN _e IS NULL THEN line END AS _text, "
        f"{line} AS _line, $source_file AS _source_file, NULL::VARCHAR AS _apiserver, "
        "'' AS _wrapper, 0 AS _item "
        f"FROM (SELECT try(json_transform(line, $schema)) AS _e, line, {line} AS ordinality "
        f"FROM {_lines(compression, numbered)})"
    )


def unwrapped_audit_source() -> str:
    """SQL for `src` over the temporary file written by the unwrapper (``$path``, ``$schema``).

    Its lines are Events that k8saudit itself wrote, each carrying ``_line`` (where it was in the
    source), ``_item`` (its rank among the Events of that line), ``_apiserver`` and ``_wrapper``.
    """
    return (
        "SELECT unnest(_e), false AS _unparsed, NULL::VARCHAR AS _text, "
        "$source_file AS _source_file "
        "FROM (SELECT json_transform(line, $schema) AS _e "
        f"FROM {_lines(Compression.NONE, numbered=False)})"
    )


def event_schema(*, unwrapped: bool, keys_only: bool = False) -> str:
    """The ``$schema`` (json_transform structure) for the sources above."""
    columns = {**EVENT_COLUMNS, **INJECTED_COLUMNS} if unwrapped else EVENT_COLUMNS
    if keys_only:
        columns = {name: kind for name, kind in columns.items() if name in KEY_FIELDS}
    return json.dumps(columns)
