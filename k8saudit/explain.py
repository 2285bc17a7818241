"""Why an answer is empty, in terms a person in an incident can act on (issue 11 items 3, 4).

An empty table leaves a responder guessing: was the client misspelt, the window wrong, or did
nothing happen? ``explain_empty`` asks the data, with bound parameters only (the SQL is
``queries/_filter_values.sql``, ``_match_count.sql`` and ``_observed_span.sql``): a filter
value no request has (and the data's nearest values), a window outside the data (and the
data's span), filters that each match but not together, or requests that matched but that the
analysis keeps none of. ``dataset_empty`` says why a dataset holds no request at all, from its
manifest. The answers are typed values; ``k8saudit.render.empty_text`` words them, escaping the
strings that came from logs.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from k8saudit.analyses import Connection, bind_query, read_internal
from k8saudit.exceptions import DatasetError
from k8saudit.query_loader import load_all
from k8saudit.store import FileEntry, Manifest

#: the common filters that name a value of the data, in the order they are checked
VALUE_FILTERS = ("client", "verb", "resource", "namespace", "user", "code")
#: how many nearest values an explanation names at most
NEAREST = 3


@dataclass(frozen=True)
class NoSuchValue:
    """No request has this value of a filter; ``nearest`` are the data's closest values."""

    filter: str
    value: str
    nearest: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutsideData:
    """The window (``since``/``until``; None: open) holds no request; the data spans
    ``first`` .. ``last``."""

    since: datetime | None
    until: datetime | None
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True)
class NoCombination:
    """Each filter matches requests, but no request matches them all (``windowed``: within
    the --since/--until window)."""

    filters: tuple[tuple[str, str], ...]
    windowed: bool = False


@dataclass(frozen=True)
class NoneKept:
    """``requests`` requests match the filters, but the analysis keeps none of them (e.g.
    ``throttling`` lists only groups that got a 429)."""

    requests: int
    analysis: str


EmptyReason = NoSuchValue | OutsideData | NoCombination | NoneKept


def explain_empty(
    con: Connection, name: str, values: Mapping[str, Any], memo: dict[str, Any]
) -> EmptyReason:
    """Why the analysis ``name`` with ``values`` (as given to it) returned no rows.

    >>> explain_empty(ds, "top_talkers", {"client": "datadog"}, {})  # doctest: +SKIP
    NoSuchValue(filter='client', value='datadog', nearest=('datadog-agent',))
    """
    bound = bind_query(con, name, values, memo)
    given = [(f, str(bound[f])) for f in VALUE_FILTERS if bound.get(f) is not None]
    for column, value in given:
        known = read_internal(con, "_filter_values", memo, {"column": column})
        candidates = [str(v) for v in known["value"].to_list()]
        matches = value.lower() if column == "verb" else value
        if matches not in candidates:
            return NoSuchValue(column, value, nearest(value, candidates))
    window = {k: values[k] for k in ("since", "until") if values.get(k) is not None}
    if window and _count(con, window, memo) == 0:
        first, last = read_internal(con, "_observed_span", memo).row(0)
        return OutsideData(bound.get("since"), bound.get("until"), first, last)
    # every common filter, whatever _filters.sql declares (--without...), but not the grouping
    common = {p.name for p in load_all()["_match_count"].options if p.type != "GROUPING"}
    filters = {k: v for k, v in values.items() if k in common and v is not None}
    matched = _count(con, filters, memo)
    if matched == 0:
        source = bound.get("source")
        chosen = [("source", source)] if source not in (None, "auto") else []
        if bound.get("without"):
            chosen.append(("without", str(bound["without"])))
        return NoCombination(tuple(given + chosen), bool(window))
    return NoneKept(matched, name)


def nearest(value: str, candidates: list[str], limit: int = NEAREST) -> tuple[str, ...]:
    """The candidates a mistyped ``value`` most likely meant: those containing it (or it
    them), ignoring case, in the candidates' order, then the closest spellings.

    >>> nearest("datadog", ["kubelet", "datadog-agent"]), nearest("pod", ["pods", "nodes"])
    (('datadog-agent',), ('pods',))
    """
    lowered = value.lower()
    containing = [c for c in candidates if lowered in c.lower() or c.lower() in lowered]
    close = difflib.get_close_matches(value, candidates, n=limit, cutoff=0.6)
    return tuple(dict.fromkeys([*containing, *close]))[:limit]


def dataset_empty(root: object, manifest: Manifest) -> DatasetError | None:
    """The error an analysis of a dataset without requests is: what was ingested, and why it
    gave none (None when the dataset holds requests).

    >>> str(dataset_empty("k8saudit-data", Manifest()))
    'k8saudit-data: dataset is empty: 0 files ingested, 0 requests (run `k8saudit ingest LOGS...`)'
    """
    if manifest.requests:
        return None
    files = manifest.files
    plural = "" if len(files) == 1 else "s"
    why = "; ".join(_file_outcome(f) for f in files[:NEAREST])
    if len(files) > NEAREST:
        why += f"; {len(files) - NEAREST} more"
    return DatasetError(
        f"{root}: dataset is empty: {len(files)} file{plural} ingested, 0 requests",
        hint=why or "run `k8saudit ingest LOGS...`",
    )


def _file_outcome(entry: FileEntry) -> str:
    reasons = sorted(entry.skip_reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    skipped = f"{entry.skipped:,} skipped" + (f" ({reasons[0][0]})" if reasons else "")
    return (
        f"{entry.path} ({entry.format}): {entry.records:,} records, {skipped}, "
        f"{entry.rejected:,} rejected"
    )


def _count(con: Connection, values: Mapping[str, Any], memo: dict[str, Any]) -> int:
    requests: int = read_internal(con, "_match_count", memo, values).item(0, "requests")
    return requests
