"""The clock of klog lines, which states neither a year nor a zone (DESIGN.md §3).

Access logs' klog headers say ``I0204 12:34:56.789012``: the year and zone come from a wrapper
(CRI, journald, JSON logging) when there is one, else from what this module decides, and the
ingest summary says which was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from k8saudit.exceptions import UsageError
from k8saudit.formats.klog import parse_klog_header, unwrap_line
from k8saudit.io import SourceFile, iter_lines


class ClockYear(NamedTuple):
    """The year klog lines are read in, and where it came from (``origin``)."""

    year: int
    origin: str  # "--year", "the log records' own timestamps", "the file's modification time"...
    zone: str

    @property
    def sentence(self) -> str:
        """What ``info`` says of the file.

        >>> ClockYear(2019, "--year", "UTC").sentence
        'year 2019 from --year, zone UTC'
        """
        return f"year {self.year} from {self.origin}, zone {self.zone}"

    @property
    def guessed(self) -> bool:
        """Not given (``--year``) nor stated by the records themselves: inferred."""
        return self.origin not in (YEAR_GIVEN, YEAR_STATED)


#: the origins of a year that is not guessed
YEAR_GIVEN = "--year"
YEAR_STATED = "the log records' own timestamps"
YEAR_FROM_AUDIT = "the audit events ingested with it"
YEAR_FROM_MTIME = "the file's modification time"


@dataclass(frozen=True)
class KlogClock:
    """How to read klog timestamps, which carry neither a year nor a zone.

    A wrapper's full timestamp (CRI, docker, JSON logging) always wins; otherwise the year is
    ``year`` (``ingest --year``), else the one its envelope states, else that of the audit events
    ingested with it (same cluster, same period), else the file's mtime year; the clock is read
    in ``tz`` (``ingest --tz``, default UTC).
    """

    year: int | None = None
    tz: tzinfo = UTC

    def resolve(
        self,
        source: SourceFile,
        stated: int | None = None,
        first_month: int | None = None,
        audit_end: datetime | None = None,
    ) -> ClockYear:
        """The year of the first klog line of ``source``, and where it came from.

        Both ``audit_end`` (the last audit event) and the modification time mark the *end* of
        the log: a log whose first line is in a later month than that (December lines, January
        end) began the year before.
        """
        zone = str(self.tz)
        if self.year is not None:
            return ClockYear(self.year, YEAR_GIVEN, zone)
        if stated is not None:
            return ClockYear(stated, YEAR_STATED, zone)
        if audit_end is not None:
            end, origin = audit_end, YEAR_FROM_AUDIT
        else:
            end, origin = modified_at(source), YEAR_FROM_MTIME
        year = end.year - (1 if first_month and first_month > end.month else 0)
        return ClockYear(year, origin, zone)


def modified_at(source: SourceFile) -> datetime:
    """When the file was last written (its modification time), UTC."""
    return datetime.fromtimestamp(source.path.stat().st_mtime, UTC)


def first_klog_month(source: SourceFile, lines: int = 1000) -> int | None:
    """The month of the first klog line among the first ``lines`` of the file, if any."""
    for number, line in enumerate(iter_lines(source)):
        header = parse_klog_header(unwrap_line(line).text)
        if header is not None:
            return header.month
        if number >= lines:
            break
    return None


def parse_zone(name: str | None) -> tzinfo:
    """The zone ``--tz`` names (default UTC); a name that is none is a usage error.

    >>> parse_zone("Europe/Berlin")
    zoneinfo.ZoneInfo(key='Europe/Berlin')
    """
    if name is None:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--tz {name!r}: not a time zone name (e.g. UTC, Europe/Berlin)") from None
