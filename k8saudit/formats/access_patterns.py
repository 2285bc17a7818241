"""The canonical access-log lines as regular expressions, with their fields as groups.

Both vectorised readers accept exactly these lines: the polars one (``access_fast``) tells
them apart with the patterns without groups (``STRUCTURED``, ``GLOG``, the same languages), and
DuckDB (``sql/access_scan.sql``) pulls their fields out of the groups of ``STRUCTURED_FIELDS``
and ``GLOG_FIELDS`` in one ``regexp_extract`` a line. This module imports nothing, so that the
DuckDB path does not pay for polars.

>>> import re
>>> line = ('I0204 12:00:00.682897 1 wrap.go:47] GET /api/v1/nodes: (676.473ms) 200 '
...         '[kubelet/v1.14.10 (linux/amd64) 10.0.46.149:40154]')
>>> found = re.match(GLOG_FIELDS, line)
>>> dict(zip(GLOG_NAMES, found.groups()))["addr"], bool(re.match(GLOG, line))
('10.0.46.149:40154', True)
"""

from __future__ import annotations

import re


def without_groups(pattern: str) -> str:
    """``pattern`` with every capturing group made non-capturing (the same language).

    >>> without_groups(r"(a)(?:b)(c)?")
    '(?:a)(?:b)(?:c)?'
    """
    return re.sub(r"(?<!\\)\((?!\?)", "(?:", pattern)


#: a bare klog header whose clock is valid in any year (29 February is left to the reference):
#: month, day, hour, minute, second, microseconds
_HEADER = (
    r"[IWEF](0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01]) ([01][0-9]|2[0-3]):([0-5][0-9]):"
    r'([0-5][0-9]|60)\.([0-9]{6}) +[0-9]+ [^ \]:"]+:[0-9]+\] ?'
)
_HEADER_NAMES = ["month", "day", "hour", "minute", "second", "micros"]
#: a Go duration the fast paths read: [Nh][Nm]N[.N]unit, small enough for int64 nanoseconds
DURATION = r"(?:([0-9]{1,4})h)?(?:([0-9]{1,4})m)?([0-9]{1,9})(?:\.([0-9]{1,9}))?(ns|us|µs|μs|ms|s)"


def _duration_names(prefix: str) -> list[str]:
    return [f"{prefix}_{part}" for part in ("h", "m", "n", "f", "unit")]


_VALUE = r'([^"\\]*)'
#: the canonical structured line (``httplog._STRUCTURED_FAST_RE`` with a readable latency)
STRUCTURED_FIELDS = (
    f'^{_HEADER}"HTTP" verb="([A-Z]+)" URI="{_VALUE}" latency="{DURATION}" '
    f'userAgent="{_VALUE}" audit-ID="{_VALUE}" srcIP="{_VALUE}"(?: apf_pl="{_VALUE}" '
    f'apf_fs="{_VALUE}" apf_iseats=([0-9]{{1,9}}) apf_fseats=([0-9]{{1,9}}) '
    f'apf_additionalLatency="{DURATION}" apf_execution_time="{DURATION}")? '
    r"resp=([0-9]{1,9})$"
)
STRUCTURED_NAMES = [
    *_HEADER_NAMES, "verb", "uri", *_duration_names("latency"), "ua", "audit_id", "src",
    "pl", "fs", "iseats", "fseats", *_duration_names("wait"), *_duration_names("exec"), "code",
]  # fmt: skip
#: the canonical glog line, its ``[ua ip:port]`` trailer on the same line
GLOG_FIELDS = (
    f"^{_HEADER}([A-Z][A-Z_-]*) ([!-~]+): \\({DURATION}\\) ([0-9]{{1,9}}) "
    r"\[(.*) ([^ ]+)\]$"
)
GLOG_NAMES = [*_HEADER_NAMES, "method", "uri", *_duration_names("latency"), "code", "ua", "addr"]
STRUCTURED = without_groups(STRUCTURED_FIELDS)
GLOG = without_groups(GLOG_FIELDS)
