"""One-call analyses for notebooks: ``k8saudit.top_talkers()`` opens the dataset and asks it.

Each function here is ``k8saudit.open(dataset).<name>(**options)``, the same name as the query
file and the CLI command (``top_talkers.sql`` ↔ ``k8saudit top-talkers`` ↔
``k8saudit.top_talkers()``)::

    >>> k8saudit.top_talkers(by="user", since="30m", limit=5)  # doctest: +SKIP

(``errors`` has no shortcut: ``k8saudit.exceptions`` is the module of exceptions; use
``k8saudit.open().errors()``.)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

Analysis = Callable[..., "pl.DataFrame"]


def _shortcut(name: str) -> Analysis:
    def run(
        dataset: str | os.PathLike[str] | None = None, *args: Any, **options: Any
    ) -> pl.DataFrame:
        from k8saudit.dataset import open as open_dataset

        with open_dataset(dataset) as ds:
            result: pl.DataFrame = getattr(ds, name)(*args, **options)
            return result

    run.__name__ = run.__qualname__ = name
    run.__doc__ = f"``k8saudit.open(dataset).{name}(...)`` in one call (see ``Dataset.{name}``)."
    return run


top_talkers = _shortcut("top_talkers")
throttling = _shortcut("throttling")
throttled_minutes = _shortcut("throttled_minutes")
latency = _shortcut("latency")
watches = _shortcut("watches")
open_watches = _shortcut("open_watches")
timeline = _shortcut("timeline")
query = _shortcut("query")
