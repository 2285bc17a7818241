"""Unwrapping the envelopes audit Events travel in, down to plain Events.

Cloud providers and webhooks wrap the same kube-apiserver Event in different envelopes: EventList
documents, EKS CloudWatch exports (``message`` / ``@message`` strings, ``logEvents`` batches), AKS
diagnostic records (``records[].properties.log``, a JSON string or an object), GKE Cloud Audit Log
entries (a different shape altogether, mapped by ``formats/gke.py``). ``unwrap`` walks any JSON
value and says, for each thing inside, what it is: an Event, a GKE entry, access-log text, a known
record k8saudit has no use for (skip), or something it does not recognise (reject).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from k8saudit.formats.detect import is_audit_event

AKS_AUDIT_CATEGORIES = frozenset({"kube-audit", "kube-audit-admin"})


@dataclass(frozen=True)
class Item:
    """One thing found inside a JSON value.

    ``kind`` is ``event`` (``value`` is an audit Event dict), ``gke`` (a GKE LogEntry dict),
    ``access`` (``value`` is a line of kube-apiserver klog text), ``skip`` or ``reject``
    (``reason`` says why).
    """

    kind: str
    value: Any = None
    wrapper: str = ""
    apiserver: str | None = None
    reason: str = ""
    year: int | None = None  # for klog text: the year its envelope says it was written in


def _json_string(text: str, wrapper: str, apiserver: str | None) -> Iterator[Item]:
    try:
        value = json.loads(text)
    except ValueError:
        yield Item("reject", reason=f"{wrapper or 'message'}: embedded JSON is invalid")
        return
    yield from unwrap(value, wrapper=wrapper, apiserver=apiserver)


def unwrap(value: Any, *, wrapper: str = "", apiserver: str | None = None) -> Iterator[Item]:
    """Yield the Events (and other items) inside a decoded JSON value.

    >>> [i.kind for i in unwrap({"kind": "EventList", "items": [{"kind": "Event",
    ...     "auditID": "a", "verb": "get", "requestURI": "/api"}]})]
    ['event']
    """
    if isinstance(value, list):
        if not value:  # a record with nothing in it is still accounted for, as the engine does
            yield Item("reject", reason="not a Kubernetes audit event (an empty list)")
        for element in value:
            yield from unwrap(element, wrapper=wrapper, apiserver=apiserver)
        return
    if not isinstance(value, dict):
        yield Item("reject", reason="not a Kubernetes audit event (not a JSON object)")
        return
    if is_audit_event(value):
        yield Item("event", value, wrapper, apiserver)
        return
    if value.get("kind") == "EventList" and isinstance(value.get("items"), list):
        yield from unwrap(value["items"], wrapper=wrapper or "eventlist-", apiserver=apiserver)
        return
    if isinstance(value.get("records"), list):  # AKS / Azure diagnostic batch
        yield from unwrap(value["records"], wrapper=wrapper, apiserver=apiserver)
        return
    if isinstance(value.get("logEvents"), list):  # CloudWatch Logs subscription batch
        stream = value.get("logStream")
        for event in value["logEvents"]:
            if isinstance(event, dict) and isinstance(event.get("message"), str):
                yield from _json_or_text(event["message"], "eks-", stream)
            else:
                yield Item("reject", reason="CloudWatch logEvents entry without a message")
        return
    if "protoPayload" in value:
        payload = value.get("protoPayload")
        if isinstance(payload, dict) and payload.get("serviceName") == "k8s.io":
            yield Item("gke", value, "gke-", apiserver)
        else:
            service = payload.get("serviceName") if isinstance(payload, dict) else None
            yield Item("skip", reason=f"Cloud Audit Log entry of another service ({service})")
        return
    if "category" in value and isinstance(value.get("properties"), dict):
        yield from _aks_record(value)
        return
    if "category" in value and "operationName" in value:
        yield Item("skip", reason=f"Azure record of category {value.get('category')}")
        return
    for key in ("message", "@message"):
        if isinstance(value.get(key), str):  # CloudWatch export row / Insights result
            yield from _json_or_text(value[key], "eks-", value.get("logStreamName") or apiserver)
            return
    if isinstance(value.get("log"), str) and "stream" in value:  # docker json-file log line
        # handed over whole: the access-log reader unwraps it and takes its full timestamp
        yield Item("access", json.dumps(value), wrapper, apiserver)
        return
    yield Item("reject", reason="not a Kubernetes audit event")


def _json_or_text(text: str, wrapper: str, apiserver: str | None) -> Iterator[Item]:
    if text.lstrip().startswith("{"):
        yield from _json_string(text, wrapper, apiserver)
    else:
        yield Item("access", text.rstrip("\n"), wrapper, apiserver)


def _aks_record(record: dict[str, Any]) -> Iterator[Item]:
    properties = record["properties"]
    category = record.get("category")
    pod = properties.get("pod") if isinstance(properties.get("pod"), str) else None
    log = properties.get("log")
    if category in AKS_AUDIT_CATEGORIES:
        if isinstance(log, str):
            yield from _json_string(log, "aks-", pod)
        elif isinstance(log, dict):
            yield from unwrap(log, wrapper="aks-", apiserver=pod)
        else:
            yield Item("reject", reason=f"AKS {category} record without properties.log")
    elif category == "kube-apiserver" and isinstance(log, str):
        # klog lines carry no year: the record's own time supplies it
        stamp = record.get("time")
        year = int(stamp[:4]) if isinstance(stamp, str) and stamp[:4].isdigit() else None
        for line in log.splitlines():
            yield Item("access", line, "aks-", pod, year=year)
    else:
        yield Item("skip", reason=f"AKS record of category {category}")
