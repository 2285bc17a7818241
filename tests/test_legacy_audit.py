"""Legacy text audit (pre-1.8 request/response pairs and the 1.8+ ``stage=`` lines)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k8saudit.formats.access_log import looks_like_access_log
from k8saudit.formats.batches import ParsedBatch
from k8saudit.formats.legacy_audit import (
    looks_like_legacy_audit,
    parse_groups,
    parse_legacy_audit,
    parse_legacy_audit_line,
)
from k8saudit.schema import RAW_EVENT_SCHEMA

LEGACY = (
    Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "k8s-docs-legacy-audit"
)


def sample(name: str) -> list[str]:
    if not LEGACY.is_dir():
        pytest.skip("../shared/realdata not present")
    text = (LEGACY / name).read_text(encoding="utf-8")
    assert looks_like_legacy_audit(text) and not looks_like_access_log(text)
    return text.splitlines()


def parse(lines: list[str], batch_rows: int = 65536) -> list[ParsedBatch]:
    batches = list(parse_legacy_audit(lines, source_file="audit.log", batch_rows=batch_rows))
    for b in batches:
        assert b.table.schema == RAW_EVENT_SCHEMA
        assert b.lines == b.table.num_rows + b.continuation + b.skipped + len(b.rejects)
    assert sum(b.lines for b in batches) == len(lines)
    return batches


def rows_of(lines: list[str]) -> tuple[list[dict[str, Any]], ParsedBatch]:
    (batch,) = parse(lines)
    return batch.table.to_pylist(), batch


def test_2016_pair_is_one_row() -> None:
    rows, batch = rows_of(sample("legacy-audit-k8s-website-2016-09.log"))
    (row,) = rows
    assert (batch.lines, batch.continuation, batch.skipped) == (2, 1, 0)
    assert row["audit_id"] == "5c3b8227-4af9-4322-8a71-542231c3887b"
    assert (row["http_method"], row["verb"], row["code"], row["stage"]) == (
        "GET",
        None,
        200,
        "ResponseComplete",
    )
    assert (row["username"], row["user_groups"], row["impersonated_user"]) == ("admin", None, None)
    assert (row["namespace"], row["source_ip"]) == ("default", "127.0.0.1")
    assert row["request_uri"] == "/api/v1/namespaces/default/pods"
    assert row["received_at"] == datetime(2016, 9, 7, 13, 3, 57, 400333, tzinfo=UTC)
    assert row["stage_at"] == datetime(2016, 9, 7, 13, 3, 57, 400710, tzinfo=UTC)
    assert (row["log_format"], row["source_line"]) == ("legacy-audit", 1)


def test_2017_offset_is_converted_to_utc_and_groups_listed() -> None:
    rows, _ = rows_of(sample("legacy-audit-k8s-website-2017-03.log"))
    (row,) = rows
    assert row["received_at"] == datetime(2017, 3, 21, 7, 57, 9, 106841, tzinfo=UTC)
    assert row["stage_at"] == datetime(2017, 3, 21, 7, 57, 9, 108403, tzinfo=UTC)
    assert row["user_groups"] == ["system:masters", "system:authenticated"]
    assert row["code"] == 200


def test_fluentd_comment_sample() -> None:
    rows, _ = rows_of(sample("legacy-audit-fluentd-gcp-comment-2017-02.log"))
    (row,) = rows
    assert (row["username"], row["source_ip"], row["code"]) == ("kubecfg", "104.132.1.72", 200)


def test_1_8_stage_variant() -> None:
    rows, batch = rows_of(sample("legacy-advanced-audit-k8s-website-2017-09.log"))
    (row,) = rows
    assert batch.continuation == 1
    assert (row["verb"], row["http_method"], row["stage"], row["code"]) == (
        "list",
        None,
        "ResponseComplete",
        200,
    )
    assert row["stage_at"] == datetime(2017, 9, 5, 10, 8, 19, 885328, tzinfo=UTC)
    assert row["request_uri"] == "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles"
    assert row["user_groups"] == ["system:masters", "system:authenticated"]


def line(ts: str, body: str) -> str:
    return f"{ts} AUDIT: {body}"


def test_hijacked_exec_is_response_101() -> None:
    # the legacy filter prints response="101" when exec/attach/port-forward hijack the connection
    rows, batch = rows_of(
        [
            line(
                "2017-03-21T03:57:09.106841886-04:00",
                'id="e1" ip="10.0.0.7" method="POST" user="admin" groups="\\"system:masters\\"" '
                'as="<self>" asgroups="<lookup>" namespace="default" '
                'uri="/api/v1/namespaces/default/pods/web-0/exec?command=sh&stdin=true"',
            ),
            line("2017-03-21T03:57:09.118403639-04:00", 'id="e1" response="101"'),
        ]
    )
    (row,) = rows
    assert (row["audit_id"], row["http_method"], row["code"], row["stage"]) == (
        "e1",
        "POST",
        101,
        "ResponseComplete",
    )
    assert batch.continuation == 1


def test_request_without_response_and_deferred() -> None:
    rows, _ = rows_of(
        [
            line(
                "2017-09-05T06:08:19Z",
                'id="a" ip="1.2.3.4" method="GET" user="bob" as="alice" namespace="<none>" '
                'uri="/api"',
            ),
            line(
                "2017-09-05T06:08:19Z",
                'id="b" stage="RequestReceived" ip="<unknown>" method="watch" user="<none>" '
                'groups="<none>" as="<self>" asgroups="<lookup>" user-agent="kubectl/v1.8" '
                'namespace="ns" uri="/w" response="<deferred>"',
            ),
        ]
    )
    assert [(r["audit_id"], r["stage"], r["code"]) for r in rows] == [
        ("a", "RequestReceived", None),
        ("b", "RequestReceived", None),
    ]
    assert (rows[0]["impersonated_user"], rows[0]["namespace"]) == ("alice", None)
    assert (rows[1]["source_ip"], rows[1]["username"], rows[1]["user_agent"]) == (
        None,
        None,
        "kubectl/v1.8",
    )


def test_orphan_response_interleaving_skip_and_reject() -> None:
    rows, batch = rows_of(
        [
            line("2017-01-01T00:00:00Z", 'id="z" response="404"'),
            line(
                "2017-01-01T00:00:01Z",
                'id="a" ip="1.1.1.1" method="DELETE" user="u" as="<self>" namespace="n" uri="/x"',
            ),
            "some unrelated text",
            line(
                "2017-01-01T00:00:02Z",
                'id="b" ip="1.1.1.1" method="GET" user="u" as="<self>" namespace="n" uri="/y"',
            ),
            line("2017-01-01T00:00:03Z", 'id="b" response="200"'),
            "garbage AUDIT: id=",
            line("2017-01-01T00:00:04Z", 'id="a" response="500"'),
        ]
    )
    assert [(r["audit_id"], r["code"], r["source_line"]) for r in rows] == [
        ("z", 404, 1),
        ("b", 200, 4),
        ("a", 500, 2),
    ]
    assert rows[0]["received_at"] is None and rows[0]["request_uri"] is None
    assert (batch.skipped, batch.continuation, [r.line for r in batch.rejects]) == (1, 2, [6])


def test_cri_wrapped_legacy_line() -> None:
    rows, _ = rows_of(
        ["2017-01-01T00:00:00Z stdout F " + line("2017-01-01T00:00:00Z", 'id="q" response="200"')]
    )
    assert rows[0]["code"] == 200


def test_batches() -> None:
    lines = [line("2017-01-01T00:00:00Z", f'id="{i}" response="200"') for i in range(7)]
    assert [b.table.num_rows for b in parse(lines, batch_rows=3)] == [3, 3, 1]


def test_helpers() -> None:
    assert parse_groups("<none>") is None and parse_groups('"a\\"b","c"') == ['a"b', "c"]
    assert parse_legacy_audit_line("hello") is None
    assert parse_legacy_audit_line('2017-13-45T00:00:00Z AUDIT: id="x"') == "bad timestamp"


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=60),
            st.sampled_from(
                [
                    'AUDIT: id="',
                    '2017-01-01T00:00:00Z AUDIT: id="x"',
                    '2017-01-01T00:00:00Z AUDIT: id="x" response="1"',
                    '2017-01-01T00:00:00Z AUDIT: id="x" stage="Panic"',
                ]
            ),
        ),
        max_size=15,
    )
)
def test_garbage_never_raises(lines: list[str]) -> None:
    parse([x.replace("\n", " ").replace("\r", " ") for x in lines])
