"""What an ingest run did, per file and in all: the data the ingest summary is rendered from."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass
class FileReport:
    """The outcome for one input file.

    ``in_place``: a clean audit log read where it lies (keys first, then only the events kept),
    not copied line by line.
    """

    path: str
    format: str
    status: str  # ingested | duplicate | not a log | unreadable
    size: int
    records: int = 0
    events: int = 0
    skipped: int = 0
    rejected: int = 0
    #: events dated before 2014 or more than a day after the file was written: kept, flagged
    suspicious: int = 0
    message: str = ""  # a note: how it was read, where a guessed year came from
    warning: str = ""  # something about it is likely wrong (a guessed year in the future...)
    in_place: bool = False


@dataclass
class IngestReport:
    """What ``ingest`` did; the CLI prints it as the closing summary."""

    dataset: Path
    files: list[FileReport] = field(default_factory=list)
    requests_before: int = 0
    requests_after: int = 0
    events: int = 0
    skipped: int = 0
    rejected: int = 0
    suspicious: int = 0  # events with a suspicious time (FileReport.suspicious), all files
    #: audit IDs whose complete events disagree on their times (sql/run_conflicts.sql)
    conflicts: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    first: datetime | None = None
    last: datetime | None = None
    rejects_file: Path | None = None

    @property
    def requests_added(self) -> int:
        return self.requests_after - self.requests_before

    @property
    def formats(self) -> Counter[str]:
        return Counter(f.format for f in self.files if f.status == "ingested")
