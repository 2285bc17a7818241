"""One duration grammar for every option that takes a length of time.

``--since 1h30m``, ``--until 10m``, ``--every 5m`` and ``simulate --duration 1.5h`` all read the
same text: Go's ``time.ParseDuration`` syntax (compound and fractional: ``1h30m``, ``1.5h``,
``90s``, ``250ms``), parsed by ``k8saudit.formats.goduration`` exactly as access-log latencies are,
plus a leading ``d`` component for days (``2d``, ``1d12h``), which Go lacks and incident windows
need. This module sits in the lowest layer: it knows durations, not options or datasets.
"""

from __future__ import annotations

import re
from datetime import timedelta

from k8saudit.formats.goduration import parse_go_duration

#: what a usage message shows as the forms a duration may take
EXAMPLES = "30m, 1h30m, 1.5h, 90s, 2d"

_DAYS = re.compile(r"^(?:(\d+(?:\.\d*)?|\.\d+)d)?(.*)$")


def parse_duration(text: str) -> timedelta | None:
    """The length of time ``text`` says, or None when it is not a duration.

    Negative durations are not durations here: every option counts a length forward or back.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    >>> parse_duration("1.5d")
    datetime.timedelta(days=1, seconds=43200)
    >>> parse_duration("yesterday") is None
    True
    """
    match = _DAYS.match(text.strip())
    if match is None:
        return None
    days, rest = match.groups()
    if days is None and not rest:
        return None
    millis = 0.0
    if rest:
        parsed = parse_go_duration(rest)
        if parsed is None or parsed < 0 or rest.startswith(("+", "-")):
            return None
        millis = parsed
    try:
        return timedelta(days=float(days or 0), milliseconds=millis)
    except OverflowError:  # beyond 999,999,999 days: no time could be that far apart
        return None
