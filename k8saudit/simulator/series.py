"""What one client sends, as plain data: the unit every other simulator module works on.

A *series* is one source repeating one request (a datadog agent on one node listing services, a
kubelet renewing its lease). Its identity, URI and object reference never change, so everything
JSON about it is rendered once per series, not once per event. A *family* is a group of series
sharing one schedule (periodic, Poisson or watch chains), which lets arrivals be drawn as arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MUTATING_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


@dataclass(frozen=True)
class Identity:
    """Who sends a request: the authenticated user, its agent and its address."""

    username: str
    groups: tuple[str, ...]
    user_agent: str
    source_ip: str
    uid: str = ""
    extra: tuple[tuple[str, str], ...] = ()
    authz_reason: str = ""
    apf_priority_level: str = "workload-low"
    apf_flow_schema: str = "service-accounts"

    @property
    def exempt_from_inflight_limit(self) -> bool:
        """``system:masters`` requests are never rejected by the max-inflight filter."""
        return "system:masters" in self.groups


@dataclass(frozen=True)
class Target:
    """What a request asks for: verb, URI and the audit objectRef fields."""

    verb: str
    uri: str
    resource: str
    api_version: str = "v1"
    api_group: str = ""
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    objects: int = 1
    from_cache: bool = False

    @property
    def is_mutating(self) -> bool:
        return self.verb in MUTATING_VERBS

    @property
    def scope(self) -> str:
        if self.name:
            return "object"
        return "namespace" if self.namespace else "cluster"


@dataclass(frozen=True)
class Series:
    """One source repeating one request; ``denied`` series are answered 403."""

    client: str
    identity: Identity
    target: Target
    denied: bool = False


@dataclass(frozen=True)
class Periodic:
    """Every ``period_s`` seconds per series, each tick displaced by up to ``jitter_s``."""

    period_s: float
    jitter_s: float


@dataclass(frozen=True)
class Poisson:
    """Independent requests at ``rate_per_s`` per series (one value per series)."""

    rate_per_s: tuple[float, ...]


@dataclass(frozen=True)
class WatchChain:
    """Back-to-back watches of ``min_s``..``max_s`` seconds (client-go's random timeout).

    When ``relist`` is set, every reconnect first sends that series' LIST (an informer relist);
    ``storm_at_s`` breaks every watch of the family at those instants (all clients reconnect
    within ``storm_spread_s``).
    """

    min_s: float
    max_s: float
    relist: tuple[int, ...] = ()
    storm_at_s: tuple[float, ...] = ()
    storm_spread_s: float = 2.0


Schedule = Periodic | Poisson | WatchChain


@dataclass(frozen=True)
class Family:
    """Series that share a schedule; ``poller`` marks a planted periodic pattern."""

    series: tuple[int, ...]
    schedule: Schedule
    poller: bool = False


@dataclass
class Workload:
    """Everything a scenario plants: the series table and the families that drive it."""

    series: list[Series] = field(default_factory=list)
    families: list[Family] = field(default_factory=list)

    def add(self, series: list[Series], schedule: Schedule, *, poller: bool = False) -> list[int]:
        """Append ``series`` driven by ``schedule``; returns their indices."""
        first = len(self.series)
        self.series.extend(series)
        indices = tuple(range(first, first + len(series)))
        if series:
            self.families.append(Family(indices, schedule, poller))
        return list(indices)

    def add_passive(self, series: list[Series]) -> list[int]:
        """Append series that only run when another family triggers them (relists)."""
        first = len(self.series)
        self.series.extend(series)
        return list(range(first, first + len(series)))
