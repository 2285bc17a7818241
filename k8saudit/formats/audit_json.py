"""Reading audit Events with DuckDB's native JSON reader: the hot path of ``ingest``.

A plain audit log (one ``audit.k8s.io`` Event per line, the common case and the big one) is read
by DuckDB straight from the file, gzip/zstd included, with explicit column types, so no Python
touches a line. Events that arrive wrapped (EKS, AKS, EventList, YAML...) are unwrapped in Python
into a temporary JSON-lines file of plain Events carrying their source line, then read the same
way. Either way ``k8saudit/sql/audit_events.sql`` turns them into raw event rows.
"""

from __future__ import annotations

from k8saudit.sources import Compression

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

#: extra keys the Python unwrapper injects into each Event it writes to the temporary file
INJECTED_COLUMNS: dict[str, str] = {
    "_line": "BIGINT",
    "_apiserver": "VARCHAR",
    "_wrapper": "VARCHAR",
}


def _columns_literal(columns: dict[str, str]) -> str:
    items = ", ".join(
        f"'{name}': '{kind.replace(chr(39), chr(39) * 2)}'" for name, kind in columns.items()
    )
    return "{" + items + "}"


def _compression_literal(compression: Compression) -> str:
    return {"none": "none", "gzip": "gzip", "zstd": "zstd"}[compression.value]


def plain_audit_source(compression: Compression) -> str:
    """SQL for the relation `src` over a plain audit log (bound parameter ``$path``).

    Line numbers come from ``WITH ORDINALITY``: DuckDB skips blank lines, so the caller only uses
    this path for files it has checked have none (see ``pipeline``).
    """
    return (
        "SELECT *, ordinality AS _line, NULL::VARCHAR AS _apiserver, '' AS _wrapper "
        "FROM read_json($path, format='newline_delimited', "
        f"compression='{_compression_literal(compression)}', "
        f"columns={_columns_literal(EVENT_COLUMNS)}) WITH ORDINALITY"
    )


def unwrapped_audit_source() -> str:
    """SQL for `src` over the temporary file written by the unwrapper (``$path``).

    Lines whose field types do not fit are dropped by ``ignore_errors``; the caller finds them by
    their missing ``_line`` and reports them as rejects.
    """
    columns = {**EVENT_COLUMNS, **INJECTED_COLUMNS}
    return (
        "SELECT * FROM read_json($path, format='newline_delimited', "
        f"columns={_columns_literal(columns)}, ignore_errors=true)"
    )
