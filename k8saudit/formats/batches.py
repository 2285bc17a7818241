"""The batch contract shared by the line-oriented parsers (access logs and legacy audit text).

``access_log.parse_access_log`` and ``legacy_audit.parse_legacy_audit`` stream a file's decoded
lines and yield ``ParsedBatch`` objects: an Arrow table in ``RAW_EVENT_SCHEMA`` plus the accounting
for every physical line. Each line ends up in exactly one bucket::

    batch.lines == batch.table.num_rows + batch.continuation + batch.skipped + len(batch.rejects)

* a row's first line (``source_line``),
* ``continuation``: a later line that belongs to a row or to the line before it (a 5xx status
  stack and ``[ua ip]`` trailer, a multi-line structured value, CRI ``P``/docker partial records
  joined into one line, the legacy ``response="200"`` line of an ``id``),
* ``skipped``: anything that is not a request (other klog messages: most of an apiserver log),
* ``rejects``: a line that looks like a request but cannot be read.

A batch's counts cover the lines whose fate was settled in it (a row's continuation lines are
counted with the row), so the sums over all batches equal the file's line count. Batches are
yielded every ``batch_rows`` rows (or rejects) and once at the end, so memory stays bounded.

The parsers' hot loops build one tuple per row in the ``ROW_COLUMNS`` layout and transpose them
here at the end of a batch (``rows_to_table``); times stay integer microseconds until the Arrow
column is built. This module holds that contract once, so that neither parser imports the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from k8saudit.schema import arrow_schema

if TYPE_CHECKING:
    import pyarrow as pa

#: longest reject text kept (the rejects file is for a human to look at, not a copy of the input)
MAX_REJECT_TEXT = 2000
_SURROGATE_RE = re.compile("[\ud800-\udfff]")

#: the columns a row tuple fills, in order; every other column of RAW_EVENT_SCHEMA is null
ROW_COLUMNS: tuple[str, ...] = (
    "audit_id",
    "stage",
    "stage_at",
    "received_at",
    "verb",
    "http_method",
    "request_uri",
    "namespace",
    "username",
    "user_groups",
    "impersonated_user",
    "user_agent",
    "source_ip",
    "code",
    "latency_ms",
    "apf_priority_level",
    "apf_flow_schema",
    "apf_initial_seats",
    "apf_final_seats",
    "apf_additional_latency_ms",
    "apf_execution_ms",
    "apiserver",
    "log_format",
    "source_line",
)
_INT64_TIME = {"stage_at", "received_at"}


@dataclass(frozen=True)
class Reject:
    """A line that looks like a record but could not be read."""

    line: int
    reason: str
    text: str


@dataclass(frozen=True)
class ParsedBatch:
    """One batch of parsed rows and the accounting of the lines settled with it."""

    table: pa.Table
    lines: int
    skipped: int
    rejects: list[Reject] = field(default_factory=list)
    #: rows whose time came from a full timestamp (CRI/docker wrapper, JSON ``ts``, legacy audit)
    wrapper_time_lines: int = 0
    #: rows whose klog clock was completed with the caller's ``default_year`` (and ``tz``)
    default_year_lines: int = 0
    #: lines that belong to a row (or to the line before them) and are not counted on their own
    continuation: int = 0
    #: rows whose core fields were read but whose UA/IP trailer was cut (UA and IP left null)
    partial: int = 0


def rows_to_table(rows: list[tuple[Any, ...]], source_file: str) -> pa.Table:
    """Build a ``RAW_EVENT_SCHEMA`` table from row tuples laid out as ``ROW_COLUMNS``.

    >>> rows_to_table([], "x.log").num_rows
    0
    """
    n = len(rows)
    columns = dict(zip(ROW_COLUMNS, zip(*rows, strict=True), strict=False)) if rows else {}
    import pyarrow as pa  # here: sniffing a file imports this module, and needs no Arrow

    schema = arrow_schema("RAW_EVENT_SCHEMA")
    arrays: list[pa.Array] = []
    for schema_field in schema:
        name = schema_field.name
        values = columns.get(name)
        if name == "source_file":
            arrays.append(pa.array([source_file] * n, pa.string()))
        elif values is None:
            arrays.append(pa.nulls(n, schema_field.type))
        elif name in _INT64_TIME:
            arrays.append(pa.array(values, pa.int64()).cast(schema_field.type))
        else:
            try:
                arrays.append(pa.array(values, schema_field.type))
            except UnicodeEncodeError:  # lone surrogates (surrogateescape-decoded input)
                arrays.append(pa.array(_clean_surrogates(values), schema_field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _clean_surrogates(values: tuple[Any, ...]) -> list[Any]:
    """Replace unencodable surrogates in string values (and string lists) with U+FFFD.

    >>> _clean_surrogates(("a\\udcff", None, ["b"]))
    ['a\ufffd', None, ['b']]
    """

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return _SURROGATE_RE.sub("\ufffd", value)
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value

    return [clean(value) for value in values]


def clipped_reject(line_no: int, reason: str, text: str) -> Reject:
    """A ``Reject`` with its text clipped to ``MAX_REJECT_TEXT`` characters.

    >>> clipped_reject(3, "bad", "x" * 5).text
    'xxxxx'
    """
    return Reject(line_no, reason, text[:MAX_REJECT_TEXT])


def sample_lines(sample: str, limit: int = 4000) -> list[str]:
    """The complete lines of a sniffing sample (the cut last line is dropped when there are more).

    >>> sample_lines("a\\nb\\nc")
    ['a', 'b']
    """
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines.pop()
    return lines[:limit]
