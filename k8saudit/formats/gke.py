"""GKE Cloud Audit Logs entries (``protoPayload.serviceName == "k8s.io"``) as raw event rows.

GKE does not log the kube-apiserver Event itself but a LogEntry describing it: the verb is the
last part of ``methodName`` (``io.k8s.core.v1.pods.status.patch``), the object is
``resourceName`` (``core/v1/namespaces/NS/pods/NAME/status``), the outcome a gRPC status code. It
has no request URI, no latency and no HTTP code; the HTTP code is filled only where the gRPC to
HTTP mapping is standard (a 201 is never invented) and the gRPC code is kept raw.
"""

from __future__ import annotations

from typing import Any

from k8saudit.formats.timestamps import parse_timestamp

#: google.rpc.Code -> HTTP status, where the mapping is the standard one
GRPC_TO_HTTP = {0: 200, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 13: 500, 14: 503, 16: 401}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_resource_name(resource_name: str) -> dict[str, str | None]:
    """Split a GKE ``resourceName`` into objectRef fields.

    >>> parse_resource_name("apps/v1/namespaces/ns1/deployments/web/scale")["subresource"]
    'scale'
    """
    parts = [p for p in resource_name.split("/") if p]
    out: dict[str, str | None] = dict.fromkeys(
        ("api_group", "api_version", "namespace", "resource", "name", "subresource")
    )
    if len(parts) < 3:
        return out
    out["api_group"] = None if parts[0] == "core" else parts[0]
    out["api_version"] = parts[1]
    rest = parts[2:]
    if rest[0] == "namespaces" and len(rest) >= 2:
        out["namespace"] = rest[1]
        if len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            rest = rest[2:]
    out["resource"] = rest[0]
    out["name"] = rest[1] if len(rest) > 1 else None
    out["subresource"] = rest[2] if len(rest) > 2 else None
    return out


def gke_entry_to_raw(entry: dict[str, Any]) -> dict[str, Any]:
    """Map one GKE LogEntry to a raw event row (keys of ``schema.RAW_EVENT_SCHEMA``)."""
    payload = _dict(entry.get("protoPayload"))
    operation = _dict(entry.get("operation"))
    metadata = _dict(payload.get("requestMetadata"))
    status = _dict(payload.get("status"))
    labels = _dict(entry.get("labels"))
    method = payload.get("methodName") if isinstance(payload.get("methodName"), str) else ""
    resource_name = payload.get("resourceName")
    ref = parse_resource_name(resource_name) if isinstance(resource_name, str) else {}
    grpc = status.get("code", 0 if "status" in payload else None)
    grpc_code = grpc if isinstance(grpc, int) else None
    audit_id = operation.get("id") if isinstance(operation.get("id"), str) else None
    # an operation's first entry (without `last`) is the request received; one marked last, or
    # a lone entry, is the complete request
    last = bool(operation.get("last")) or not operation.get("first")
    return {
        "audit_id": audit_id,
        "stage": "ResponseComplete" if last else "RequestReceived",
        "stage_at": None,  # GKE does not say when the response completed
        "received_at": parse_timestamp(entry.get("timestamp")),
        "verb": method.rsplit(".", 1)[-1].lower() if method else None,
        **ref,
        "username": _dict(payload.get("authenticationInfo")).get("principalEmail"),
        "user_agent": metadata.get("callerSuppliedUserAgent"),
        "source_ip": metadata.get("callerIp"),
        "code": GRPC_TO_HTTP.get(grpc_code) if grpc_code is not None else None,
        "grpc_code": grpc_code,
        "reason": status.get("message") or None,
        "decision": labels.get("authorization.k8s.io/decision"),
        "log_format": "gke-audit",
    }
