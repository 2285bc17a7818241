"""Parse one kube-apiserver access-log ("httplog") message, in any of its three eras.

At ``-v=3`` (``-v=2`` before 1.18) the API server logs every request it served, from
``k8s.io/apiserver/pkg/server/httplog`` (called from ``wrap.go``/``handler.go`` in old releases and
sometimes reported as ``panic.go``, so the emitting file is never relied on):

* glog era (≤ 1.17): ``GET /api/v1/services?limit=500: (1.2ms) 429 [[ua] 10.0.0.1:1234]``.
  The UA is the ``User-Agent`` header slice (``[ua]``, double brackets) in older releases and the
  header string (single bracket) later; it may contain spaces and brackets itself. ``hijacked``
  replaces the code when exec/attach/port-forward took the connection over. After an error status
  the status stack and the ``logging error output`` follow on *new lines*, and the ``[ua ip]``
  trailer comes last, at the end of the final continuation line.
* 1.18-1.19: ``verb="GET" URI="/healthz" latency=2.055089ms resp=200 UserAgent="..."
  srcIP="10.0.0.1:1234": <stack>``; a hijacked request has no ``resp`` and ends in ``: hijacked``.
* structured (1.20+): ``"HTTP" verb="LIST" URI="..." latency="1.2ms" userAgent="..." audit-ID="..."
  srcIP="..." apf_pl="..." ... resp=429`` with Go ``%q`` quoting, ``hijacked=true`` instead of
  ``resp``, optional ``statusStack``/``addedInfo`` (multi-line values continue on following lines),
  or the same keys as a ``--logging-format=json`` record.

The structured ``verb`` is Kubernetes' canonical metrics verb: ``LIST``/``WATCH``/``GET``/``PATCH``
are Kubernetes verbs and become ``verb`` (``APPLY`` → ``patch``); ``POST``/``PUT``/``DELETE`` and
other raw methods are ambiguous (create vs. post, delete vs. deletecollection), so they are kept as
``http_method`` and the pipeline derives the verb from the URI, as for the older eras.

A hijacked request (any era) is read as code 101 (Switching Protocols): httplog prints
``hijacked`` instead of a status once exec/attach/port-forward has taken the connection over, and
the audit filter records 101 for exactly that moment (its response writer sets the code when the
connection is hijacked), so the access log and the audit log agree on the request's code.

Truncation policy: a message that looks like an access line (``METHOD /...``, ``verb=``,
``"HTTP"``) but whose method, URI, latency and code (or ``hijacked``) cannot all be read is a
*reject*. When those core fields are all readable and only the ``[ua ip]`` trailer is missing or cut
(e.g. ``... 200 `` as pasted in kubernetes#71454), the request is kept with ``user_agent`` and
``source_ip`` null and ``partial=True``: the request happened and counts, but a cut UA is never
stored as if it were the real one.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from k8saudit.formats.goduration import parse_go_duration
from k8saudit.formats.goquote import unquote_go
from k8saudit.formats.klog import KLOG_HEADER_RE, parse_klog_json, unwrap_line


class HttpLogRecord(NamedTuple):
    """The fields one access-log record states (None = the line does not say)."""

    log_format: str
    http_method: str | None
    verb: str | None
    request_uri: str
    latency_ms: float | None
    code: int | None
    user_agent: str | None
    source_ip: str | None
    audit_id: str | None = None
    apf_priority_level: str | None = None
    apf_flow_schema: str | None = None
    apf_initial_seats: int | None = None
    apf_final_seats: int | None = None
    apf_additional_latency_ms: float | None = None
    apf_execution_ms: float | None = None
    #: glog era: the ``[ua ip]`` trailer was not on this line (error stack follows on next lines)
    needs_trailer: bool = False
    #: core fields read but the UA/IP trailer was cut off (UA and IP left null)
    partial: bool = False


#: the code of a request whose connection was hijacked (101 Switching Protocols, as audited)
_HIJACKED_CODE = 101
#: the glog-era record: METHOD URI: (latency) CODE|hijacked [rest]
_GLOG_RE = re.compile(r"([A-Z][A-Z_-]*) (\S+): \(([^()\s]+)\) (?:(\d+)|(hijacked))( ?)(.*)", re.S)
#: what a glog access line looks like even when cut: METHOD /uri followed by ": (" or the end
_GLOG_LOOKS_RE = re.compile(r"[A-Z][A-Z_-]* /\S*(?:: \(|$)", re.S)
#: a glog trailer on a continuation line, alone on its line (after the error output)
_TRAILER_LINE_RE = re.compile(r" ?\[(.*)\]")
#: one key=value pair of klog's structured text format (Go %q strings, bare tokens, or ``<``)
_KV_RE = re.compile(r' *([A-Za-z_][\w.\-]*)=("[^"\\]*(?:\\.[^"\\]*)*"|<$|[^\s"]*)', re.S)
#: the same pairs for ``findall`` (one C call per line); used when the line's quotes balance
_KV_ALL_RE = re.compile(r'([A-Za-z_][\w.\-]*)=("[^"\\]*(?:\\.[^"\\]*)*"|[^\s"]*)', re.S)
#: the canonical 1.20+ line with no escapes and nothing unusual: read in one regex match
_STRUCTURED_FAST_RE = re.compile(
    r'"HTTP" verb="([A-Z]+)" URI="([^"\\]*)" latency="([^"\\]*)" userAgent="([^"\\]*)" '
    r'audit-ID="([^"\\]*)" srcIP="([^"\\]*)"(?: apf_pl="([^"\\]*)" apf_fs="([^"\\]*)" '
    r'apf_iseats=(\d{1,9}) apf_fseats=(\d{1,9}) apf_additionalLatency="([^"\\]*)" '
    r'apf_execution_time="([^"\\]*)")? resp=(\d{1,9})'
)
#: a key whose quoted value never closes: the line was cut inside it
_OPEN_QUOTE_RE = re.compile(r' *[A-Za-z_][\w.\-]*="')
#: structured-era verbs that are Kubernetes verbs as they stand (lowercased)
K8S_VERBS = {
    "LIST": "list",
    "WATCH": "watch",
    "WATCHLIST": "watch",
    "GET": "get",
    "PATCH": "patch",
    "APPLY": "patch",
    "DELETECOLLECTION": "deletecollection",
}
_ELLIPSES = ("\u2026", "...")


def host_of(addr: str) -> str | None:
    """The IP of a Go ``RemoteAddr`` (``ip:port``, ``[v6]:port``, or a bare IP); None if empty.

    >>> host_of("[::1]:39234"), host_of("10.0.0.1:1234"), host_of("fe80::1")
    ('::1', '10.0.0.1', 'fe80::1')
    """
    if not addr:
        return None
    if addr[0] == "[":
        end = addr.find("]")
        return addr[1:end] if end > 1 else None
    if addr.count(":") == 1:
        host = addr.split(":", 1)[0]
        return host or None
    return addr


def split_glog_trailer(rest: str) -> tuple[str | None, str | None] | None:
    """Split a glog ``[ua ip:port]`` trailer into (user agent, source IP); None if malformed.

    The UA is everything before the last space (it may hold spaces and brackets); the double
    brackets of the ``Header["User-Agent"]`` era are removed. An empty UA becomes None.

    >>> split_glog_trailer("[[kube-proxy/v1.11 (linux/amd64)] [::1]:39234]")
    ('kube-proxy/v1.11 (linux/amd64)', '::1')
    """
    if len(rest) < 2 or rest[0] != "[" or rest[-1] != "]":
        return None
    inner = rest[1:-1]
    ua, sep, addr = inner.rpartition(" ")
    if not sep:
        ua, addr = "", inner
    if len(ua) >= 2 and ua[0] == "[" and ua[-1] == "]":
        ua = ua[1:-1]
    if not addr:
        return None
    return (ua or None), host_of(addr)


def trailer_from_continuation(text: str) -> tuple[str | None, str | None] | None:
    """The glog ``[ua ip]`` trailer when it sits alone on a continuation line, else None.

    >>> trailer_from_continuation(" [[kubectl/v1.9.2] 10.0.0.1:5]")
    ('kubectl/v1.9.2', '10.0.0.1')
    """
    if not text.endswith("]"):
        return None
    m = _TRAILER_LINE_RE.fullmatch(text)
    if m is None:
        return None
    return split_glog_trailer(text[text.index("[") :])


def _looks_cut(text: str) -> bool:
    """True when a record visibly ends in a truncation mark (``…`` or ``...``).

    >>> _looks_cut("GET /api/v1/pods?lab…")
    True
    """
    return text.endswith(_ELLIPSES)


def parse_glog_message(message: str) -> HttpLogRecord | str | None:
    """Parse a glog-era access message; a reject reason (str) if it looks like one but is broken.

    >>> r = parse_glog_message("GET /api/v1/nodes: (2.7ms) 429 [[hyperkube/v1.6.9] [::1]:39234]")
    >>> r.http_method, r.latency_ms, r.code, r.user_agent, r.source_ip
    ('GET', 2.7, 429, 'hyperkube/v1.6.9', '::1')
    """
    m = _GLOG_RE.match(message)
    if m is None:
        if _GLOG_LOOKS_RE.match(message):
            return "truncated access line" if _looks_cut(message) else "unparseable access line"
        return None
    method, uri, latency_text, code_text, _, space, rest = m.groups()
    latency = parse_go_duration(latency_text)
    if latency is None:
        return "bad latency"
    code = int(code_text) if code_text is not None else _HIJACKED_CODE
    if not space and not rest:
        # the line ends right after the code: an error stack follows (or the trailer is lost)
        return HttpLogRecord(
            "httplog-glog", method, None, uri, latency, code, None, None, needs_trailer=True
        )
    if code_text is not None and not space:
        return "unparseable access line"  # digits run into other text: not a status code
    trailer = split_glog_trailer(rest)
    if trailer is None:
        return HttpLogRecord(
            "httplog-glog", method, None, uri, latency, code, None, None, partial=True
        )
    return HttpLogRecord("httplog-glog", method, None, uri, latency, code, trailer[0], trailer[1])


def _scan_kv(message: str, pos: int) -> tuple[dict[str, str], bool]:
    """Read ``key=value`` pairs from ``pos`` until the first thing that is not one.

    Returns the raw (still quoted) values and whether the text stopped inside an unterminated
    quoted value (a cut line).

    >>> _scan_kv('verb="GET" resp=200 x', 0)
    ({'verb': '"GET"', 'resp': '200'}, False)
    """
    pairs: dict[str, str] = {}
    match = _KV_RE.match
    end = len(message)
    while pos < end:
        m = match(message, pos)
        if m is None:
            break
        pairs[m.group(1)] = m.group(2)
        pos = m.end()
    cut = pos < end and _OPEN_QUOTE_RE.match(message, pos) is not None
    return pairs, cut


def _record_from_pairs(pairs: dict[str, Any], log_format: str, quoted: bool) -> HttpLogRecord | str:
    """Build a record from the structured/1.18/JSON key-value pairs; a reject reason if incomplete.

    >>> _record_from_pairs({"verb": "LIST", "URI": "/api", "latency": "1s", "resp": 0},
    ...                    "httplog-json", False).verb
    'list'
    """
    unq = unquote_go if quoted else _as_str
    verb_raw = pairs.get("verb")
    uri_raw = pairs.get("URI")
    latency_raw = pairs.get("latency")
    if verb_raw is None or uri_raw is None or latency_raw is None:
        return "access line without verb, URI or latency"
    resp_raw = pairs.get("resp")
    hijacked = pairs.get("hijacked")
    if resp_raw is None and hijacked is None:
        return "access line without resp"
    code: int | None = _HIJACKED_CODE
    if resp_raw is not None:
        code = _as_int(resp_raw)
        if code is None:
            return "bad resp"
    latency = _duration(latency_raw)
    if latency is None:
        return "bad latency"
    upper = unq(verb_raw).upper()
    if not upper:
        return "empty verb"
    verb = K8S_VERBS.get(upper)
    method = None if verb is not None else upper
    ua_raw = pairs.get("userAgent", pairs.get("UserAgent"))
    ua = unq(ua_raw) if ua_raw is not None else None
    src_raw = pairs.get("srcIP")
    audit_raw = pairs.get("audit-ID")
    audit_id = unq(audit_raw) if audit_raw is not None else None
    pl = pairs.get("apf_pl")
    fs = pairs.get("apf_fs")
    iseats = pairs.get("apf_iseats")
    fseats = pairs.get("apf_fseats")
    add_lat = pairs.get("apf_additionalLatency")
    exe = pairs.get("apf_execution_time")
    return HttpLogRecord(
        log_format,
        method,
        verb,
        unq(uri_raw),
        latency,
        code,
        ua or None,
        host_of(unq(src_raw)) if src_raw is not None else None,
        audit_id or None,
        (unq(pl) or None) if pl is not None else None,
        (unq(fs) or None) if fs is not None else None,
        _as_int(iseats) if iseats is not None else None,
        _as_int(fseats) if fseats is not None else None,
        _duration(add_lat) if add_lat is not None else None,
        _duration(exe) if exe is not None else None,
    )


def _as_str(value: Any) -> str:
    """A JSON value as text (JSON records need no unquoting).

    >>> _as_str(5)
    '5'
    """
    return value if isinstance(value, str) else str(value)


def _as_int(value: Any) -> int | None:
    """An integer from a bare token, a quoted token or a JSON number; None if not one.

    >>> _as_int("429"), _as_int('"1"'), _as_int("x")
    (429, 1, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if not isinstance(value, str):
        return None
    if value.isdigit() and value.isascii() and len(value) < 10:
        return int(value)  # the common case: a bare small number
    text = value.strip('"')
    if text.isascii() and (text.isdigit() or (text[:1] == "-" and text[1:].isdigit())):
        number = int(text)
        return number if -(2**31) <= number < 2**31 else None
    return None


def _duration(value: Any) -> float | None:
    """Milliseconds of a Go duration token, quoted string, or JSON number of nanoseconds.

    >>> _duration('"1.5ms"'), _duration(2_000_000)
    (1.5, 2.0)
    """
    if isinstance(value, str):
        return parse_go_duration(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value / 1e6
    return None


def parse_structured_message(message: str) -> HttpLogRecord | str | None:
    """Parse a 1.18-1.19 (``verb=...``) or structured (``"HTTP" verb=...``) access message.

    >>> r = parse_structured_message('"HTTP" verb="WATCH" URI="/api/v1/pods?watch=1" '
    ...     'latency="5m0.1s" userAgent="a b" audit-ID="" srcIP="10.0.0.1:1" resp=200')
    >>> r.verb, r.latency_ms, r.user_agent, r.audit_id, r.log_format
    ('watch', 300100.0, 'a b', None, 'httplog-structured')
    """
    if message.startswith('"HTTP" '):
        fast = _STRUCTURED_FAST_RE.fullmatch(message)
        if fast is not None:
            fast_record = _record_from_fast_match(fast)
            if fast_record is not None:
                return fast_record
        pos, log_format = 7, "httplog-structured"
    elif message.startswith("verb="):
        pos, log_format = 0, "httplog-1.18"
    else:
        return None
    cut = False
    if (message.count('"') - message.count('\\"')) % 2 == 0:
        pairs = dict(_KV_ALL_RE.findall(message, pos))
    else:  # unbalanced quotes (a cut line, or a value ending in a backslash): scan strictly
        pairs, cut = _scan_kv(message, pos)
    if log_format == "httplog-1.18":
        if "resp" not in pairs and "hijacked" in message[len(message) - 12 :]:
            pairs["hijacked"] = "true"
        record = _record_from_pairs(pairs, log_format, True)
        if isinstance(record, HttpLogRecord):
            # 1.18 logs the raw HTTP method: never a Kubernetes verb
            method = record.http_method or (record.verb or "").upper()
            return record._replace(
                http_method=unquote_go(pairs["verb"]).upper() or method, verb=None
            )
        return _cut_reason(record, cut, message)
    record = _record_from_pairs(pairs, log_format, True)
    if isinstance(record, str):
        return _cut_reason(record, cut, message)
    return record


def _record_from_fast_match(m: re.Match[str]) -> HttpLogRecord | None:
    """The record of a ``_STRUCTURED_FAST_RE`` match; None to fall back to the general path.

    >>> _record_from_fast_match(_STRUCTURED_FAST_RE.match('"HTTP" verb="LIST" URI="/a" '
    ...     'latency="1ms" userAgent="k" audit-ID="" srcIP="1.2.3.4:5" resp=200')).verb
    'list'
    """
    verb_raw, uri, latency_raw, ua, audit_id, src, pl, fs, iseats, fseats, add, exe, resp = (
        m.groups()
    )
    latency = parse_go_duration(latency_raw)
    if latency is None:
        return None
    verb = K8S_VERBS.get(verb_raw)
    record = HttpLogRecord(
        "httplog-structured",
        None if verb else verb_raw,
        verb,
        uri,
        latency,
        int(resp),
        ua or None,
        host_of(src),
        audit_id or None,
    )
    if pl is None:  # no APF fields (a request rejected before APF, or APF off)
        return record
    return record._replace(
        apf_priority_level=pl or None,
        apf_flow_schema=fs or None,
        apf_initial_seats=int(iseats),
        apf_final_seats=int(fseats),
        apf_additional_latency_ms=parse_go_duration(add),
        apf_execution_ms=parse_go_duration(exe),
    )


def _cut_reason(reason: str, cut: bool, message: str) -> str:
    """Prefer "truncated access line" as the reject reason when the text was visibly cut.

    >>> _cut_reason("bad latency", True, "x")
    'truncated access line'
    """
    return "truncated access line" if cut or _looks_cut(message) else reason


def parse_httplog_json(record: dict[str, Any]) -> HttpLogRecord | str | None:
    """Parse a ``--logging-format=json`` record; None when its ``msg`` is not ``"HTTP"``.

    >>> parse_httplog_json({"ts": 1.0, "msg": "HTTP", "verb": "LIST", "URI": "/api/v1/pods",
    ...     "latency": "2ms", "userAgent": "kubectl", "srcIP": "[::1]:5", "resp": 429}).code
    429
    """
    if record.get("msg") != "HTTP":
        return None
    if "hijacked" in record and record.get("hijacked") is not True:
        record = {k: v for k, v in record.items() if k != "hijacked"}
    return _record_from_pairs(record, "httplog-json", False)


def parse_httplog_message(message: str) -> HttpLogRecord | str | None:
    """Parse the message part of a klog line (after ``file.go:NN] ``), any era.

    Returns a record, a short reject reason when the message looks like an access line but cannot
    be read, or None when it is some other log message (to be skipped).

    >>> parse_httplog_message("Starting watch for /api/v1/pods") is None
    True
    """
    if not message:
        return None
    head = message[0]
    if head == '"' or head == "v":
        return parse_structured_message(message)
    if "A" <= head <= "Z":
        return parse_glog_message(message)
    return None


def parse_httplog_line(line: str) -> HttpLogRecord | str | None:
    """Parse one physical log line (any wrapper, klog text or JSON) into an access record.

    Time is not part of the record (see ``access_log.parse_access_log``, which resolves the
    klog clock against wrapper timestamps and a default year).

    >>> parse_httplog_line('2023-08-23T08:55:54.3Z stderr F I0823 08:55:54.330840 1 '
    ...     'httplog.go:132] "HTTP" verb="GET" URI="/healthz" latency="1ms" resp=200').code
    200
    """
    text = unwrap_line(line).text
    header = KLOG_HEADER_RE.match(text)
    if header is not None:
        return parse_httplog_message(header.group(11))
    if text.startswith("{"):
        record = parse_klog_json(text)
        if record is not None:
            return parse_httplog_json(record)
    return None
