"""Which apiserver a file's requests went to, where the events do not say.

Limits like ``--max-requests-inflight`` are per apiserver (DESIGN.md §6), so every request must
know its apiserver. Audit events never name it and access-log lines only inside a wrapper that
names the host; otherwise it comes from the input file: ``ingest --apiserver NAME``, else the
name of a per-master log or of its directory (``kube-apiserver-ip-10-0-33-10/audit.log``,
``apiserver-2/kube-apiserver.log``, ``master-1.audit.log``). A generic name (``kube-apiserver``,
``audit``, ``logs``) says nothing and is passed over.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import NamedTuple

#: a path part that names one apiserver: "[kube-]apiserver" or "master", then its own name
_NAMED = re.compile(r"^(?:kube[-_.]?)?(?:apiserver|master)[-_.]\w", re.IGNORECASE)
#: the generic names of apiserver logs and their rotations, which name no apiserver
_GENERIC = re.compile(
    r"^(?:kube[-_.]?)?(?:apiserver|master)(?:[-_.](?:audit|access|log|logs|\d{8,}[\dT.:-]*))*$",
    re.IGNORECASE,
)
#: what log file names end with: extensions, compression, rotation stamps
_SUFFIXES = re.compile(
    r"(?:[-_.]\d{4}-\d\d-\d\dT[\d.-]+)?(?:\.(?:log|jsonl?|txt|gz|zst|\d+))*$",
    re.IGNORECASE,
)


class Attribution(NamedTuple):
    """The apiserver of a file's requests and where that came from (shown by ``info``)."""

    apiserver: str
    origin: str


def file_apiserver(display: str, given: str | None = None) -> Attribution | None:
    """The apiserver a file's requests went to, from ``--apiserver`` or the file's path.

    >>> file_apiserver("logs/kube-apiserver-ip-10-0-33-10/audit.log")
    Attribution(apiserver='kube-apiserver-ip-10-0-33-10', origin='its directory name')
    >>> file_apiserver("sample_logs/apiserver-2/audit-2019-02-04T12-02-03.868.log.gz").apiserver
    'apiserver-2'
    >>> file_apiserver("logs/kube-apiserver-ip-10-0-33-10.log.2").apiserver
    'kube-apiserver-ip-10-0-33-10'
    >>> file_apiserver("logs/master-1.audit.log.gz")
    Attribution(apiserver='master-1', origin='its file name')
    >>> file_apiserver("logs/kube-apiserver/kube-apiserver.log.1") is None
    True
    >>> file_apiserver("scale-test-apiserver-logs/kube-apiserver.log") is None
    True
    >>> file_apiserver("audit.log", given="api-a")
    Attribution(apiserver='api-a', origin='--apiserver')
    """
    if given is not None:
        return Attribution(given, "--apiserver")
    path = PurePath(display)
    stem = _SUFFIXES.sub("", path.name).removesuffix(".audit").removesuffix("-audit")
    candidates = [(stem, "its file name")] + [
        (part, "its directory name") for part in reversed(path.parent.parts)
    ]
    for name, origin in candidates:
        if _NAMED.match(name) and not _GENERIC.match(name):
            return Attribution(name, origin)
    return None
