"""Go ``time.Duration`` text (``1.5ms``, ``7m39.000719686s``, ``174.269µs``) to milliseconds.

Every API-server access log prints latencies with Go's ``Duration.String()``; some wrappers quote
it. Parsing is exact: digits are turned into integer nanoseconds first (as Go does), so
``7m39.000719686s`` is exactly ``459000.719686`` ms and not a float sum with rounding noise.
"""

from __future__ import annotations

import re

#: nanoseconds per Go duration unit; both micro signs Go accepts (U+00B5 and U+03BC)
_UNIT_NS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_COMPONENT = r"(\d*)(?:\.(\d*))?(ns|us|\u00b5s|\u03bcs|ms|s|m|h)"
_DURATION_RE = re.compile(r"([-+]?)((?:\d*(?:\.\d*)?(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+|0)")
_COMPONENT_RE = re.compile(_COMPONENT)
_SIMPLE_RE = re.compile(r"(\d+)(?:\.(\d+))?(ms|\u00b5s|\u03bcs|us|s|ns)")


def parse_go_duration(text: str) -> float | None:
    """Return the Go duration ``text`` in milliseconds, or None when it is not one.

    Accepts every form ``time.ParseDuration`` accepts, optionally wrapped in double quotes.

    >>> parse_go_duration("7m39.000719686s")
    459000.719686
    >>> parse_go_duration('"174.269µs"')
    0.174269
    >>> parse_go_duration("fast") is None
    True
    """
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    simple = _SIMPLE_RE.fullmatch(text)
    if simple is not None:  # the overwhelmingly common single-unit case
        whole, frac, unit = simple.groups()
        ns = _component_ns(whole, frac, unit)
        return ns / 1e6
    match = _DURATION_RE.fullmatch(text)
    if match is None:
        return None
    sign, body = match.groups()
    if body == "0":
        return 0.0
    total = 0
    for whole, frac, unit in _COMPONENT_RE.findall(body):
        if not whole and not frac:
            return None  # ".s" or "s": Go rejects a unit without digits
        total += _component_ns(whole, frac, unit)
    return -total / 1e6 if sign == "-" else total / 1e6


def _component_ns(whole: str | None, frac: str | None, unit: str) -> int:
    """Integer nanoseconds of one ``<digits>[.<digits>]<unit>`` component (truncating, like Go).

    >>> _component_ns("1", "5", "ms")
    1500000
    """
    scale = _UNIT_NS[unit]
    ns = int(whole) * scale if whole else 0
    if frac:
        ns += int(frac) * scale // 10 ** len(frac)
    return ns
