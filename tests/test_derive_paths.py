"""``sql/derive.sql`` reads what a path addresses as kube-apiserver's RequestInfoFactory does.

For a source that does not say (an access-log line), derive.sql cuts the path into its segments
(no regular expression: at access-log speed, the one over every path cost a third of deriving
its rows). The reference here is the pattern the factory's reading comes down to,
``/api/VERSION/...`` or ``/apis/GROUP/VERSION/...`` with an optional ``/watch``, no segment
empty, one closing slash allowed; then ``namespaces/NS/...`` addresses resources inside NS
except the namespace's own ``status`` and ``finalize``. Hypothesis writes paths of segments that
matter (api, apis, watch, namespaces, status, empty ones, a newline, non-ASCII text).
"""

from __future__ import annotations

import re
from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8saudit.query_loader import compose
from k8saudit.schema import RAW_EVENT_TYPES, empty_relation
from k8saudit.sqlfiles import create_macros, internal_sql

_ADDRESSED = re.compile(r"/(?:api|apis/([^/]+))/([^/]+)(/watch)?((?:/[^/]+)*)/?")

_NAMED = "api apis watch watchers v1 apps namespaces kube-system pods status finalize log"
SEGMENTS = st.sampled_from(["", "a\nb", "é", " ", "?", *_NAMED.split()]) | st.text(
    alphabet="/aw", max_size=4
)


@st.composite
def paths(draw: st.DrawFn) -> str | None:
    if draw(st.integers(0, 49)) == 0:
        return None
    lead = "/" if draw(st.integers(0, 9)) else ""
    path = lead + "/".join(draw(st.lists(SEGMENTS, max_size=7)))
    return path + draw(st.sampled_from(["", "/", "?watch=1", "?limit=5"]))


def expected(uri: str | None) -> tuple[Any, ...]:
    """(api_group, api_version, resource, subresource, namespace, name, is_watch) of a GET."""
    if uri is None:
        return (None,) * 6 + (False,)
    path, _, query = uri.partition("?")
    m = _ADDRESSED.fullmatch(path)
    group, version, watch, rest = m.groups(default="") if m else ("", "", "", "")
    p0 = rest[1:].split("/") if version and rest else []
    namespaced = p0[:1] == ["namespaces"]
    p = p0[2:] if namespaced and len(p0) >= 3 and p0[2] not in ("status", "finalize") else p0
    namespace = p0[1] if namespaced and len(p0) >= 2 else None
    resource, name, subresource = [*p, None, None, None][:3]
    is_watch = bool(watch) or query == "watch=1"
    return (group or None, version or None, resource, subresource, namespace, name, is_watch)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(paths(), min_size=1, max_size=40))
def test_path_parts_are_the_request_info_factorys(uris: list[str | None]) -> None:
    con = duckdb.connect()
    create_macros(con)
    con.execute(compose(internal_sql("staged_table"), raw_schema=empty_relation(RAW_EVENT_TYPES)))
    con.executemany(
        "INSERT INTO staged (source_line, request_uri, http_method, log_format) "
        "VALUES (?, ?, 'GET', 'httplog-glog')",
        list(enumerate(uris)),
    )
    raw = "SELECT * EXCLUDE (_status, _reject_text, _batch, _wrapper_timed) FROM staged"
    query = compose(
        "SELECT api_group, api_version, resource, subresource, namespace, name, is_watch "
        "FROM derived ORDER BY source_line",
        raw=raw,
        derived=internal_sql("derive"),
    )
    assert con.execute(query).fetchall() == [expected(uri) for uri in uris]
