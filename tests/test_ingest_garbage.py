"""Whatever bytes a file holds, ingest neither crashes nor loses track of a record."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import k8saudit

EVENT = json.dumps(
    {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "x", "stage": "ResponseComplete",
     "requestURI": "/api/v1/pods", "verb": "list",
     "requestReceivedTimestamp": "2019-02-04T12:00:00Z"}
)  # fmt: skip

lines = st.one_of(
    st.just(EVENT),
    st.text(max_size=80),
    st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
    st.sampled_from(['{"kind":', "{}", "[]", "null", '{"records": 5}', '{"message": "{"}', ""]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(lines, min_size=1, max_size=12))
# a U+0001 sends the file to the line-by-line reader, which took an empty list for no record
@example([EVENT, "\x01", "[]"])
def test_garbage_never_crashes_and_every_record_is_accounted(content: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "input.log"
        log.write_text("\n".join(content) + "\n", encoding="utf-8", errors="surrogateescape")
        report = k8saudit.ingest([log], dataset=Path(tmp) / "ds")
        (file_report,) = report.files
        assert file_report.status in ("ingested", "not a log", "unreadable")
        if file_report.status == "ingested":
            if file_report.format == "audit-jsonl":
                # one record per non-blank line: an event or a reject
                assert file_report.records == file_report.events + file_report.rejected
            assert report.requests_after <= file_report.events
        # the line-by-line reader, never reading in place, accounts for the same records
        slow = k8saudit.ingest([log], dataset=Path(tmp) / "slow", _in_place=False)
        counts = [(f.status, f.records, f.events, f.skipped, f.rejected) for f in slow.files]
        assert counts == [
            (f.status, f.records, f.events, f.skipped, f.rejected) for f in report.files
        ]
        assert slow.requests_after == report.requests_after
