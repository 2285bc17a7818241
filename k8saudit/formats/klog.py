"""Peel the envelopes off an API-server log line: container/journald wrappers and the klog header.

An access-log line reaches us wrapped several ways, depending on who collected it:

* CRI (containerd, CRI-O): ``2023-08-23T08:55:54.331196195Z stderr F <text>`` (``P`` = partial,
  the text continues in the next CRI record);
* docker ``--log-driver=json-file``: ``{"log":"<text>\\n","stream":"stderr","time":"..."}``
  (a ``log`` without the trailing newline is a partial line, continued in the next record);
* ``docker logs -t``: ``2017-09-22T12:30:56.641355902Z <text>``;
* journald / syslog: ``Feb 12 12:31:00 host kube-apiserver[21922]: <text>``;
* ``kubectl logs --prefix``: ``[pod/kube-apiserver-node1/kube-apiserver] <text>``.

Inside is a klog line, ``I0204 12:34:56.789012    1 file.go:47] <message>``, or (with
``--logging-format=json``) a JSON object ``{"ts":...,"caller":"...","msg":"HTTP",...}``.

klog writes neither a year nor a zone. When a wrapper carries a full RFC 3339 timestamp, that
instant is the line's time; otherwise the klog month/day/clock are read in the caller's
``default_year`` and ``tz`` (usually UTC, the zone every container runs in). Callers count which
of the two each row used, so a report can say so.

All times are returned as integer microseconds since the Unix epoch (UTC): cheap to build Arrow
``timestamp[us, UTC]`` columns from, no ``datetime`` object per line.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any, NamedTuple

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: klog header: severity, MMDD, clock, thread id, file:line, then the message
KLOG_HEADER_RE = re.compile(
    r"([IWEF])(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) +(\d+) ([^ \]:]+):(\d+)\] ?(.*)",
    re.DOTALL,
)
#: RFC 3339 timestamp with any number of fraction digits and Z or a numeric offset
_RFC3339_RE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?(Z|z|[+-]\d\d:?\d\d)?"
)
#: CRI prefix after the timestamp: stream and tag (F full / P partial)
_CRI_RE = re.compile(r"(stdout|stderr) ([FP]) ?")
#: journald/syslog short prefix: month day clock host ident[pid]:
_JOURNALD_RE = re.compile(
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d "
    r"(\S+) [^\s:\[]+(?:\[\d+\])?: "
)
_KUBECTL_PREFIX_RE = re.compile(r"\[pod/([^/\]]+)/[^\]]*\] ")


class Unwrapped(NamedTuple):
    """One physical line with its wrapper removed."""

    #: the wrapped text (a klog line, a JSON log record, or anything else)
    text: str
    #: the wrapper's full timestamp in epoch microseconds, when it has one
    wrapper_us: int | None
    #: apiserver host or pod name, when the wrapper names it
    host: str | None
    #: True when the wrapper says the text continues in the next record (CRI ``P``, docker JSON)
    partial: bool
    #: short name of the wrapper ("cri", "docker-json", "docker", "journald", "kubectl", "")
    wrapper: str


class KlogHeader(NamedTuple):
    """The parsed ``I0204 12:34:56.789012 1 file.go:47] `` header of a klog text line."""

    severity: str
    month: int
    day: int
    hour: int
    minute: int
    second: int
    micro: int
    thread: int
    file: str
    line: int
    message: str


def unwrap_line(line: str) -> Unwrapped:
    """Strip a CRI, docker, journald or ``kubectl logs --prefix`` wrapper from ``line``.

    Lines without a wrapper come back unchanged with ``wrapper=""``.

    >>> u = unwrap_line("2023-08-23T08:55:54.331196195Z stderr F I0823 08:55:54.330840 1 x.go:1] h")
    >>> u.text, u.wrapper_us, u.wrapper
    ('I0823 08:55:54.330840 1 x.go:1] h', 1692780954331196, 'cri')
    """
    if not line:
        return Unwrapped(line, None, None, False, "")
    first = line[0]
    if first == "{":
        docker = _unwrap_docker_json(line)
        if docker is not None:
            return docker
        return Unwrapped(line, None, None, False, "")
    if "0" <= first <= "9" and len(line) > 20 and line[4] == "-" and line[10] in "T ":
        space = line.find(" ", 11)
        if space > 0:
            us = parse_rfc3339_us(line[:space])
            if us is not None:
                rest = line[space + 1 :]
                cri = _CRI_RE.match(rest)
                if cri is not None:
                    return Unwrapped(rest[cri.end() :], us, None, cri.group(2) == "P", "cri")
                return Unwrapped(rest, us, None, False, "docker")
        return Unwrapped(line, None, None, False, "")
    if first == "[":
        m = _KUBECTL_PREFIX_RE.match(line)
        if m is not None:
            return Unwrapped(line[m.end() :], None, m.group(1), False, "kubectl")
        return Unwrapped(line, None, None, False, "")
    if "A" <= first <= "S":
        m = _JOURNALD_RE.match(line)
        if m is not None:
            return Unwrapped(line[m.end() :], None, m.group(1), False, "journald")
    return Unwrapped(line, None, None, False, "")


def _unwrap_docker_json(line: str) -> Unwrapped | None:
    """Unwrap a docker json-file record ``{"log":..., "stream":..., "time":...}``, else None.

    >>> _unwrap_docker_json('{"log":"x\\\\n","stream":"stderr","time":"2020-01-01T00:00:00Z"}').text
    'x'
    """
    if '"log"' not in line:
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    text = record.get("log")
    if not isinstance(text, str):
        return None
    partial = not text.endswith("\n")
    if not partial:
        text = text[:-1]
        if text.endswith("\r"):
            text = text[:-1]
    when = record.get("time")
    us = parse_rfc3339_us(when) if isinstance(when, str) else None
    return Unwrapped(text, us, None, partial, "docker-json")


def parse_klog_header(text: str) -> KlogHeader | None:
    """Split a klog text line into its header fields and message, or None when it is not one.

    >>> h = parse_klog_header("I0111 19:04:54.684870       1 wrap.go:47] GET /api: (1ms) 200")
    >>> h.month, h.day, h.micro, h.file, h.message
    (1, 11, 684870, 'wrap.go', 'GET /api: (1ms) 200')
    """
    m = KLOG_HEADER_RE.match(text)
    if m is None:
        return None
    g = m.groups()
    return KlogHeader(
        g[0],
        int(g[1]),
        int(g[2]),
        int(g[3]),
        int(g[4]),
        int(g[5]),
        int(g[6]),
        int(g[7]),
        g[8],
        int(g[9]),
        g[10],
    )


def parse_rfc3339_us(text: str) -> int | None:
    """Epoch microseconds (UTC) of an RFC 3339 timestamp with any fraction and offset, or None.

    Nanosecond fractions are truncated to microseconds; a missing zone means UTC.

    >>> parse_rfc3339_us("2017-03-21T03:57:09.106841886-04:00")
    1490083029106841
    """
    m = _RFC3339_RE.fullmatch(text)
    if m is None:
        return None
    year, month, day, hh, mm, ss, frac, zone = m.groups()
    try:
        day_us = _day_start_us(int(year), int(month), int(day))
    except ValueError:
        return None
    hour, minute, second = int(hh), int(mm), int(ss)
    if hour > 23 or minute > 59 or second > 60:
        return None
    us = day_us + ((hour * 60 + minute) * 60 + second) * 1_000_000
    if frac:
        us += int((frac + "00000")[:6])
    if zone and zone not in "Zz":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        us -= sign * (int(digits[:2]) * 60 + int(digits[2:])) * 60_000_000
    return us


@lru_cache(maxsize=4096)
def _day_start_us(year: int, month: int, day: int) -> int:
    """Epoch microseconds of midnight UTC of a calendar day (raises ValueError for bad dates).

    >>> _day_start_us(1970, 1, 2)
    86400000000
    """
    delta = datetime(year, month, day, tzinfo=UTC) - _EPOCH
    return (delta.days * 86_400) * 1_000_000


def klog_time_us(
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    micro: int,
    tz: tzinfo = UTC,
) -> int | None:
    """Epoch microseconds (UTC) of a klog clock read in ``year`` and zone ``tz``; None if invalid.

    >>> klog_time_us(2019, 1, 11, 19, 4, 54, 684870)
    1547233494684870
    """
    if hour > 23 or minute > 59 or second > 60:
        return None
    try:
        base = _day_start_us(year, month, day)
    except ValueError:
        return None
    us = base + ((hour * 60 + minute) * 60 + second) * 1_000_000 + micro
    if tz is not UTC:
        us -= utc_offset_us(tz, year, month, day, hour)
    return us


@lru_cache(maxsize=65536)
def utc_offset_us(tz: tzinfo, year: int, month: int, day: int, hour: int) -> int:
    """UTC offset of ``tz`` at the start of the given local hour, in microseconds (cached).

    >>> utc_offset_us(UTC, 2020, 1, 1, 0)
    0
    """
    offset = datetime(year, month, day, hour, tzinfo=tz).utcoffset() or timedelta(0)
    return (offset.days * 86_400 + offset.seconds) * 1_000_000 + offset.microseconds


def parse_klog_json(text: str) -> dict[str, Any] | None:
    """Decode a ``--logging-format=json`` record (it has ``ts`` and ``msg``), else None.

    >>> parse_klog_json('{"ts":1692781234500.5,"msg":"HTTP","v":3}')["msg"]
    'HTTP'
    """
    if not text.startswith("{") or '"msg"' not in text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict) or "msg" not in record or "ts" not in record:
        return None
    return record


def json_ts_us(ts: object) -> int | None:
    """Epoch microseconds of a JSON log ``ts``: epoch milliseconds (Kubernetes), epoch seconds
    (older zap encoders) or an RFC 3339 string.

    >>> json_ts_us(1692781234500.5)
    1692781234500500
    >>> json_ts_us(1692781234.5)
    1692781234500000
    """
    if isinstance(ts, bool):
        return None
    if isinstance(ts, int | float):
        if ts != ts or ts in (float("inf"), float("-inf")):
            return None
        if abs(ts) >= 1e11:  # milliseconds: Kubernetes' epochMillisTimeEncoder
            return round(ts * 1000)
        return round(ts * 1_000_000)
    if isinstance(ts, str):
        return parse_rfc3339_us(ts)
    return None


#: hot-loop variant of ``KLOG_HEADER_RE``: no message group (the caller slices at ``end()``)
KLOG_FAST_RE = re.compile(r"[IWEF](\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) +\d+ [^ \]:]+:\d+\] ?")
