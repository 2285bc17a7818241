"""Telling a file's format from its first bytes (DESIGN.md §3), never from its name.

Each input file is one of a few file-level shapes; documents may still mix shapes inside
(EventList, AKS records...), which ``formats.envelopes`` unwraps. A file nobody can read (binary,
unknown text) is ``Format.UNKNOWN``: reported and skipped by ingest, never fatal.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum

from k8saudit.io import BOM, SourceFile, open_binary, utf16_encoding

SNIFF_BYTES = 64 * 1024


class Format(StrEnum):
    """File-level formats. Documents may still mix shapes inside (EventList, AKS records...)."""

    AUDIT_JSONL = "audit-jsonl"  # one audit Event per line: the fast path
    JSON_LINES = "json-lines"  # one JSON value per line, wrapped (EKS, AKS, GKE, docker logs)
    JSON_DOCUMENT = "json-document"  # one (pretty-printed) JSON document or array
    YAML = "yaml"  # audit Event / GKE LogEntry rendered as YAML
    ACCESS_LOG = "access-log"  # kube-apiserver klog output with httplog lines
    LEGACY_AUDIT = "legacy-audit"  # pre-1.8 / legacy text `AUDIT: id="..."`
    UNKNOWN = "unknown"


_YAML_HINT = re.compile(
    r"^(kind: *Event|apiVersion: *audit\.k8s\.io|protoPayload:|insertId:|logName:)", re.M
)


def _looks_binary(sample: bytes) -> bool:
    if not sample:
        return False
    if b"\x00" in sample[:4096]:
        return True
    text_bytes = sum(1 for b in sample[:4096] if b >= 0x20 or b in (9, 10, 13))
    return text_bytes / min(len(sample), 4096) < 0.85


def is_audit_event(obj: object) -> bool:
    """True for a dict shaped like a kube-apiserver audit Event (any API version)."""
    if not isinstance(obj, dict):
        return False
    kind = obj.get("kind")
    if kind is not None and kind != "Event":
        return False
    api_version = obj.get("apiVersion")
    return (
        isinstance(obj.get("requestURI"), str)
        or (isinstance(obj.get("auditID"), str) and isinstance(obj.get("verb"), str))
        or (
            kind == "Event"
            and (
                isinstance(obj.get("verb"), str)
                or (isinstance(api_version, str) and api_version.startswith("audit.k8s.io/"))
            )
        )
    )


def sniff(source: SourceFile) -> Format:
    """Tell a file's format from its first 64 KiB of content (UTF-16 text by its UTF-8
    equivalent: ingest reads such a file through a UTF-8 copy, ``io.transcode_to_utf8``)."""
    with open_binary(source) as fh:
        sample = fh.read(SNIFF_BYTES)
    encoding = utf16_encoding(sample)
    if encoding is not None:
        sample = sample[: len(sample) // 2 * 2].decode(encoding, errors="replace").encode()
    text = sample.decode("utf-8", errors="replace").removeprefix(BOM)
    stripped = text.lstrip()
    # A log with a binary line somewhere is still a log: only a file that does not even start
    # like one is judged by its bytes.
    if not stripped or (stripped[0] not in "{[" and _looks_binary(sample)):
        return Format.UNKNOWN
    if stripped[0] == "[":
        return Format.JSON_DOCUMENT
    if stripped[0] == "{":
        lines = text.splitlines()
        complete = lines if len(sample) < SNIFF_BYTES else lines[:-1]
        for line in complete:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                value = json.loads(line)
            except ValueError:
                continue
            return Format.AUDIT_JSONL if is_audit_event(value) else Format.JSON_LINES
        return Format.JSON_DOCUMENT
    if _YAML_HINT.search(text):
        return Format.YAML
    from k8saudit.formats import access_log, legacy_audit

    if legacy_audit.looks_like_legacy_audit(text):
        return Format.LEGACY_AUDIT
    if access_log.looks_like_access_log(text) or access_log.looks_like_klog(text):
        return Format.ACCESS_LOG
    return Format.UNKNOWN
