"""``timeline`` in one pass over ``filtered`` gives what its two-pass form gave (the top groups
ranked on one read, the intervals counted on another, the span from ``_interval_span.sql``):
that form, kept here as the reference, and the query agree row for row on sample_logs/ with
many options, and on requests dated far outside the logs' span. Rates divide by the part of
each interval the logs cover: the interval in which they end is not a drop."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import k8saudit
from k8saudit.analyses import bind_query
from k8saudit.dataset import Dataset
from k8saudit.query_loader import compose, load_all

from .helpers import event, jsonl

#: the client of helpers.event's requests
CLIENT = "rest-client (logging:fluentd)"
#: timeline as it was before it read `filtered` once (DuckDB materialised it: 0.4 GB at 10 M)
TWO_PASS = """
WITH top_groups AS (
    SELECT grp FROM filtered GROUP BY grp ORDER BY count(*) DESC, grp LIMIT $limit
),
counted AS (
    SELECT
        time_bucket($every, received_at) AS interval_start,
        grp,
        count(*) AS requests,
        count(*) FILTER (WHERE code = 429) AS throttled
    FROM filtered
    SEMI JOIN top_groups USING (grp)
    CROSS JOIN interval_span AS b
    WHERE received_at >= time_bucket($every, b.first) AND received_at <= b.last
    GROUP BY ALL
)
SELECT
    CAST(c.interval_start AS TIMESTAMPTZ) AS interval_start,
    CAST(c.grp AS VARCHAR) AS grp,
    CAST(c.requests AS BIGINT) AS requests,
    -- per second of the interval the logs cover
    CAST(round(c.requests / nullif(greatest(epoch(
        least(c.interval_start + $every, w.window_end) - greatest(c.interval_start, w.window_start)
    ), 0), 0), 3) AS DOUBLE) AS req_per_s,
    CAST(c.throttled AS BIGINT) AS throttled
FROM counted AS c
CROSS JOIN observation_window($since, $until) AS w
ORDER BY c.interval_start, c.requests DESC, c.grp
"""


def _agree(ds: Dataset, values: dict[str, Any]) -> int:
    library = load_all()
    reference = compose(
        TWO_PASS, filtered=library["_filters"].body, interval_span=library["_interval_span"].body
    )
    bound = bind_query(ds, "timeline", values, {})
    expected = ds.sql(reference, **bound).rows()
    assert ds.timeline(**values).rows() == expected, values
    return len(expected)


@pytest.mark.parametrize(
    ("values", "count"),
    [
        ({}, 25),
        ({"every": "10s", "limit": 3}, 90),
        ({"every": "7m", "limit": 0}, 33),
        ({"by": "verb,resource", "every": "2m", "limit": 4}, 12),
        ({"since": "2019-02-04T12:01:30Z", "until": "2019-02-04T12:03:10Z", "every": "45s"}, 15),
        ({"since": "1m", "client": "kubelet", "every": "20s"}, 4),
        ({"code": 429, "by": "user", "every": "1m"}, 9),
        ({"client": "nobody"}, 0),
    ],
)
def test_one_pass_agrees_with_two(sample_dataset: Path, values: dict[str, Any], count: int) -> None:
    with k8saudit.open(sample_dataset) as ds:
        assert _agree(ds, values) == count


def test_one_pass_agrees_with_two_on_outlier_dates(tmp_path: Path) -> None:
    jsonl(tmp_path / "audit.log", [
        event("old", requestReceivedTimestamp="1970-01-01T00:00:01Z",
              stageTimestamp="1970-01-01T00:00:02Z"),
        event("early", requestReceivedTimestamp="2019-02-04T11:59:00Z",
              stageTimestamp="2019-02-04T12:00:30Z"),
        event("late", requestReceivedTimestamp="2019-02-04T12:00:59.9Z",
              stageTimestamp="2019-02-04T12:01:00Z"),
        event("a", requestReceivedTimestamp="2019-02-04T12:00:40Z",
              stageTimestamp="2019-02-04T12:00:41Z", responseStatus={"code": 429}),
        event("future", requestReceivedTimestamp="2031-02-04T12:00:40Z",
              stageTimestamp="2031-02-04T12:00:41Z"),
    ])  # fmt: skip
    k8saudit.ingest([tmp_path / "audit.log"], dataset=tmp_path / "ds")
    with k8saudit.open(tmp_path / "ds") as ds:
        for every in ("10s", "1m", "1h"):
            assert _agree(ds, {"every": every}) > 0
        assert _agree(ds, {"since": "2030-01-01T00:00:00Z"}) == 0


def test_the_interval_the_logs_end_in_is_no_drop(tmp_path: Path) -> None:
    # 2 requests a second from 12:00:00 to 12:01:29.5, each logged 0.25 s later: the logs cover
    # the first minute from 12:00:00.25 (59.75 s) and the second to 12:01:29.75 (29.75 s),
    # where dividing by the minute made 1.0 req/s of the second; one more request, received at
    # 11:58:30 and logged at 12:00:10, is in an interval the logs do not cover: no rate
    steady = [
        event(f"r{i}", requestReceivedTimestamp=f"2019-02-04T12:{i // 120:02d}:"
              f"{i % 120 // 2:02d}.{5 * (i % 2)}00000Z",
              stageTimestamp=f"2019-02-04T12:{i // 120:02d}:{i % 120 // 2:02d}."
              f"{5 * (i % 2) + 2}50000Z")
        for i in range(180)
    ]  # fmt: skip
    early = event("early", requestReceivedTimestamp="2019-02-04T11:58:30Z",
                  stageTimestamp="2019-02-04T12:00:10Z")  # fmt: skip
    jsonl(tmp_path / "audit.log", [*steady, early])
    k8saudit.ingest([tmp_path / "audit.log"], dataset=tmp_path / "ds")
    with k8saudit.open(tmp_path / "ds") as ds:
        assert ds.timeline(every="1m").rows() == [
            (datetime(2019, 2, 4, 11, 58, tzinfo=UTC), CLIENT, 1, None, 0),
            (datetime(2019, 2, 4, 12, 0, tzinfo=UTC), CLIENT, 120, 2.008, 0),
            (datetime(2019, 2, 4, 12, 1, tzinfo=UTC), CLIENT, 60, 2.017, 0),
        ]
        assert _agree(ds, {"every": "1m"}) == 3
        # --until ends the window at 12:00:30: 60 requests in the 29.75 s from 12:00:00.25
        assert ds.timeline(every="1m", until="2019-02-04T12:00:30Z").rows()[-1][2:4] == (60, 2.017)
