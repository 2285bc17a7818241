"""k8saudit: who is overloading your Kubernetes API server?

Ingest kube-apiserver audit and access logs (any mix of formats, rotated, gzipped, cloud exports)
into a partitioned Parquet dataset, then ask it questions with DuckDB SQL::

    import k8saudit
    k8saudit.ingest(["logs/"], dataset="k8saudit-data")
    ds = k8saudit.open("k8saudit-data")
    ds.sql("SELECT client, count(*) AS n FROM requests GROUP BY ALL ORDER BY n DESC")

Heavy modules (duckdb, polars, pyarrow) load on first use, so importing k8saudit is instant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it (imported lazily)
_LAZY = {
    "ingest": "k8saudit.ingestion",
    "IngestReport": "k8saudit.ingestion",
    "open": "k8saudit.dataset",
    "Dataset": "k8saudit.dataset",
    "K8sAuditError": "k8saudit.exceptions",
    "ExitCode": "k8saudit.exceptions",
    **{
        name: "k8saudit.shortcuts"
        for name in (
            "top_talkers",
            "throttling",
            "throttled_minutes",
            "latency",
            "watches",
            "open_watches",
            "timeline",
            "query",
        )
    },
}

if TYPE_CHECKING:
    from k8saudit.dataset import Dataset, open
    from k8saudit.exceptions import ExitCode, K8sAuditError
    from k8saudit.ingestion import IngestReport, ingest
    from k8saudit.shortcuts import (
        latency,
        open_watches,
        query,
        throttled_minutes,
        throttling,
        timeline,
        top_talkers,
        watches,
    )

__all__ = [
    "Dataset",
    "ExitCode",
    "IngestReport",
    "K8sAuditError",
    "__version__",
    "ingest",
    "latency",
    "open",
    "open_watches",
    "query",
    "throttled_minutes",
    "throttling",
    "timeline",
    "top_talkers",
    "watches",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'k8saudit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
