"""derive.sql computes some columns without the regexes that define them (issue 13 item 3: the
regexes ran on every request). Each column is checked here against its defining regex, the
expression derive.sql used before, on random user agents, usernames and query strings."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8saudit.query_loader import compose
from k8saudit.schema import RAW_EVENT_TYPES
from k8saudit.sqlfiles import create_macros, internal_sql

#: the column as derive.sql computed it with a regex, over the relation `raw`
REFERENCE = {
    "identity": """CASE WHEN starts_with(username, 'system:node:')
        THEN regexp_replace(username, '^system:node:.+$', 'system:node:*') ELSE username END""",
    "client_version": r"nullif(regexp_extract(user_agent, '^[^/\s]+/(\S+)', 1), '')",
    "node_name": "nullif(regexp_extract(username, '^system:node:(.+)$', 1), '')",
    "client": r"""CASE
        WHEN coalesce(_product, '') = '' THEN NULL
        WHEN _ua_suffix IS NOT NULL
            THEN _product || '/' || regexp_replace(_ua_suffix, '^system:serviceaccount:[^:]+:', '')
        WHEN lower(_product) IN (
            'rest-client', 'go-http-client', 'python-requests', 'okhttp', 'curl', 'python-urllib',
            'java', 'apache-httpclient', 'axios', 'node-fetch', 'wget', 'openapi-generator',
            'python-httpx', 'aiohttp', 'faraday', 'ruby', 'swagger-codegen'
        ) THEN _product || coalesce(' (' || coalesce(_sa, _identity) || ')', '')
        ELSE _product
    END""",
    **{
        column: f"""CASE WHEN contains(_query, '{name}=') THEN url_decode(
            nullif(regexp_extract(_query, '(?:^|&){name}=([^&]*)', 1), '')) END"""
        for column, name in (
            ("label_selector", "labelSelector"),
            ("field_selector", "fieldSelector"),
            ("resource_version", "resourceVersion"),
        )
    },
    "limit_param": """CASE WHEN contains(_query, 'limit=') THEN try_cast(
        nullif(regexp_extract(_query, '(?:^|&)limit=([^&]*)', 1), '') AS BIGINT) END""",
    "is_watch": """coalesce(CASE WHEN contains(_query, 'watch=')
        THEN lower(regexp_extract(_query, '(?:^|&)watch=([^&]*)', 1)) IN ('true', '1') END,
        false)""",
}

REFERENCE_INPUTS = r"""
SELECT
    *,
    CASE WHEN strpos(request_uri, '?') > 0
        THEN substr(request_uri, strpos(request_uri, '?') + 1) END AS _query,
    CASE WHEN starts_with(username, 'system:node:')
        THEN regexp_replace(username, '^system:node:.+$', 'system:node:*') ELSE username END
        AS _identity,
    regexp_extract(user_agent, '^([^/\s]+)', 1) AS _product,
    CASE WHEN contains(user_agent, 'kubernetes/')
        THEN nullif(regexp_extract(user_agent, 'kubernetes/[^/\s]+/(\S+)$', 1), '') END
        AS _ua_suffix,
    nullif(regexp_extract(username, '^system:serviceaccount:([^:]+:[^:]+)$', 1), '') AS _sa
FROM raw
"""

#: pieces the regexes care about, and characters they treat apart
PIECES = [
    "system:node:", "system:serviceaccount:", "kubernetes/", "kube", "/", ":", " ", "\t", "\n",
    "\r", "\f", "\v", "v1.2.3", "a", "Z", "é", "☃", "&", "=", "?", "%2C", "watch=", "1", "true",
    "TRUE", "limit=", "labelSelector=", "fieldSelector=", "resourceVersion=", "rest-client",
    "curl", "&watch=", "&limit=", "&labelSelector=", "(linux/amd64)", "12",
]  # fmt: skip
texts = st.one_of(st.none(), st.lists(st.sampled_from(PIECES), max_size=8).map("".join))


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    create_macros(con)
    return con


def _compare(
    con: duckdb.DuckDBPyConnection, rows: list[tuple[str | None, str | None, str | None]]
) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _cases (user_agent VARCHAR, username VARCHAR, q VARCHAR)"
    )
    con.executemany("INSERT INTO _cases VALUES (?, ?, ?)", rows)
    given = {
        "verb": "'get'",
        "user_agent": "user_agent",
        "username": "username",
        "request_uri": "'/api/v1/pods' || coalesce('?' || q, '')",
    }
    columns = ", ".join(
        f'{given.get(name, f"NULL::{kind}")} AS "{name}"' for name, kind in RAW_EVENT_TYPES.items()
    )
    raw = f"SELECT {columns}, row_number() OVER ()::VARCHAR AS request_key FROM _cases"
    names = list(REFERENCE)
    derived = compose(
        f"SELECT request_key, {', '.join(names)} FROM derived",
        raw=raw,
        derived=internal_sql("derive"),
    )
    expected = compose(
        f"SELECT request_key, {', '.join(f'{e} AS {n}' for n, e in REFERENCE.items())} FROM inputs",
        raw=raw,
        inputs=REFERENCE_INPUTS,
    )
    missing = con.execute(
        f"FROM ({derived}) EXCEPT ALL FROM ({expected}) UNION ALL "
        f"(FROM ({expected}) EXCEPT ALL FROM ({derived}))"
    ).fetchall()
    assert missing == []


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(texts, texts, texts), min_size=1, max_size=40))
def test_derive_computes_each_column_as_its_regex_defines(
    con: duckdb.DuckDBPyConnection, rows: list[tuple[str | None, str | None, str | None]]
) -> None:
    _compare(con, rows)


def test_the_corners_of_each_rewrite(con: duckdb.DuckDBPyConnection) -> None:
    ua = (
        "kube-controller-manager/v1.14.10 (linux/amd64) kubernetes/575467a/"
        "system:serviceaccount:kube-system:x"
    )
    _compare(
        con,
        [
            ("kubelet/v1.14.10 (linux/amd64) kubernetes/575467a", "system:node:ip-10-0-1-2", None),
            (ua, "system:serviceaccount:kube-system:x", "watch=true&limit=500"),
            (
                "rest-client/2.0.2 (linux-gnu x86_64)",
                "system:serviceaccount:a:b",
                "limit=x&watch=1",
            ),
            ("curl/", "system:node:", "xlimit=5&labelSelector=a%3Db&labelSelector=c"),
            ("/v1", "system:node:a\nb", "fieldSelector=&fieldSelector=x&resourceVersion=0"),
            (" x/1", "system:node:\n", "awatch=true"),
            ("", "", ""),
            (None, None, None),
            ("é/☃ x", "system:node:☃", "&watch=TRUE&&resourceVersion=1&"),
        ],
    )
