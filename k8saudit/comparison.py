"""``compare``: two windows of one dataset, or two datasets, side by side.

The numbers are SQL: each side is ``queries/_compare_side.sql`` over its own dataset and window
(per group: requests, 429s, busy time, and the side's observation window), and
``queries/_compare_join.sql`` puts the two side by side (new, vanished, rate changes, 429-share
changes, ranked by the change in load). Two datasets are two DuckDB connections, so no one
query can read both: this module runs each side where its data is and registers both results
on the connection of the second for the join. That is all it does.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from k8saudit.analyses import read_internal
from k8saudit.dataset import Dataset
from k8saudit.dataset import open as open_dataset
from k8saudit.exceptions import UsageError
from k8saudit.query_loader import load_all

if TYPE_CHECKING:
    import polars as pl

#: the relations the join reads
SIDES = ("compare_before", "compare_after")


def parse_window(text: str | None, option: str) -> dict[str, str]:
    """``A..B`` as the ``since``/``until`` of a side; either end may be left out, each is a
    time (RFC3339) or a duration back from the end of the data (``2h..1h``).

    >>> parse_window("2019-02-04T12:00:00Z..2019-02-04T12:02:00Z", "--before")
    {'since': '2019-02-04T12:00:00Z', 'until': '2019-02-04T12:02:00Z'}
    >>> parse_window("30m..", "--after"), parse_window(None, "--after")
    ({'since': '30m'}, {})
    """
    if text is None:
        return {}
    since, sep, until = text.partition("..")
    if not sep:
        raise UsageError(
            f"{option} {text!r}: expected START..END", hint="e.g. 2h..1h or 2019-02-04T12:00Z.."
        )
    return {k: v.strip() for k, v in (("since", since), ("until", until)) if v.strip()}


def compare(
    dataset: Dataset | str | os.PathLike[str] | None = None,
    *,
    before: str | None = None,
    after: str | None = None,
    against: Dataset | str | os.PathLike[str] | None = None,
    min_change: float | None = None,
    limit: int | None = None,
    **filters: Any,
) -> pl.DataFrame:
    """What changed, per group of ``by`` (client by default; ``by="verb,resource"`` per
    operation): ``before`` and ``after`` are windows (``A..B``) of ``dataset``, or, with
    ``against``, the whole of the dataset ``against`` (the baseline; ``before`` then windows it)
    and of ``dataset``. A req/s that changed by less than ``min_change`` (0.05: 5%) of itself
    is the ``same``; ``filters`` are the common filters, applied to both sides.

    >>> k8saudit.compare("k8saudit-data", before="..12:02", after="12:03..")  # doctest: +SKIP
    >>> k8saudit.compare("nodes-290", against="nodes-80")  # doctest: +SKIP
    """
    if against is None and before is None and after is None:
        raise UsageError(
            "compare: nothing to compare", hint="give --before A..B and --after C..D, or --against"
        )
    if not isinstance(dataset, Dataset):
        with open_dataset(dataset) as ds:
            return compare(ds, before=before, after=after, against=against,
                           min_change=min_change, limit=limit, **filters)  # fmt: skip
    if against is not None and not isinstance(against, Dataset):
        with open_dataset(against) as baseline:
            return compare(dataset, before=before, after=after, against=baseline,
                           min_change=min_change, limit=limit, **filters)  # fmt: skip
    baseline = against if against is not None else dataset
    window_before = parse_window(before, "--before")
    window_after = parse_window(after, "--after")
    sides = [
        read_internal(baseline, "_compare_side", {}, {**filters, **window_before}),
        read_internal(dataset, "_compare_side", {}, {**filters, **window_after}),
    ]
    join = load_all()["_compare_join"]
    arrow = {name: frame.to_arrow() for name, frame in zip(SIDES, sides, strict=True)}
    with dataset.registered(**arrow):
        frame = dataset.sql(join.sql, **join.bind({"limit": limit, "min_change": min_change}))
    by = join_by(filters.get("by"))
    return frame.rename({"grp": by})


def join_by(by: Any) -> str:
    """The result's group column: named after the grouping, as the analyses name it.

    >>> join_by(None), join_by("verb, resource"), join_by(["client"])
    ('client', 'verb,resource', 'client')
    """
    from k8saudit.params import convert

    param = load_all()["_filters"].params["by"]
    return ",".join(convert(param, by if by is not None else param.default))
