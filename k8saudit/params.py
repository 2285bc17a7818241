"""The declared parameter types of the query library, and how each reads a value.

A query header declares ``-- param: NAME TYPE [= DEFAULT] [IN (choices)]``; this module is what
the types mean, so that every surface (a ``Dataset`` method, ``k8saudit query -p k=v``, a CLI
option) reads a value the same way: ``"5"`` is the integer 5, ``"1h30m"`` a duration, ``"30m"``
as a time counts back from the end of the data, ``"client,user"`` a grouping of two whitelisted
names. Converted values are bound as DuckDB parameters, never formatted into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from k8saudit.durations import EXAMPLES, parse_duration
from k8saudit.exceptions import UsageError

#: SQL types bound as they are (DATE, VARCHAR[] and STRUCT for the internal ingest SQL), and the
#: two the surfaces give a meaning of their own: DURATION (text like ``1h30m``, bound as an
#: INTERVAL) and GROUPING (``client,verb``: up to MAX_GROUPING names of the declared choices, a
#: VARCHAR[] list)
TYPES = frozenset(
    {"VARCHAR", "INTEGER", "BIGINT", "DOUBLE", "BOOLEAN", "TIMESTAMPTZ", "DATE", "VARCHAR[]"}
    | {"STRUCT", "DURATION", "GROUPING"}
)
#: how many names a GROUPING value may combine with commas
MAX_GROUPING = 3
#: the short headings tables show for result columns; a choice may be given as its heading
#: (``--sort req/s`` is ``--sort req_per_s``), so what a table shows is what a user can type
HEADINGS = {
    "requests": "reqs",
    "req_per_s": "req/s",
    "request_share": "req%",
    "time_share": "time%",
    "throttled": "429s",
    "throttled_share": "429%",
    "throttled_request_share": "429/req%",
    "error_5xx_share": "5xx%",
    "peak_per_minute": "peak/min",
    "interval_start": "interval",
    "errors_4xx": "4xx",
    "error_4xx_share": "4xx%",
    "errors_5xx": "5xx",
    "top_error_code": "top code",
    "watches_per_min": "/min",
    "cluster_wide": "cluster",
    "lists_per_watch": "list/watch",
    "minutes": "mins",
    "peak_open": "peak",
    "restarts_per_hour": "/hour",
    "selector_scoped": "selector",
    "median_duration_s": "median s",
    "open_watches": "open",
    "period_s": "period",
    "jitter_s": "jitter",
    "cost_class": "cost",
    "projected_req_per_s": "req/s at N",
    "projected_seats": "seats at N",
    "over_limit": "over",
    "change_req_per_s": "Δreq/s",
    "before_req_per_s": "before/s",
    "after_req_per_s": "after/s",
    "change_throttled_share": "Δ429%",
    "before_throttled_share": "before 429%",
    "after_throttled_share": "after 429%",
}
#: other names of a choice: the request table's column a grouping is named after
ALIASES = {"username": "user"}


@dataclass(frozen=True)
class Param:
    """One declared parameter of a query file.

    ``computed_from`` names the ``queries/_NAME.sql`` whose one-row result supplies the value
    (``-- param: audit_from TIMESTAMPTZ FROM _audit_span``): the library sets it, no user does.
    """

    name: str
    type: str
    default: Any
    description: str
    choices: tuple[str, ...] = ()
    line: int = 0
    computed_from: str | None = None

    @property
    def option(self) -> str:
        """The command-line spelling, used in messages: ``--since``.

        >>> Param("every", "DURATION", "1m", "interval").option
        '--every'
        """
        return "--" + self.name.replace("_", "-")


def convert(param: Param, value: Any, end: datetime | None = None) -> Any:
    """``value`` as ``param`` binds it; strings are read by the declared type.

    ``end`` is the end of the data, from which a TIMESTAMPTZ given as a duration counts back.
    A ``limit`` of 0 means no limit.

    >>> convert(Param("limit", "INTEGER", None, "rows"), "5")
    5
    >>> convert(Param("by", "GROUPING", "client", "", ("client", "verb")), "verb, client")
    ['verb', 'client']
    """
    if value is None:
        return None
    if param.type == "GROUPING":
        return _grouping(param, value)
    if param.type == "TIMESTAMPTZ":
        return parse_time(value, end, param.option)
    if param.type == "DURATION":
        return _duration(param, value)
    if isinstance(value, str):
        value = _scalar(param, value)
    if param.name == "limit" and isinstance(value, int):
        if value < 0:
            raise UsageError(f"{param.option} {value}: must be 0 (all) or more")
        value = value or None
    if param.choices and value is not None and value not in param.choices:
        value = choice(param, value)
    return value


def choice(param: Param, value: str) -> str:
    """The declared choice ``value`` names: itself, its table heading, or an alias.

    >>> choice(Param("sort", "VARCHAR", None, "", ("requests", "req_per_s")), "req/s")
    'req_per_s'
    """
    if value in param.choices:
        return value
    named = [c for c in param.choices if value in (HEADINGS.get(c), c) or ALIASES.get(value) == c]
    if named:
        return named[0]
    shown = [f"{c} ({HEADINGS[c]})" if c in HEADINGS else c for c in param.choices]
    raise UsageError(
        f"{param.option} {value!r} is not allowed", hint="choose from " + ", ".join(shown)
    )


def _scalar(param: Param, text: str) -> Any:
    try:
        if param.type in ("INTEGER", "BIGINT"):
            return int(text)
        if param.type == "DOUBLE":
            return float(text)
    except ValueError:
        raise UsageError(f"{param.option}: {text!r} is not a {param.type}") from None
    if param.type == "BOOLEAN":
        return text.lower() in ("1", "true", "yes", "on")
    return text


def parse_time(
    value: str | datetime, end: datetime | None, option: str = "time"
) -> datetime | None:
    """An absolute time, or a duration counted back from ``end`` (the data's last request).

    Naive times are UTC, never the machine's zone. With no ``end`` (an empty dataset) a relative
    time is None: there is nothing to count back from.

    >>> parse_time("1h30m", datetime(2019, 2, 4, 12, 30, tzinfo=UTC))
    datetime.datetime(2019, 2, 4, 11, 0, tzinfo=datetime.timezone.utc)
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    back = parse_duration(value)
    if back is not None:
        return None if end is None else end - back
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"bad time {value!r} for {option}",
            hint=f"use RFC3339 (2019-02-04T12:00:00Z) or a duration back from the end: {EXAMPLES}",
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _duration(param: Param, value: str | timedelta) -> timedelta:
    length = value if isinstance(value, timedelta) else parse_duration(value)
    if length is None or length <= timedelta(0):
        raise UsageError(f"bad duration {value!r} for {param.option}", hint=f"use e.g. {EXAMPLES}")
    return length


def _grouping(param: Param, value: str | list[str] | tuple[str, ...]) -> list[str]:
    names = [n.strip() for n in value.split(",")] if isinstance(value, str) else list(value)
    names = [ALIASES.get(name, name) for name in names]
    choices = ", ".join(param.choices)
    for name in names:
        if name not in param.choices:
            raise UsageError(
                f"{param.option} {name!r} is not a grouping", hint=f"choose from {choices}"
            )
    if len(names) > MAX_GROUPING:
        raise UsageError(f"{param.option} {','.join(names)!r}: at most {MAX_GROUPING} names")
    return names
