"""``diagnose``: who is overloading the API server, in plain words, ranked by load.

SQL computes every number (``pollers``, ``inflight_peaks``); this module only turns their rows
into findings — the client, what it does, the evidence, the known remedy — which is what SQL
cannot say: sentences, and a match against the documented table of well-known offenders
(``k8saudit.offenders``). A finding comes only from a row the analyses return above the
threshold: it never names a client the numbers do not show.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from k8saudit.dataset import Dataset
from k8saudit.dataset import open as open_dataset
from k8saudit.offenders import CLASS_REMEDIES, SEATS_REMEDY, known_offender
from k8saudit.rows import Rows, as_rows

if TYPE_CHECKING:
    import polars as pl

#: a series is named when it takes at least this share of requests or of API-server time
DEFAULT_MIN_SHARE = 0.05
#: watches of a few objects cost the API server little to serve: their restarts are the
#: business of ``watches``, not findings
CHEAP_CLASSES = frozenset({"selector-scoped WATCH", "namespaced WATCH"})


@dataclass(frozen=True)
class Finding:
    """One thing the logs show is wrong, with its evidence and remedy."""

    rank: int
    client: str  # the client, or the apiserver whose seats ran out
    what: str  # what it does: the operation it repeats, or "readonly seats full"
    evidence: str  # the numbers, in words
    remedy: str
    known_as: str | None = None  # the well-known offender it is (offenders.KNOWN_OFFENDERS)
    load: float = 0.0  # its larger share of requests or of API-server time (0..1)


@dataclass
class Diagnosis:
    """The findings of ``diagnose``, most load first, and the window they cover."""

    findings: list[Finding] = field(default_factory=list)
    window_start: datetime | None = None
    window_end: datetime | None = None
    min_share: float = DEFAULT_MIN_SHARE
    overloaded: bool = False  # requests got 429, or an apiserver's seats ran out
    heaviest: str | None = None  # when not overloaded: the series with the most load, in words

    @property
    def summary(self) -> str:
        """One line: how many findings, or that there is none and why.

        >>> Diagnosis().summary
        'no offender: the API server was not overloaded (no 429s, no seat ran out)'
        """
        if not self.findings and not self.overloaded:
            heaviest = f"; the heaviest series: {self.heaviest}" if self.heaviest else ""
            calm = "no offender: the API server was not overloaded (no 429s, no seat ran out)"
            return calm + heaviest
        if not self.findings:
            return (
                f"no offender: no series above {self.min_share:.0%} of requests or API-server "
                "time, no seat ran out"
            )
        plural = "s" if len(self.findings) > 1 else ""
        return f"{len(self.findings)} finding{plural}, most load first"

    def to_text(self, width: int = 96) -> str:
        """The findings as plain text for a terminal, wrapped at ``width`` (strings from logs
        are the caller's to escape: ``render.escape_text``).

        >>> print(Diagnosis([Finding(1, "c", "LIST x", "1 req/s", "stop")]).to_text(), end="")
        1 finding, most load first
        <BLANKLINE>
        1. c: LIST x
           1 req/s
           remedy: stop
        """
        lines = textwrap.wrap(self.summary, width)
        for f in self.findings:
            known = f" ({f.known_as})" if f.known_as else ""
            lines += ["", *textwrap.wrap(f"{f.rank}. {f.client}: {f.what}{known}", width,
                                         subsequent_indent="   ")]  # fmt: skip
            for text in (f.evidence, f"remedy: {f.remedy}"):
                lines += textwrap.wrap(text, width, initial_indent="   ", subsequent_indent="   ")
        return "\n".join(lines) + "\n"

    def to_rows(self) -> list[dict[str, Any]]:
        """The findings as plain dicts (``--format json``)."""
        return [asdict(f) for f in self.findings]

    def to_markdown(self) -> str:
        """The findings as a markdown list (for a postmortem).

        >>> print(Diagnosis([Finding(1, "c", "LIST x", "1 req/s", "stop")]).to_markdown())
        **1 finding, most load first**
        <BLANKLINE>
        1. **c**: LIST x. 1 req/s. *Remedy:* stop.
        <BLANKLINE>
        """
        lines = [f"**{self.summary}**", ""]
        for f in self.findings:
            known = f" ({f.known_as})" if f.known_as else ""
            lines.append(f"{f.rank}. **{_md(f.client)}**: {_md(f.what)}{known}. {_md(f.evidence)}. "
                         f"*Remedy:* {f.remedy}.")  # fmt: skip
        return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_[]<>|#" else c for c in text)


def diagnose(
    dataset: Dataset | str | os.PathLike[str] | None = None,
    *,
    min_share: float = DEFAULT_MIN_SHARE,
    **filters: Any,
) -> Diagnosis:
    """What overloads the API server: the series above ``min_share`` of requests or API-server
    time that are not expected traffic (``pollers``), then the apiservers whose max-inflight
    seats ran out (``inflight_peaks``), each with its evidence and remedy. Without 429s or
    seats running out nothing was overloaded, whatever the shares: no finding then.
    ``dataset`` is an open ``Dataset`` or where one is (default: ``$K8SAUDIT_DATASET`` or
    ./k8saudit-data);
    ``filters`` are the common filters (``since="30m"``, ``without="kube2iam"``...).

    >>> k8saudit.diagnose("k8saudit-data").findings[0].client  # doctest: +SKIP
    'datadog-agent'
    """
    if not isinstance(dataset, Dataset):
        with open_dataset(dataset) as ds:
            return diagnose(ds, min_share=min_share, **filters)
    # as plain rows: the findings are sentences, and polars would cost a command 0.2 s to import
    pollers = _rows(dataset.query_named_rows("pollers", min_share=min_share, limit=0, **filters))
    # the limits hold per apiserver: the (total) rows would be a second sweep judged by nobody
    peaks = _rows(dataset.query_named_rows("inflight_peaks", totals=False, **filters))
    result = Diagnosis(min_share=min_share)
    if peaks:
        result.window_start, result.window_end = peaks[0]["window_start"], peaks[0]["window_end"]
    offenders = [r for r in pollers if not r["expected"] and r["cost_class"] not in CHEAP_CLASSES]
    offenders.sort(key=lambda r: -max(r["request_share"], r["time_share"]))
    # a share of a small total is no load: without 429s or seats running out, nobody overloads
    result.overloaded = any((r["throttled"] or 0) > 0 or (r["full_s"] or 0) > 0 for r in peaks)
    if not result.overloaded:
        if offenders:
            top = offenders[0]
            result.heaviest = (
                f"{top['client']} {top['operation']} ({top['request_share']:.0%} of requests, "
                f"{top['time_share']:.0%} of API-server time)"
            )
        return result
    for row in offenders:
        result.findings.append(_series_finding(len(result.findings) + 1, row))
    for row in peaks:
        if row["full_s"] > 0:
            result.findings.append(_seats_finding(len(result.findings) + 1, row))
    return result


def _rows(result: Rows | pl.DataFrame) -> list[dict[str, Any]]:
    """Each row of a query's result as a dict by column name."""
    rows = as_rows(result)
    return [rows.row(i, named=True) for i in range(rows.height)]


def _series_finding(rank: int, row: dict[str, Any]) -> Finding:
    if row["periodic"] and row["period_s"] is not None:
        how = f"every {row['period_s']:.1f} s ±{row['jitter_s']:.1f}"
    else:
        how = "not periodic,"
    sources = row["sources"]
    evidence = (
        f"{how} from {sources:,} source{'s' if sources != 1 else ''} "
        f"= {row['req_per_s']:,.1f} req/s ({row['source_req_per_s']:.2f} per source), "
        f"{row['request_share']:.0%} of requests, {row['time_share']:.0%} of API-server time, "
        f"{row['throttled_share']:.0%} of all 429s"
    )
    known = known_offender(row["client"], row["operation"])
    remedy = (
        known.remedy if known else CLASS_REMEDIES.get(row["cost_class"], CLASS_REMEDIES["other"])
    )
    return Finding(
        rank,
        row["client"],
        f"{row['operation']} ({row['cost_class']})",
        evidence,
        remedy,
        known.name if known else None,
        max(row["request_share"], row["time_share"]),
    )


def _seats_finding(rank: int, row: dict[str, Any]) -> Finding:
    evidence = (
        f"all {row['seat_limit']:,} {row['kind']} seats taken for {row['full_s']:.1f} s "
        f"({row['full_share']:.1%} of the window), {row['throttled']:,} requests got 429; at the "
        f"peak {row['top_holders']} held them"
    )
    return Finding(rank, row["apiserver"], f"{row['kind']} seats ran out", evidence, SEATS_REMEDY,
                   load=row["full_share"])  # fmt: skip
