"""``rbac``: the least-privilege RBAC objects that allow what a subject was seen doing, as YAML.

SQL works out every fact (``queries/rbac_rules.sql``: the verbs per API group and resource,
namespaced or cluster-wide, the objects' names where few, impersonation; and
``queries/_rbac_denied.sql``: what was denied); this module only turns those rows into
Kubernetes objects — a ClusterRole and its ClusterRoleBinding, a Role and RoleBinding per
namespace — and writes them as YAML, which SQL cannot. The names in the rows come from logs:
they are written as YAML strings by the dumper, and escaped where they appear in comments.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from k8saudit.analyses import read_internal
from k8saudit.dataset import Dataset
from k8saudit.dataset import open as open_dataset
from k8saudit.tables import escape_text

if TYPE_CHECKING:
    import polars as pl

RBAC_API = "rbac.authorization.k8s.io"
#: how the rules query joins the items of a list (names never contain it)
SEPARATOR = ", "
_SERVICE_ACCOUNT = re.compile(r"^system:serviceaccount:([^:]+):([^:]+)$")


@dataclass
class Policy:
    """The rules ``subject`` needs (``rbac_rules`` rows) and what it was denied."""

    subject: str
    rules: pl.DataFrame
    denied: pl.DataFrame

    @property
    def role_name(self) -> str:
        """The name of the generated roles and bindings.

        >>> Policy("system:serviceaccount:ns1:sa1", None, None).role_name
        'k8saudit:system:serviceaccount:ns1:sa1'
        """
        return "k8saudit:" + re.sub(r"[/%]", "-", self.subject)

    def subject_ref(self) -> dict[str, str]:
        """The binding's subject: a ServiceAccount for ``system:serviceaccount:NS:NAME``,
        else a User.

        >>> Policy("bob", None, None).subject_ref()
        {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'User', 'name': 'bob'}
        """
        account = _SERVICE_ACCOUNT.match(self.subject)
        if account:
            return {"kind": "ServiceAccount", "name": account[2], "namespace": account[1]}
        return {"apiGroup": RBAC_API, "kind": "User", "name": self.subject}

    def objects(self) -> list[dict[str, Any]]:
        """The ClusterRole and ClusterRoleBinding (when a rule is cluster-wide), then a Role
        and RoleBinding per namespace, as Kubernetes objects."""
        scopes: dict[str | None, list[dict[str, Any]]] = {}
        for row in self.rules.iter_rows(named=True):
            scopes.setdefault(row["namespace"], []).append(_rule(row))
        objects = []
        for namespace, rules in sorted(scopes.items(), key=lambda kv: (kv[0] is not None, kv[0])):
            kind = "ClusterRole" if namespace is None else "Role"
            metadata = {"name": self.role_name}
            if namespace is not None:
                metadata["namespace"] = namespace
            objects.append({"apiVersion": f"{RBAC_API}/v1", "kind": kind, "metadata": metadata,
                            "rules": rules})  # fmt: skip
            objects.append({
                "apiVersion": f"{RBAC_API}/v1", "kind": f"{kind}Binding", "metadata": metadata,
                "roleRef": {"apiGroup": RBAC_API, "kind": kind, "name": self.role_name},
                "subjects": [self.subject_ref()],
            })  # fmt: skip
        return objects

    def to_yaml(self) -> str:
        """The objects as one YAML stream, under comments that say what they stand for and
        list what was denied.

        >>> print(k8saudit.rbac("k8saudit-data", "bob").to_yaml())  # doctest: +SKIP
        """
        import yaml

        requests = int(self.rules["requests"].sum()) if self.rules.height else 0
        lines = [f"# least-privilege RBAC for {escape_text(self.subject)}: what it was seen doing"]
        lines.append(f"# ({requests:,} requests; queries/rbac_rules.sql)")
        if self.denied.height:
            lines.append("# denied (401/403), allowed by the rules below since it was asked for:")
        for row in self.denied.iter_rows(named=True):
            where = "/".join(p for p in (row["namespace"], row["name"]) if p) or "cluster-wide"
            text = f"{row['verb']} {row['resource']} {where}: {row['requests']:,}"
            lines.append("#   " + escape_text(text))
        head = "\n".join(lines) + "\n"
        if not self.rules.height:
            return head + "# no request: no rule\n"
        return head + yaml.safe_dump_all(self.objects(), sort_keys=False, explicit_start=True)


def _rule(row: dict[str, Any]) -> dict[str, Any]:
    def items(name: str) -> list[str]:
        return row[name].split(SEPARATOR)

    if row["non_resource_urls"] is not None:
        return {"nonResourceURLs": items("non_resource_urls"), "verbs": items("verbs")}
    rule: dict[str, Any] = {"apiGroups": [row["api_group"]], "resources": items("resources")}
    if row["resource_names"] is not None:
        rule["resourceNames"] = items("resource_names")
    rule["verbs"] = items("verbs")
    return rule


def rbac(
    dataset: Dataset | str | os.PathLike[str] | None = None,
    subject: str | None = None,
    **params: Any,
) -> Policy:
    """The least-privilege RBAC policy of ``subject`` (a user, or
    ``system:serviceaccount:NAMESPACE:NAME``) from what it was seen doing. ``dataset`` is an
    open ``Dataset`` or where one is; ``params`` are ``max_names`` and the common filters
    (``since="2h"``, ``namespace="prod"``...).

    >>> k8saudit.rbac("k8saudit-data", "bob").to_yaml()  # doctest: +SKIP
    """
    if not isinstance(dataset, Dataset):
        with open_dataset(dataset) as ds:
            return rbac(ds, subject, **params)
    rules = dataset.query("rbac_rules", subject=subject, **params)
    filters = {k: v for k, v in params.items() if k != "max_names"}
    denied = read_internal(dataset, "_rbac_denied", {}, {"subject": subject, **filters})
    assert subject is not None  # the rules query refuses a missing subject
    return Policy(subject, rules, denied)
