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

# public name -> module that defines it (imported lazily); the analyses' shortcuts
# (``k8saudit.top_talkers``...) are generated from the query library, see ``__getattr__``
_LAZY = {
    "ingest": "k8saudit.ingestion",
    "IngestReport": "k8saudit.ingestion",
    "merge": "k8saudit.ingestion.merge",
    "MergeReport": "k8saudit.ingestion.merge",
    "open": "k8saudit.dataset",
    "Dataset": "k8saudit.dataset",
    "K8sAuditError": "k8saudit.exceptions",
    "ExitCode": "k8saudit.exceptions",
    "query": "k8saudit.shortcuts",
    "diagnose": "k8saudit.diagnosis",
    "event": "k8saudit.lookup",
    "detect": "k8saudit.detection",
    "EventRecord": "k8saudit.lookup",
    "rbac": "k8saudit.least_privilege",
    "compare": "k8saudit.comparison",
}

if TYPE_CHECKING:
    from k8saudit.comparison import compare as compare
    from k8saudit.dataset import Dataset as Dataset
    from k8saudit.dataset import open as open
    from k8saudit.detection import detect as detect
    from k8saudit.diagnosis import diagnose as diagnose
    from k8saudit.exceptions import ExitCode as ExitCode
    from k8saudit.exceptions import K8sAuditError as K8sAuditError
    from k8saudit.ingestion import IngestReport as IngestReport
    from k8saudit.ingestion import ingest as ingest
    from k8saudit.ingestion.merge import MergeReport as MergeReport
    from k8saudit.ingestion.merge import merge as merge
    from k8saudit.least_privilege import rbac as rbac
    from k8saudit.lookup import EventRecord as EventRecord
    from k8saudit.lookup import event as event
    from k8saudit.shortcuts import query as query

_STATIC = [
    "Dataset", "EventRecord", "ExitCode", "IngestReport", "K8sAuditError", "MergeReport",
    "__version__", "compare", "detect", "diagnose", "event", "ingest", "merge", "open", "rbac",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name == "__all__":  # the static names and every analysis of the library
        from k8saudit.shortcuts import shortcut_names

        return sorted({*_STATIC, *shortcut_names()})
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    if not name.startswith("_"):
        from k8saudit.analyses import analysis_names

        if name in analysis_names():
            from k8saudit.shortcuts import shortcut

            return shortcut(name)
    raise AttributeError(f"module 'k8saudit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__getattr__("__all__")})
