"""Which SQL reads an audit log, and with which values: the relation ``src`` of each reader.

``audit_events.sql`` (and the keys pass's ``audit_keys.sql``) read a relation ``src`` of Event
columns; the files ``sql/audit_source_*.sql`` are the ways to get one. Each function here picks
the file and the values it is bound with (``formats.audit_json`` holds the column types).
The sources ``audit_events.sql`` reads come with their bodies (``bodies=True``: read as JSON
and redacted, ``sql/audit_source_bodies.sql``) or with NULL bodies, never parsed
(``sql/audit_source_no_bodies.sql``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from k8saudit.formats.audit_json import MAX_LINE_BYTES, event_columns, event_schema
from k8saudit.io import Compression, SourceFile
from k8saudit.query_loader import compose
from k8saudit.sqlfiles import internal_sql, union_all, variant


class Source(NamedTuple):
    """SQL of a relation of Event columns, and the values of its parameters."""

    sql: str
    params: dict[str, Any]


def _with_bodies(src: Source, bodies: bool) -> Source:
    """``src`` (read with the body fields when ``bodies``) with its bodies redacted, or NULL."""
    step = "audit_source_bodies" if bodies else "audit_source_no_bodies"
    return Source(compose(internal_sql(step), events_read=src.sql), src.params)


def lines(path: str, display: str, compression: Compression, *, bodies: bool = False) -> Source:
    """Every line of the file, numbered, bad lines kept as rejects: exact and robust."""
    src = Source(
        internal_sql("audit_source_lines"),
        {
            "path": path,
            "source_file": display,
            "compression": compression.value,
            "schema": event_schema(unwrapped=False, bodies=bodies),
            "max_line": MAX_LINE_BYTES,
        },
    )
    return _with_bodies(src, bodies)


def key_lines(source: SourceFile) -> Source:
    """The key fields of every line of ``source``, unnumbered (read on every core)."""
    return Source(
        compose(internal_sql("audit_key_lines"), lines=internal_sql("log_lines")),
        {
            "path": str(source.path),
            "source_file": source.display,
            "compression": source.compression.value,
            "schema": event_schema(unwrapped=False, keys_only=True),
            "max_line": MAX_LINE_BYTES,
        },
    )


def plain(path: str, display: str, *, bodies: bool = False) -> Source:
    """A clean uncompressed log without blank lines, numbered by read_json (one thread)."""
    params = {"path": path, "source_file": display, "columns": event_columns(bodies)}
    return _with_bodies(Source(internal_sql("audit_source_plain"), params), bodies)


def in_place(paths: dict[str, list[str]], *, bodies: bool | None = False) -> Source:
    """Logs read in place, by compression (``none``, ``gzip``, ``zstd`` -> paths): read_json
    on every core, unnumbered, one read per compression. ``bodies`` None: the bare read, for
    the keys pass, which reads no body."""
    reads = []
    params: dict[str, Any] = {}
    for compression, files in sorted(paths.items()):
        reads.append(variant(internal_sql("audit_source_in_place"), compression))
        params |= {
            f"paths_{compression}": files,
            f"compression_{compression}": Compression(compression).value,
            f"columns_{compression}": event_columns(bool(bodies)),
        }
    src = Source(union_all(*reads) if len(reads) > 1 else reads[0], params)
    return src if bodies is None else _with_bodies(src, bodies)


def unwrapped(path: str, display: str, *, bodies: bool = False) -> Source:
    """The temporary JSON-lines file of Events the unwrapper wrote for ``display``."""
    params = {
        "path": path,
        "source_file": display,
        "schema": event_schema(unwrapped=True, bodies=bodies),
        "compression": Compression.NONE.value,
        "max_line": MAX_LINE_BYTES,
    }
    sql = compose(internal_sql("audit_source_unwrapped"), lines=internal_sql("log_lines"))
    return _with_bodies(Source(sql, params), bodies)
