"""The audit Event fields ingest reads, with their DuckDB types: the hot path's contract.

A plain audit log (one ``audit.k8s.io`` Event per line, the common case and the big one) is read
by DuckDB straight from the file, gzip/zstd included, with these explicit column types
(``EVENT_COLUMNS``, bound as ``$columns``), so no Python touches a line: ``read_json`` on every
core for a file read in place, ``json_transform`` of each line (``event_schema``, bound as
``$schema``) where lines must be numbered despite blank lines, or malformed ones kept with their
number and text. Events that arrive wrapped (EKS, AKS, EventList, YAML...) are unwrapped in
Python into a temporary JSON-lines file of plain Events carrying their source line
(``INJECTED_COLUMNS``), then read the same way. The SQL is ``k8saudit/sql/audit_source_*.sql``;
``k8saudit/sql/audit_events.sql`` turns what they read into raw event rows.
"""

from __future__ import annotations

import json

#: read_json column types: only the fields k8saudit keeps (the bodies only when asked: below).
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

#: the body fields, read (as JSON text, then redacted) only when bodies are kept
BODY_COLUMNS: dict[str, str] = {"requestObject": "JSON", "responseObject": "JSON"}

#: the Event fields that say which request an event is for, its stage and times, and whether it
#: is an audit event at all: what the keys pass of a file read in place parses
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


def event_columns(bodies: bool) -> dict[str, str]:
    """The ``$columns`` of read_json: ``EVENT_COLUMNS``, and the body fields when ``bodies``.

    >>> list(event_columns(True))[-2:]
    ['requestObject', 'responseObject']
    """
    return {**EVENT_COLUMNS, **BODY_COLUMNS} if bodies else EVENT_COLUMNS


def event_schema(*, unwrapped: bool, keys_only: bool = False, bodies: bool = False) -> str:
    """The ``$schema`` (json_transform structure) of the line-by-line sources: every Event
    column (with the body fields when ``bodies``), plus the columns the unwrapper injects
    (``unwrapped``), or the key fields only.

    >>> event_schema(unwrapped=False, keys_only=True)[:22]
    '{"kind": "VARCHAR", "a'
    """
    columns = event_columns(bodies)
    if unwrapped:
        columns = {**columns, **INJECTED_COLUMNS}
    if keys_only:
        columns = {name: kind for name, kind in columns.items() if name in KEY_FIELDS}
    return json.dumps(columns)
