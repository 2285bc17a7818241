"""``k8saudit.event``: one request, and the raw line of its log read back, redacted.

Every timeline a responder reads ends in one question: what exactly did the API server write
about this request? ``event(audit_id)`` answers with the normalized row of the ``requests``
view, where it came from (``source_file``, ``source_line``: the event that speaks for the
request), and that line read again from the original log if it is still there: decompressed as
needed, and shown only through ``formats.redact.scrub_line``, its bodies redacted as
``ingest --keep-bodies`` keeps them, so that no secret value in the log reaches the screen. A
log that went away, changed size since it was ingested, or no longer holds the request at that
line is said so in plain words, never guessed around.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k8saudit.dataset import Dataset
from k8saudit.dataset import open as open_dataset
from k8saudit.exceptions import QueryError
from k8saudit.formats.redact import scrub_line
from k8saudit.io import SourceFile, compression_of, iter_lines

if TYPE_CHECKING:
    import polars as pl


class LineStatus(StrEnum):
    """What reading the request's line back from its log found."""

    FOUND = "found"  # the line, unchanged file, holding the audit ID
    CHANGED = "changed"  # the file's size changed since ingest, but the line still holds it
    GONE = "gone"  # no file at that path (rotated away, moved, another working directory)
    MOVED = "moved"  # the file is there but that line no longer holds the audit ID
    UNKNOWN = "unknown"  # the request does not say where it came from


@dataclass(frozen=True)
class RawLine:
    """The request's line as read back from its log (``text``: scrubbed), and what was found."""

    status: LineStatus
    message: str
    text: str | None = None


#: the fields too long for a table's cell: the bodies and the raw line
LONG = ("request_object", "response_object", "raw_line")


@dataclass(frozen=True)
class EventRecord:
    """One request: its row of the ``requests`` view and its raw line read back."""

    audit_id: str
    row: dict[str, Any]
    raw: RawLine

    @property
    def source_file(self) -> str | None:
        value: str | None = self.row.get("source_file")
        return value

    @property
    def source_line(self) -> int | None:
        value: int | None = self.row.get("source_line")
        return value

    def frame(self) -> pl.DataFrame:
        """One row: every column of the request (lists as JSON text), then ``raw_status``,
        ``raw_message`` and ``raw_line``: for csv, json and parquet.

        >>> k8saudit.event("4d7f...").frame().columns[-1]  # doctest: +SKIP
        'raw_line'
        """
        import polars as pl

        values = {k: json.dumps(v) if isinstance(v, list) else v for k, v in self.row.items()}
        values |= {
            "raw_status": self.raw.status.value,
            "raw_message": self.raw.message,
            "raw_line": self.raw.text,
        }
        return pl.DataFrame([values])

    def fields(self, *, long: bool = True) -> pl.DataFrame:
        """The same as ``field`` / ``value`` rows, every value as text: for reading (table,
        markdown); without the ``LONG`` ones unless ``long`` (a table shows them below).

        >>> k8saudit.event("4d7f...").fields().row(0)  # doctest: +SKIP
        ('audit_id', '4d7f...')
        """
        import polars as pl

        rows = [
            (name, _text(value))
            for name, value in self.frame().row(0, named=True).items()
            if long or name not in LONG
        ]
        return pl.DataFrame(rows, schema={"field": pl.String, "value": pl.String}, orient="row")

    def long_values(self) -> list[tuple[str, str]]:
        """The ``LONG`` fields that have a value, whole: (name, text)."""
        values = self.frame().row(0, named=True)
        return [(name, values[name]) for name in LONG if values.get(name)]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def event(audit_id: str, dataset: Dataset | str | os.PathLike[str] | None = None) -> EventRecord:
    """The request ``audit_id`` of the dataset (an open ``Dataset`` or where one is), with its
    raw line read back from its log, bodies and secret values redacted.

    >>> record = k8saudit.event("4d7f2c1e-...", "k8saudit-data")  # doctest: +SKIP
    >>> record.source_file, record.source_line, record.raw.status  # doctest: +SKIP
    ('logs/audit.log.gz', 1042, <LineStatus.FOUND: 'found'>)
    """
    if not isinstance(dataset, Dataset):
        with open_dataset(dataset) as ds:
            return event(audit_id, ds)
    found = dataset.sql("SELECT * FROM requests WHERE audit_id = $id LIMIT 2", id=audit_id)
    if not found.height:
        raise QueryError(
            f"no request with audit ID {audit_id!r} in {dataset.root}",
            hint="audit IDs are whole: copy one from `k8saudit sql` or an analysis",
        )
    row = found.row(0, named=True)
    return EventRecord(audit_id, row, read_back(dataset, audit_id, row))


def read_back(dataset: Dataset, audit_id: str, row: dict[str, Any]) -> RawLine:
    """Line ``source_line`` of ``source_file`` as it is now, scrubbed, and what it says."""
    name, number = row.get("source_file"), row.get("source_line")
    if not name or not number:
        return RawLine(LineStatus.UNKNOWN, "the request does not say which line it came from")
    path = Path(name)
    if not path.is_file():
        return RawLine(
            LineStatus.GONE,
            f"{name} is not there any more (rotated, moved, or ingested from another "
            "directory): the row above is what was read",
        )
    size = path.stat().st_size
    ingested = [f.size for f in dataset.manifest.files if f.path == name]
    source = SourceFile(path, name, size, compression_of(path))
    line = next(itertools.islice(iter_lines(source), number - 1, None), None)
    if line is None or audit_id not in line:
        return RawLine(
            LineStatus.MOVED,
            f"line {number:,} of {name} does not hold this request any more (the file "
            "changed since it was ingested, or the event is a multi-line document starting "
            "there)",
        )
    text = scrub_line(line, dataset.redaction_key, None, bodies=True)
    if ingested and size not in ingested:
        return RawLine(
            LineStatus.CHANGED,
            f"{name} changed since it was ingested ({ingested[-1]:,} bytes then, {size:,} "
            f"now); line {number:,} still holds this request",
            text,
        )
    return RawLine(LineStatus.FOUND, f"line {number:,} of {name}", text)
