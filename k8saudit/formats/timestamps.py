"""Parsing the timestamp spellings found in audit sources into aware UTC datetimes.

RFC 3339 with ``Z`` or an offset, nanosecond fractions (truncated to microseconds: Arrow stores
``timestamp[us]``), and the space-separated ``2022-11-29 00:09:04.38`` that export tools write.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_TS = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})?$", re.I
)


def parse_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime, or None when ``value`` is not a timestamp.

    >>> parse_timestamp("2024-01-19 13:47:18.279921000")
    datetime.datetime(2024, 1, 19, 13, 47, 18, 279921, tzinfo=datetime.timezone.utc)
    """
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        return None
    match = _TS.match(value.strip())
    if not match:
        return None
    day, clock, fraction, zone = match.groups()
    micro = (fraction or "")[:6].ljust(6, "0")
    zone = "+00:00" if zone is None or zone.upper() == "Z" else zone
    if ":" not in zone:
        zone = zone[:3] + ":" + zone[3:]
    try:
        parsed = datetime.fromisoformat(f"{day}T{clock}.{micro}{zone}")
    except ValueError:
        return None
    return parsed.astimezone(UTC)
