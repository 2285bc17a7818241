"""The constant parts of each series' log lines, rendered once per series.

A series' user, source, agent and objectRef never change between its requests, so their JSON (for
the audit log) and klog key/values (for the access log) are rendered here, once, and the line
builders only splice per-request values (audit ID, times, status) between these fragments. JSON is
encoded as Go's encoding/json does: struct field order, sorted map keys, and ``&``, ``<``, ``>``
escaped as ``\\u0026``, ``\\u003c``, ``\\u003e`` (real kube-apiserver audit logs show ``\\u0026`` in
request URIs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .series import Identity, Series, Target

ACCESS_VERBS = {
    "get": "GET",
    "list": "LIST",
    "watch": "WATCH",
    "create": "POST",
    "update": "PUT",
    "patch": "PATCH",
    "delete": "DELETE",
}


def go_json(value: object) -> str:
    """``value`` encoded like Go's ``json.Marshal``: compact, HTML characters escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _object_ref(t: Target) -> dict[str, str]:
    ref = {"resource": t.resource, "namespace": t.namespace, "name": t.name}
    ref |= {"apiGroup": t.api_group, "apiVersion": t.api_version, "subresource": t.subresource}
    return {k: v for k, v in ref.items() if v}


def _forbidden_status(s: Series) -> str:
    t = s.target
    where = f'in the namespace "{t.namespace}"' if t.namespace else "at the cluster scope"
    message = (
        f'{t.resource} "{t.name}" is forbidden: ' if t.name else f"{t.resource} is forbidden: "
    ) + (
        f'User "{s.identity.username}" cannot {t.verb} resource "{t.resource}" in API group '
        f'"{t.api_group}" {where}'
    )
    details = {"name": t.name, "kind": t.resource} if t.name else {"kind": t.resource}
    status = {"metadata": {}, "status": "Failure", "message": message, "reason": "Forbidden"}
    return go_json(status | {"details": details, "code": 403})


@dataclass(frozen=True)
class AuditFragments:
    """Per-series audit JSON pieces (lists aligned with the series table)."""

    uri_head: list[str]  # requestURI up to the per-request watch parameters
    middle: list[str]  # from the end of requestURI to the end of objectRef
    annotations: list[str]  # ',"annotations":{…}'
    forbidden: list[str]  # ',"responseStatus":{…403…}' ('' unless the series is denied)


def _identity_json(ident: Identity) -> str:
    """``,"user":{…},"sourceIPs":[…],"userAgent":"…"`` of one identity."""
    user: dict[str, object] = {"username": ident.username}
    if ident.uid:
        user["uid"] = ident.uid
    user["groups"] = list(ident.groups)
    if ident.extra:
        user["extra"] = {k: [v] for k, v in sorted(ident.extra)}
    return (
        ',"user":'
        + go_json(user)
        + ',"sourceIPs":'
        + go_json([ident.source_ip])
        + ',"userAgent":'
        + go_json(ident.user_agent)
    )


def audit_fragments(series: list[Series]) -> AuditFragments:
    """Render the constant audit-event pieces of every series (identities rendered once)."""
    identities: dict[Identity, str] = {}
    heads, middles, annotations, forbidden = [], [], [], []
    for s in series:
        ident = s.identity
        if ident not in identities:
            identities[ident] = _identity_json(ident)
        heads.append(go_json(s.target.uri)[1:-1])
        middles.append(
            '","verb":"'
            + s.target.verb
            + '"'
            + identities[ident]
            + ',"objectRef":'
            + go_json(_object_ref(s.target))
        )
        decision = "forbid" if s.denied else "allow"
        reason = "" if s.denied else ident.authz_reason
        annotations.append(
            ',"annotations":{"authorization.k8s.io/decision":"'
            + decision
            + '","authorization.k8s.io/reason":'
            + go_json(reason)
            + "}"
        )
        forbidden.append(',"responseStatus":' + _forbidden_status(s) if s.denied else "")
    return AuditFragments(heads, middles, annotations, forbidden)


STATUS_FRAGMENTS = {
    200: ',"responseStatus":{"metadata":{},"code":200}',
    201: ',"responseStatus":{"metadata":{},"code":201}',
    # WithMaxInFlightLimit answers with http.Error, so no Status object reaches the audit log
    429: ',"responseStatus":{"metadata":{},"code":429}',
    500: ',"responseStatus":'
    + go_json(
        {
            "metadata": {},
            "status": "Failure",
            "message": "Internal error occurred: etcdserver: request timed out",
            "reason": "InternalError",
            "details": {"causes": [{"message": "etcdserver: request timed out"}]},
            "code": 500,
        }
    ),
    504: ',"responseStatus":'
    + go_json(
        {
            "metadata": {},
            "status": "Failure",
            "message": "Timeout: request did not complete within requested timeout 1m0s",
            "reason": "Timeout",
            "details": {},
            "code": 504,
        }
    ),
}


@dataclass(frozen=True)
class AccessFragments:
    """Per-series access-log pieces (lists aligned with the series table)."""

    head: list[str]  # 'verb="LIST" URI="/api/v1/…' up to the per-request watch parameters
    identity: list[str]  # '" userAgent="…" audit-ID="'
    source: list[str]  # '" srcIP="10.0.3.4:45678"'
    apf: list[str]  # ' apf_pl="…" apf_fs="…" apf_iseats=1 apf_fseats=0 …apf_execution_time="'


def access_fragments(series: list[Series], ports: list[int]) -> AccessFragments:
    """Render the constant httplog key/values of every series (klog quotes strings)."""
    heads, identities, sources, apfs = [], [], [], []
    for s, port in zip(series, ports, strict=True):
        verb = ACCESS_VERBS[s.target.verb]
        if s.target.verb == "list" or (s.target.verb == "get" and not s.target.name):
            verb = "LIST"
        heads.append(f'verb="{verb}" URI={json.dumps(s.target.uri)[:-1]}')
        identities.append(f'" userAgent={json.dumps(s.identity.user_agent)} audit-ID="')
        sources.append(f'" srcIP="{s.identity.source_ip}:{port}"')
        seats = min(10, max(1, -(-s.target.objects // 100))) if s.target.verb == "list" else 1
        apfs.append(
            f' apf_pl="{s.identity.apf_priority_level}" apf_fs="{s.identity.apf_flow_schema}"'
            f' apf_iseats={seats} apf_fseats=0 apf_additionalLatency="0s" apf_execution_time="'
        )
    return AccessFragments(heads, identities, sources, apfs)
