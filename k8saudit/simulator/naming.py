"""The client-naming rule, so the ground truth speaks the same names as the ingest.

A person calls a program by its user agent's product, plus the controller suffix that
kube-controller-manager appends; a generic HTTP library says nothing on its own, so it is qualified
by the identity that sent it. The ingest computes the same name from the same two fields; keeping
the rule here lets ``ground_truth.json`` be compared with query results directly.
"""

from __future__ import annotations

import re

GENERIC_HTTP_LIBRARIES = frozenset(
    {
        "rest-client",
        "Go-http-client",
        "python-requests",
        "okhttp",
        "curl",
        "Python-urllib",
        "Java",
        "Apache-HttpClient",
        "axios",
        "node-fetch",
        "Wget",
        "OpenAPI-Generator",
    }
)
_SERVICE_ACCOUNT = "system:serviceaccount:"
_COMMIT_SUFFIX = re.compile(r"kubernetes/[^/\s]+/(\S+)")
_SERVICE_ACCOUNT_PREFIX = re.compile(r"^system:serviceaccount:[^:]*:")


def client_name(user_agent: str, username: str) -> str:
    """Normalized client of a request, from its user agent and username.

    >>> client_name("kube-controller-manager/v1.14.10 (linux/amd64) kubernetes/575467a/"
    ...             "system:serviceaccount:kube-system:replicaset-controller", "x")
    'kube-controller-manager/replicaset-controller'
    >>> client_name("rest-client/2.0.2 (linux-gnu x86_64) ruby/2.5.1p57",
    ...             "system:serviceaccount:logging:fluentd")
    'rest-client (logging:fluentd)'
    """
    product = re.split(r"[/ ]", user_agent, maxsplit=1)[0]
    suffix = _COMMIT_SUFFIX.search(user_agent)
    if suffix:
        product += "/" + _SERVICE_ACCOUNT_PREFIX.sub("", suffix.group(1))
    if product in GENERIC_HTTP_LIBRARIES:
        if username.startswith(_SERVICE_ACCOUNT):
            sender = username.removeprefix(_SERVICE_ACCOUNT)
        elif username.startswith("system:node:"):
            sender = "system:node:*"
        else:
            sender = username
        product = f"{product} ({sender})"
    return product
