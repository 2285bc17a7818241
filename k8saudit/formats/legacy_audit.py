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

This module reads single lines; ``access_log.parse_legacy_audit`` pairs the lines of one ``id``
into one row.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from k8saudit.formats.httplog import unquote_go
from k8saudit.formats.klog import parse_rfc3339_us, unwrap_line

_LEGACY_RE = re.compile(r"(\d{4}-\d\d-\d\d[T ]\S+) AUDIT: (.*)", re.S)
_PAIR_RE = re.compile(r'([A-Za-z][\w-]*)=("[^"\\]*(?:\\.[^"\\]*)*"|\S*)')
_QUOTED_RE = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"')
#: placeholder values that mean "the source does not say"
_PLACEHOLDERS = frozenset({"<none>", "<self>", "<lookup>", "<unknown>", "<deferred>", ""})


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
