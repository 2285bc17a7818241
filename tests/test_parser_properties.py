"""Property tests of every line parser (issue 12 item 7): random bytes never raise, valid
records round-trip. The parsers are ``fuzz.line_parsers.PARSERS``, the list `make fuzz` runs
under atheris for longer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz.line_parsers import PARSERS, run_all
from k8saudit.formats.envelopes import unwrap
from k8saudit.formats.klog import parse_klog_header, parse_rfc3339_us
from k8saudit.formats.timestamps import parse_timestamp
from k8saudit.io import utf16_encoding

HEADER = "I0204 12:34:56.789012       1 httplog.go:132] "
lines = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("utf-8", "replace")),
    st.text(max_size=120).map(lambda t: HEADER + t),
    st.text(max_size=120).map(lambda t: HEADER + '"HTTP" verb="' + t),
    st.text(max_size=120).map(lambda t: "2017-02-09T00:15:57.993528822Z AUDIT: id=" + t),
    st.text(max_size=120).map(lambda t: '{"kind":"Event","auditID":' + t),
    st.text(max_size=120).map(lambda t: '{"records":[{"properties":{"log":' + t),
)


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=150, deadline=None)
@given(line=lines)
def test_a_parser_never_raises(name: str, line: str) -> None:
    PARSERS[name](line)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise_in_any_parser(data: bytes) -> None:
    run_all(data)
    utf16_encoding(data)


names = st.text(st.characters(codec="utf-8"), max_size=40)  # no lone surrogates


@settings(max_examples=200, deadline=None)
@given(audit_id=names, verb=names, uri=names, user=names, agent=names, groups=st.lists(names))
def test_a_valid_event_round_trips_through_unwrap(
    audit_id: str, verb: str, uri: str, user: str, agent: str, groups: list[str]
) -> None:
    event = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": audit_id, "verb": verb,
        "requestURI": uri, "user": {"username": user, "groups": groups}, "userAgent": agent,
        "stage": "ResponseComplete", "requestReceivedTimestamp": "2019-02-04T12:00:00Z",
    }  # fmt: skip
    (item,) = unwrap(json.loads(json.dumps(event)))
    assert (item.kind, item.value) == ("event", event)
    wrapped = {"records": [{"category": "kube-audit", "properties": {"log": json.dumps(event)}}]}
    (item,) = unwrap(json.loads(json.dumps(wrapped)))
    assert (item.kind, item.value) == ("event", event)


instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(instants)
def test_timestamps_round_trip(at: datetime) -> None:
    text = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    expected = (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert parse_rfc3339_us(text) == expected
    assert parse_timestamp(text) == at


@settings(max_examples=300, deadline=None)
@given(instants, st.sampled_from("IWEF"), st.integers(1, 99999), names.filter(str.isprintable))
def test_a_klog_header_round_trips(at: datetime, level: str, pid: int, message: str) -> None:
    line = f"{level}{at:%m%d %H:%M:%S.%f} {pid:>7} wrap.go:47] {message}"
    header = parse_klog_header(line)
    assert header is not None
    fields = (header.month, header.day, header.micro, header.file, header.message)
    assert fields == (at.month, at.day, at.microsecond, "wrap.go", message)
