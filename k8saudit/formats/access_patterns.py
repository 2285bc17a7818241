"""The canonical access-log lines as regular expressions: the lines both vectorised readers take.

A canonical line is a bare klog line of either era (``STRUCTURED``, ``GLOG``), or one in a
containerd (CRI) wrapper of a whole record (``CRI`` before it) or behind a journald prefix
(``JOURNALD``). The polars reader (``access_fast``) and DuckDB (``sql/access_scan.sql``) tell
them apart with these patterns and cut their fields out at the separators the patterns vouch
for; DuckDB checks a structured line piece by piece (``sql/access_scan.sql``: cut at its quotes,
which no value holds, its ``HEADER`` and ``DURATION`` pieces against these patterns, the others
against their text), so that no automaton runs over the values, most of the line. This module
imports nothing, so that the DuckDB path does not pay for polars.

>>> import re
>>> bool(re.match(GLOG, "I0204 12:00:00.682897 1 wrap.go:47] GET /api: (6ms) 200 [k 1.2.3.4:5]"))
True
"""

from __future__ import annotations

#: a bare klog header whose clock is valid in any year (29 February is left to the reference)
HEADER = (
    r"[IWEF](?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]) (?:[01][0-9]|2[0-3]):[0-5][0-9]:"
    r'(?:[0-5][0-9]|60)\.[0-9]{6} +[0-9]+ [^ \]:"]+:[0-9]+\] ?'
)
#: a Go duration the fast paths read: [Nh][Nm]N[.N]unit, small enough for int64 nanoseconds
DURATION = (
    r"(?:(?:[0-9]{1,4})h)?(?:(?:[0-9]{1,4})m)?(?:[0-9]{1,9})(?:\.(?:[0-9]{1,9}))?"
    r"(?:ns|us|µs|μs|ms|s)"
)
_VALUE = r'[^"\\]*'
#: the canonical structured line (``httplog._STRUCTURED_FAST_RE`` with a readable latency)
STRUCTURED = (
    f'^{HEADER}"HTTP" verb="[A-Z]+" URI="{_VALUE}" latency="{DURATION}" '
    f'userAgent="{_VALUE}" audit-ID="{_VALUE}" srcIP="{_VALUE}"(?: apf_pl="{_VALUE}" '
    f'apf_fs="{_VALUE}" apf_iseats=[0-9]{{1,9}} apf_fseats=[0-9]{{1,9}} '
    f'apf_additionalLatency="{DURATION}" apf_execution_time="{DURATION}")? '
    r"resp=[0-9]{1,9}$"
)
#: the canonical glog line, its ``[ua ip:port]`` trailer on the same line
GLOG = (
    f"^{HEADER}([A-Z][A-Z_-]*) ([!-~]+): \\(({DURATION})\\) ([0-9]{{1,9}}) "
    r"\[(.*) ([^ ]+)\]$"
)
#: a containerd (CRI) wrapper of a whole record: its RFC 3339 UTC time, stream and ``F`` tag
CRI = (
    r"^[1-9][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:"
    r"[0-5][0-9](?:\.[0-9]{1,9})?Z std(?:out|err) F "
)
#: a journald/syslog prefix (``klog._JOURNALD_RE`` with printable-ASCII host and ident): the
#: klog clock times the line, the host names its apiserver
JOURNALD = (
    r"^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} "
    r"[!-~]+ [!-9;-Z\\-~]+(?:\[[0-9]+\])?: "
)
#: any klog header, as ``klog.KLOG_FAST_RE`` reads one (with ASCII digits): DuckDB skips the
#: lines under one whose message is no access record, as the reference does
KLOG = r"^[IWEF][0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} +[0-9]+ [^ \]:]+:[0-9]+\] ?"
#: the first character of a line that no reader takes as a line of its own (neither a klog
#: header, a JSON record nor a wrapper: not I, W, E, F or A-S, a digit, ``{`` or ``[``): a trace
#: step, a stack, indented or blank text, which continues the access record before it
RUN_ON = r"^[\t !-/:-@T-VX-Z\\\]^-z|}~]"
#: a klog message that may be a glog access line, whole or cut (a superset of what
#: ``httplog._GLOG_RE`` and ``_GLOG_LOOKS_RE`` take): never skipped as noise by DuckDB
GLOG_LIKE = r"^[A-Z][A-Z_-]* (?:/|[^ ]+: \()"
