"""Parse the plain-text audit log of Kubernetes 1.4-1.11 (``--audit-log-format=legacy``).

Two generations share the ``<RFC3339> AUDIT: key="value" ...`` shape, every value Go-quoted:

* before 1.8 (``WithAudit`` filter): a request line
  ``id="..." ip="..." method="GET" user="..." groups="..." as="<self>" asgroups="<lookup>"
  namespace="default" uri="..."`` (``groups``/``asgroups`` from 1.6) and, for the same ``id``,
  a response line ``id="..." response="200"`` written when the status is sent. ``method`` is the
  HTTP method; each line carries its own write time.
* 1.8+ legacy backend (``audit.EventString``): one line per *stage*, each with every field:
  ``id stage ip method user groups as asgroups [user-agent] namespace uri response``, where
  ``method`` is the Kubernetes verb (``list``) and ``response`` is ``<deferred>`` until known. The
  timestamp printed is the request's *received* time on every stage line.

Placeholders mean "not known": ``<none>`` (user, groups, namespace), ``<self>`` (as),
``<lookup>`` (asgroups), ``<unknown>`` (ip), ``<deferred>`` (response). ``groups`` is itself a
comma-separated list of Go-quoted strings.

``parse_legacy_audit_line`` reads one line; ``parse_legacy_audit`` pairs the lines of one ``id``
into one row and yields ``batches.ParsedBatch`` objects, the batch contract it shares with the
access-log parser; ``looks_like_legacy_audit`` is its sniffer. The format has its own module because
it shares nothing with the access log beyond that contract and the Go string quoting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from k8saudit.formats.batches import (
    ParsedBatch,
    Reject,
    clipped_reject,
    rows_to_table,
    sample_lines,
)
from k8saudit.formats.goquote import unquote_go
from k8saudit.formats.klog import parse_rfc3339_us, unwrap_line

_LEGACY_RE = re.compile(r"(\d{4}-\d\d-\d\d[T ]\S+) AUDIT: (.*)", re.S)
_PAIR_RE = re.compile(r'([A-Za-z][\w-]*)=("[^"\\]*(?:\\.[^"\\]*)*"|\S*)')
_QUOTED_RE = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"')
#: placeholder values that mean "the source does not say"
_PLACEHOLDERS = frozenset({"<none>", "<self>", "<lookup>", "<unknown>", "<deferred>", ""})
#: legacy audit ids waiting for their response line before the oldest is emitted unanswered
MAX_PENDING_LEGACY = 100_000


class LegacyAuditLine(NamedTuple):
    """One ``AUDIT:`` line: its time and its (unquoted) fields."""

    at_us: int
    fields: dict[str, str]


def parse_legacy_audit_line(line: str) -> LegacyAuditLine | str | None:
    """Parse one legacy audit line; a reject reason if it is a broken ``AUDIT:`` line.

    None means the line is something else (skip it). Container-runtime wrappers are removed.

    >>> r = parse_legacy_audit_line('2017-02-09T00:15:57.993528822Z AUDIT: id="90c7" response="2"')
    >>> r.at_us, r.fields
    (1486599357993528, {'id': '90c7', 'response': '2'})
    """
    m = _LEGACY_RE.match(line)
    if m is None:
        if " AUDIT: " not in line:
            return None
        m = _LEGACY_RE.match(unwrap_line(line).text)
        if m is None:
            return "unparseable AUDIT line"
    at_us = parse_rfc3339_us(m.group(1))
    if at_us is None:
        return "bad timestamp"
    fields = {key: unquote_go(value) for key, value in _PAIR_RE.findall(m.group(2))}
    if not fields.get("id"):
        return "AUDIT line without id"
    return LegacyAuditLine(at_us, fields)


def known(value: str | None) -> str | None:
    """``value`` unless it is missing or a placeholder like ``<none>``/``<self>``.

    >>> known("<self>") is None, known("bob")
    (True, 'bob')
    """
    if value is None or value in _PLACEHOLDERS:
        return None
    return value


def parse_groups(value: str | None) -> list[str] | None:
    """The ``groups="..."`` list (Go-quoted names joined by commas); None for ``<none>``.

    >>> parse_groups('"system:masters","system:authenticated"')
    ['system:masters', 'system:authenticated']
    """
    value = known(value)
    if value is None:
        return None
    if not value.startswith('"'):
        return [value]
    return [unquote_go(group) for group in _QUOTED_RE.findall(value)]


def response_code(value: str | None) -> int | None:
    """The HTTP code of ``response="200"``; None for ``<deferred>`` or anything else.

    >>> response_code("429"), response_code("<deferred>")
    (429, None)
    """
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 9:
        return None
    return int(value)


def looks_like_legacy_line(line: str) -> bool:
    """True when ``line`` is a legacy ``<RFC3339> AUDIT: id="..."`` line (possibly wrapped).

    >>> looks_like_legacy_line('2016-09-07T13:03:57.4Z AUDIT: id="5c3b" response="200"')
    True
    """
    m = _LEGACY_RE.match(line) or _LEGACY_RE.match(unwrap_line(line).text)
    return m is not None and m.group(2).startswith('id="')


def looks_like_legacy_audit(sample: str) -> bool:
    """True when the sample holds a legacy ``<RFC3339> AUDIT: id="..."`` line.

    >>> looks_like_legacy_audit('2017-02-09T00:15:57.99Z AUDIT: id="9" ip="1.2.3.4" method="GET"')
    True
    """
    return any(looks_like_legacy_line(line.lstrip("\ufeff")) for line in sample_lines(sample))


# --------------------------------------------------------------------------- batches


class _LegacyRequest:
    """A legacy audit request (one ``id``) waiting for its response line."""

    __slots__ = ("code", "cont", "fields", "line", "received_us", "stage", "stage_us", "staged")

    def __init__(self, parsed: LegacyAuditLine, line_no: int) -> None:
        self.fields = parsed.fields
        self.line = line_no
        self.received_us = parsed.at_us
        self.stage_us = parsed.at_us
        self.staged = "stage" in parsed.fields
        self.stage = parsed.fields.get("stage") or "RequestReceived"
        self.code = response_code(parsed.fields.get("response"))
        self.cont = 0

    def update(self, parsed: LegacyAuditLine) -> None:
        """Merge a later line of the same ``id`` (a response line or a later stage)."""
        for key, value in parsed.fields.items():
            if key not in self.fields or known(self.fields[key]) is None:
                self.fields[key] = value
        code = response_code(parsed.fields.get("response"))
        if code is not None:
            self.code = code
        self.stage = parsed.fields.get("stage") or "ResponseComplete"
        self.stage_us = parsed.at_us
        self.cont += 1

    def row(self) -> tuple[Any, ...]:
        """The row tuple (``batches.ROW_COLUMNS`` layout) of this request."""
        f = self.fields
        method = known(f.get("method"))
        # 1.8+ (stage=) lines print the Kubernetes verb; older ones the HTTP method
        verb = method.lower() if method is not None and self.staged else None
        http_method = method.upper() if method is not None and not self.staged else None
        has_request = "uri" in f or "method" in f
        return (
            f.get("id"),
            self.stage,
            self.stage_us,
            self.received_us if has_request else None,
            verb,
            http_method,
            known(f.get("uri")),
            known(f.get("namespace")),
            known(f.get("user")),
            parse_groups(f.get("groups")),
            known(f.get("as")),
            known(f.get("user-agent")),
            known(f.get("ip")),
            self.code,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "legacy-audit",
            self.line,
        )


def parse_legacy_audit(
    lines: Iterable[str],
    *,
    source_file: str,
    batch_rows: int = 65536,
) -> Iterator[ParsedBatch]:
    """Parse a legacy text audit log into ``RAW_EVENT_SCHEMA`` batches, one row per ``id``.

    The request line and the response line (or the stage lines) of an ``id`` become one row,
    at the line number of the first; its ``response`` line counts as a continuation line. A
    request with no response line by the end of the file is kept with ``stage="RequestReceived"``
    and a null code; a response line whose request line is not in the file (rotation) is kept as
    a ``ResponseComplete`` row holding only the id, time and code, for the pipeline to merge by
    ``audit_id``. At most ``MAX_PENDING_LEGACY`` ids wait for a response; beyond that the oldest
    is emitted unanswered (its later response line then becomes such a response-only row).
    Timestamps always carry a date and an offset, so every row counts as ``wrapper_time_lines``.

    >>> batch, = parse_legacy_audit([
    ...     '2017-03-21T03:57:09.106841886-04:00 AUDIT: id="c9" ip="127.0.0.1" method="GET" '
    ...     'user="admin" groups="\\\\"system:masters\\\\"" as="<self>" asgroups="<lookup>" '
    ...     'namespace="default" uri="/api/v1/namespaces/default/pods"',
    ...     '2017-03-21T03:57:09.108403639-04:00 AUDIT: id="c9" response="200"'],
    ...     source_file="audit.log")
    >>> batch.table.num_rows, batch.continuation, batch.table.column("code").to_pylist()
    (1, 1, [200])
    """
    rows: list[tuple[Any, ...]] = []
    rejects: list[Reject] = []
    skipped = continuation = 0
    pending: dict[str, _LegacyRequest] = {}
    seen = False

    def emit(request: _LegacyRequest) -> None:
        nonlocal continuation
        rows.append(request.row())
        continuation += request.cont

    def take() -> ParsedBatch:
        nonlocal rows, rejects, skipped, continuation
        table = rows_to_table(rows, source_file)
        batch = ParsedBatch(
            table=table,
            lines=table.num_rows + continuation + skipped + len(rejects),
            skipped=skipped,
            rejects=rejects,
            wrapper_time_lines=table.num_rows,
            continuation=continuation,
        )
        rows, rejects = [], []
        skipped = continuation = 0
        return batch

    for line_no, raw in enumerate(lines, 1):
        seen = True
        parsed = parse_legacy_audit_line(raw.lstrip("\ufeff") if line_no == 1 else raw)
        if parsed is None:
            skipped += 1
            continue
        if isinstance(parsed, str):
            rejects.append(clipped_reject(line_no, parsed, raw))
        else:
            audit_id = parsed.fields["id"]
            waiting = pending.get(audit_id)
            is_request = "uri" in parsed.fields or "method" in parsed.fields
            staged = "stage" in parsed.fields
            if waiting is not None and (staged or not is_request):
                waiting.update(parsed)
                if not staged or waiting.stage in ("ResponseComplete", "Panic"):
                    emit(pending.pop(audit_id))
            else:
                if waiting is not None:  # the same id again: the first one never got an answer
                    emit(pending.pop(audit_id))
                request = _LegacyRequest(parsed, line_no)
                if is_request and request.stage in ("RequestReceived", "ResponseStarted"):
                    pending[audit_id] = request
                    if len(pending) > MAX_PENDING_LEGACY:
                        emit(pending.pop(next(iter(pending))))
                else:
                    if not staged:
                        request.stage = "ResponseComplete"
                    emit(request)
        if len(rows) >= batch_rows or len(rejects) >= batch_rows:
            yield take()
    for request in pending.values():
        emit(request)
    pending.clear()
    if seen:
        yield take()
