"""``k8saudit.detect``: Sigma rules for the Kubernetes audit log, run offline over the dataset.

Security teams write their detections as Sigma rules (logsource product ``kubernetes``, service
``audit``: SigmaHQ ships a set); SIEMs run them on a live stream. ``detect(rules_dir)`` runs them
over the ``requests`` view of a dataset, after the fact: pySigma reads each rule and resolves its
condition (selections, ``1 of``, modifiers such as ``|contains``) into a tree of field/value
tests; this module turns that tree into one DuckDB ``WHERE`` clause with every value a bound
parameter, through ``FIELDS``, the mapping of the audit event's field names onto the columns.

Why not a pySigma backend: the SQL-capable ones on PyPI (``pysigma-backend-sqlite`` 2.1,
``pysigma-backend-duckdb`` 0.1.4, which also needs pySigma < 2) write every value into the SQL
text as a quoted literal, and rule files are input like any other: values here are bound.

A rule that cannot run is never dropped: it is listed (``Detection.skipped``) with the reason —
another logsource, a field the dataset lacks (a body field when bodies were not kept:
``ingest --keep-bodies``), a modifier or value type this mapping does not support, a value that
can never match the field (``responseStatus.code: 'ALLOW'``), a rule pySigma cannot read.
Rules that test body fields run when any file of the dataset was ingested with its bodies;
requests without a body match no such test. Matching follows Sigma: strings case-insensitive
(``|cased``: exact), ``*`` and ``?`` wildcards, a missing value matches nothing (and ``not`` of
it matches).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k8saudit.dataset import Dataset
from k8saudit.dataset import open as open_dataset
from k8saudit.exceptions import InputError, UsageError

if TYPE_CHECKING:
    import polars as pl

#: Sigma rule levels, most severe first (hits are sorted so)
LEVELS = ("critical", "high", "medium", "low", "informational")


class Kind(Enum):
    """What a column holds, which says how a Sigma value is compared with it."""

    TEXT = "text"
    NUMBER = "number"
    LIST = "list"  # a list of text: a value matches when one element does


@dataclass(frozen=True)
class Column:
    """The SQL expression (over the ``requests`` view) that gives a Sigma field's value."""

    sql: str
    kind: Kind = Kind.TEXT
    body: bool = False  # read from a kept body: runs only where bodies were kept


def _body(*paths: str) -> Column:
    """A field inside the request body: every value at one of the JSON ``paths``, as a list."""
    lists = [f"coalesce(json_extract_string(request_object, '{p}'), [])" for p in paths]
    return Column("list_concat(" + ", ".join(lists) + ")", Kind.LIST, body=True)


#: Sigma field (the audit Event's name) -> column. ``apiGroup`` is how some SigmaHQ rules write
#: ``objectRef.apiGroup``; ``sourceIPs`` is the first address (the one the dataset keeps);
#: ``hostPath`` and ``capabilities`` are SigmaHQ's names for parts of a pod's request body.
#: Any ``requestObject.a.b`` / ``responseObject.a.b`` is the JSON path ``$.a.b`` of that body.
FIELDS: dict[str, Column] = {
    "auditID": Column("audit_id"),
    "stage": Column("stage"),
    "level": Column('"level"'),
    "verb": Column("verb"),
    "requestURI": Column("request_uri"),
    "userAgent": Column("user_agent"),
    "user.username": Column("username"),
    "user.groups": Column("user_groups", Kind.LIST),
    "impersonatedUser.username": Column("impersonated_user"),
    "sourceIPs": Column("source_ip"),
    "objectRef.resource": Column("resource"),
    "objectRef.subresource": Column("subresource"),
    "objectRef.namespace": Column("namespace"),
    "objectRef.name": Column('"name"'),
    "objectRef.apiGroup": Column("api_group"),
    "objectRef.apiVersion": Column("api_version"),
    "apiGroup": Column("api_group"),
    "responseStatus.code": Column("code", Kind.NUMBER),
    "responseStatus.reason": Column("reason"),
    "annotations.authorization.k8s.io/decision": Column("decision"),
    "hostPath": _body(
        "$.spec.volumes[*].hostPath.path", "$.spec.template.spec.volumes[*].hostPath.path"
    ),
    "capabilities": _body(
        *(
            f"$.spec.{kind}[*].securityContext.capabilities.add[*]"
            for kind in ("containers", "initContainers", "ephemeralContainers")
        )
    ),
}
_BODY_PATH = re.compile(r"^(requestObject|responseObject)\.([A-Za-z0-9_.\-/]+)$")

#: the columns a hit shows of its request
HIT_COLUMNS = (
    "audit_id", "received_at", "verb", "resource", "subresource", "namespace", "name", "username",
    "user_agent", "source_ip", "code", "source_file", "source_line",
)  # fmt: skip


#: the columns of ``Detection.table``
TABLE_COLUMNS = (
    "level", "rule", "received_at", "verb", "resource", "namespace", "name", "username",
    "audit_id",
)  # fmt: skip


class NotRunnable(Exception):
    """Why a rule cannot run over this dataset."""


@dataclass(frozen=True)
class CompiledRule:
    """A rule turned into SQL: its ``WHERE`` clause over ``requests`` and the bound values."""

    file: str
    title: str
    rule_id: str | None
    level: str
    where: str
    params: dict[str, Any]


@dataclass(frozen=True)
class SkippedRule:
    """A rule that does not run, and why."""

    file: str
    title: str
    reason: str


@dataclass
class Detection:
    """What ``detect`` found: the hits (one row per rule and request), the rules that ran and
    those that could not, each with its reason."""

    hits: pl.DataFrame
    ran: list[CompiledRule] = field(default_factory=list)
    skipped: list[SkippedRule] = field(default_factory=list)

    def table(self) -> pl.DataFrame:
        """The hits with the columns a person reads first (``hits`` has them all)."""
        return self.hits.select(TABLE_COLUMNS)

    def skipped_frame(self) -> pl.DataFrame:
        """The rules not run as rows: file, title, reason."""
        import polars as pl

        schema = {"file": pl.String, "title": pl.String, "reason": pl.String}
        rows = [(s.file, s.title, s.reason) for s in self.skipped]
        return pl.DataFrame(rows, schema=schema, orient="row")


def detect(
    rules: str | os.PathLike[str], dataset: Dataset | str | os.PathLike[str] | None = None
) -> Detection:
    """Run every Sigma rule under ``rules`` (a directory, searched for ``*.yml``/``*.yaml``, or
    one file) over the dataset; hits name the rule, its level and the request.

    >>> found = k8saudit.detect("sigma/rules/application/kubernetes")  # doctest: +SKIP
    >>> found.hits.select("rule", "level", "audit_id").row(0)  # doctest: +SKIP
    ('Kubernetes Secrets Enumeration', 'low', '4d7f2c1e-...')
    >>> [(s.title, s.reason) for s in found.skipped][:1]  # doctest: +SKIP
    [('Kubernetes Admission Controller Modification', 'logsource product gcp, ...')]
    """
    if not isinstance(dataset, Dataset):
        with open_dataset(dataset) as ds:
            return detect(rules, ds)
    import polars as pl

    bodies = any(f.bodies for f in dataset.manifest.files)
    result = Detection(hits=pl.DataFrame())
    frames = []
    for path, display in _rule_files(Path(rules)):
        for compiled in _compile_file(path, display, bodies, result.skipped):
            result.ran.append(compiled)
            frames.append(_run(dataset, compiled))
    columns = ["rule", "level", "rule_id", "rule_file", *HIT_COLUMNS]
    if frames:
        hits = pl.concat(frames, how="vertical_relaxed")
        rank = {level: n for n, level in enumerate(LEVELS)}
        hits = hits.with_columns(
            pl.col("level").replace_strict(rank, default=len(LEVELS)).alias("_rank")
        ).sort(["_rank", "received_at", "rule", "audit_id"], nulls_last=True)
        result.hits = hits.drop("_rank").select(columns)
    else:
        result.hits = pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    return result


def _rule_files(root: Path) -> Iterator[tuple[Path, str]]:
    if root.is_file():
        yield root, str(root)
        return
    if not root.is_dir():
        raise InputError(f"{root}: no such directory of Sigma rules")
    found = sorted(p for p in root.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
    if not found:
        raise InputError(f"{root}: no Sigma rule (*.yml, *.yaml) in it")
    for path in found:
        yield path, str(path)


def _compile_file(
    path: Path, display: str, bodies: bool, skipped: list[SkippedRule]
) -> Iterator[CompiledRule]:
    """The rules of one file that can run; those that cannot go to ``skipped``."""
    try:
        from sigma.collection import SigmaCollection
        from sigma.exceptions import SigmaError
        from sigma.rule import SigmaRule
    except ImportError:
        raise UsageError("detect needs pySigma", hint="pip install 'k8saudit[detect]'") from None
    try:
        collection = SigmaCollection.from_yaml(
            path.read_text(errors="replace"), collect_errors=True
        )
    except Exception as exc:  # YAML, pySigma or a shape neither expects: listed, not a traceback
        skipped.append(SkippedRule(display, path.stem, f"not a Sigma rule ({_first(exc)})"))
        return
    for item in collection.rules:
        title = str(getattr(item, "title", "") or path.stem)
        if not isinstance(item, SigmaRule):
            skipped.append(SkippedRule(display, title, "correlation rules are not supported"))
            continue
        if item.errors:
            skipped.append(SkippedRule(display, title, f"not readable ({_first(item.errors[0])})"))
            continue
        try:
            yield _compile_rule(item, display, bodies)
        except NotRunnable as exc:
            skipped.append(SkippedRule(display, title, str(exc)))
        except SigmaError as exc:
            skipped.append(SkippedRule(display, title, f"not readable ({_first(exc)})"))


def _first(exc: object) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _compile_rule(rule: Any, display: str, bodies: bool) -> CompiledRule:
    source = rule.logsource
    if (source.product, source.service) != ("kubernetes", "audit"):
        raise NotRunnable(
            f"logsource product {source.product}, service {source.service}: detect runs the "
            "rules of product kubernetes, service audit"
        )
    builder = _WhereBuilder(bodies)
    where = " OR ".join(f"({builder.node(c.parsed)})" for c in rule.detection.parsed_condition)
    level = rule.level.name.lower() if rule.level is not None else "informational"
    rule_id = str(rule.id) if rule.id is not None else None
    return CompiledRule(display, str(rule.title), rule_id, level, where, builder.params)


class _WhereBuilder:
    """A pySigma condition tree -> SQL over ``requests``; every value a parameter ``$vN``.
    Every leaf is TRUE or FALSE, never NULL, so that ``not`` means what Sigma means."""

    def __init__(self, bodies: bool) -> None:
        self.bodies = bodies
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"v{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def node(self, node: Any) -> str:
        from sigma.conditions import (
            ConditionAND,
            ConditionFieldEqualsValueExpression,
            ConditionNOT,
            ConditionOR,
            ConditionValueExpression,
        )

        if isinstance(node, ConditionAND | ConditionOR):
            joiner = " AND " if isinstance(node, ConditionAND) else " OR "
            return "(" + joiner.join(self.node(arg) for arg in node.args) + ")"
        if isinstance(node, ConditionNOT):
            return f"(NOT {self.node(node.args[0])})"
        if isinstance(node, ConditionFieldEqualsValueExpression):
            return self.test(node.field, node.value)
        if isinstance(node, ConditionValueExpression):
            raise NotRunnable("keyword searches (values without a field) are not supported")
        raise NotRunnable(f"condition {type(node).__name__} is not supported")

    def column(self, name: str) -> Column:
        column = FIELDS.get(name)
        match = _BODY_PATH.match(name)
        if column is None and match:
            body = "request_object" if match[1] == "requestObject" else "response_object"
            path = self.bind("$." + match[2])
            column = Column(f"json_extract_string({body}, {path})", body=True)
        if column is None:
            raise NotRunnable(f"field {name!r} is not in the request table (see detection.FIELDS)")
        if column.body and not self.bodies:
            raise NotRunnable(
                f"field {name!r} is in the request body, which this dataset does not keep "
                "(ingest with --keep-bodies)"
            )
        return column

    def test(self, name: str, value: Any) -> str:
        from sigma.types import (
            SigmaBool,
            SigmaCompareExpression,
            SigmaExists,
            SigmaExpansion,
            SigmaNull,
            SigmaNumber,
            SigmaRegularExpression,
            SigmaString,
        )

        column = self.column(name)
        if isinstance(value, SigmaExpansion):
            return "(" + " OR ".join(self.test(name, v) for v in value.values) + ")"
        if isinstance(value, SigmaExists):
            present = self._match(column, "x IS NOT NULL")
            return present if value.exists else f"(NOT {present})"
        if isinstance(value, SigmaNull):
            if column.kind is Kind.LIST:
                return f"coalesce(len({column.sql}) = 0, true)"
            return f"({column.sql} IS NULL)"
        if isinstance(value, SigmaString):
            return self._string(name, column, value)
        if isinstance(value, SigmaNumber):
            if column.kind is Kind.NUMBER:
                return self._match(column, f"x = {self.bind(value.number)}")
            return self._match(column, f"x = {self.bind(str(value.number))}")
        if isinstance(value, SigmaCompareExpression):
            if column.kind is not Kind.NUMBER:
                raise NotRunnable(f"field {name!r} is not a number: |lt/|gt cannot compare it")
            operator = {"LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}[value.op.name]
            return self._match(column, f"x {operator} {self.bind(value.number.number)}")
        if isinstance(value, SigmaRegularExpression):
            flags = {"IGNORECASE": "i", "MULTILINE": "m", "DOTALL": "s"}
            options = self.bind("".join(sorted(flags[f.name] for f in value.flags)) or "c")
            text = "x" if column.kind is not Kind.NUMBER else "CAST(x AS VARCHAR)"
            pattern = self.bind(str(value.regexp))
            return self._match(column, f"regexp_matches({text}, {pattern}, {options})")
        if isinstance(value, SigmaBool):
            wanted = self.bind("true" if value.boolean else "false")
            return self._match(column, f"lower(CAST(x AS VARCHAR)) = {wanted}")
        raise NotRunnable(f"value type {type(value).__name__} (field {name!r}) is not supported")

    def _string(self, name: str, column: Column, value: Any) -> str:
        from sigma.types import SigmaCasedString, SpecialChars

        pattern = []
        for part in value.s:
            if isinstance(part, str):
                pattern.append(part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
            elif part is SpecialChars.WILDCARD_MULTI:
                pattern.append("%")
            elif part is SpecialChars.WILDCARD_SINGLE:
                pattern.append("_")
            else:
                raise NotRunnable(f"field {name!r}: Sigma placeholders (%name%) are not supported")
        like = "LIKE" if isinstance(value, SigmaCasedString) else "ILIKE"
        plain = not value.contains_special()
        if column.kind is Kind.NUMBER:
            text = str(value)
            if plain and not text.strip().lstrip("-").isdigit():
                raise NotRunnable(
                    f"field {name!r} holds numbers (HTTP status codes): {text!r} can never match"
                )
            if plain:
                return self._match(column, f"x = {self.bind(int(text))}")
            return self._match(
                column, f"CAST(x AS VARCHAR) {like} {self.bind(''.join(pattern))} ESCAPE '\\'"
            )
        return self._match(column, f"x {like} {self.bind(''.join(pattern))} ESCAPE '\\'")

    @staticmethod
    def _match(column: Column, test: str) -> str:
        """``test`` (over ``x``) of the column's value, or of any element of a list; never NULL."""
        if column.kind is Kind.LIST:
            return f"coalesce(len(list_filter({column.sql}, lambda x: {test})) > 0, false)"
        value = re.sub(r"\bx\b", lambda _: column.sql, test)
        return f"coalesce(({value}), false)"


def _run(dataset: Dataset, rule: CompiledRule) -> pl.DataFrame:
    import polars as pl

    columns = ", ".join(f'"{c}"' for c in HIT_COLUMNS)
    query = (
        f"SELECT $rule AS rule, $level AS level, $rule_id AS rule_id, $rule_file AS rule_file, "
        f"{columns} FROM requests WHERE {rule.where}"
    )
    params = {
        **rule.params, "rule": rule.title, "level": rule.level, "rule_id": rule.rule_id,
        "rule_file": rule.file,
    }  # fmt: skip
    frame = dataset.sql(query, **params)
    return frame.with_columns(pl.col("rule_id").cast(pl.String))
