"""One-call analyses for notebooks: ``k8saudit.top_talkers()`` opens the dataset and asks it.

Each shortcut is ``k8saudit.open(dataset).<name>(**options)``, with the same name as the query
file and the CLI command (``top_talkers.sql`` ↔ ``k8saudit top-talkers`` ↔
``k8saudit.top_talkers()``), built from the query's header like the ``Dataset`` method::

    >>> k8saudit.top_talkers(by="user", since="30m", limit=5)  # doctest: +SKIP
    >>> k8saudit.errors("k8saudit-data", by="resource")  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from k8saudit.analyses import analysis_names, docstring, signature_of
from k8saudit.dataset import open as open_dataset
from k8saudit.query_loader import get_query

if TYPE_CHECKING:
    import polars as pl

_DATASET = inspect.Parameter(
    "dataset", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation="str | None"
)
#: generated shortcuts by query file (a library's files are loaded once)
_SHORTCUTS: dict[str, Callable[..., pl.DataFrame]] = {}


def shortcut(name: str) -> Callable[..., pl.DataFrame]:
    """The module-level function of the analysis ``name``: ``k8saudit.<name>(dataset, ...)``.

    >>> import inspect
    >>> str(inspect.signature(shortcut("errors")))[:47]
    "(dataset: 'str | None' = None, by: 'str' = 'cli"
    """
    query = get_query(name)
    if query.path not in _SHORTCUTS:
        signature = signature_of(query, first=[_DATASET])

        def run(*args: Any, **options: Any) -> pl.DataFrame:
            values = signature.bind(*args, **options).arguments
            with open_dataset(values.pop("dataset", None)) as ds:
                return ds.query(query.name, **values)

        run.__name__ = run.__qualname__ = query.name
        run.__doc__ = f"``k8saudit.open(dataset).{query.name}(...)`` in one call.\n\n"
        run.__doc__ += docstring(query)
        run.__signature__ = signature  # type: ignore[attr-defined]
        _SHORTCUTS[query.path] = run
    return _SHORTCUTS[query.path]


def shortcut_names() -> list[str]:
    """Every analysis, plus ``query`` (any library query by name).

    >>> shortcut_names()[-1]
    'query'
    """
    return [*analysis_names(), "query"]


def query(dataset: str | os.PathLike[str] | None, name: str, **params: Any) -> pl.DataFrame:
    """``k8saudit.open(dataset).query(name, **params)`` in one call.

    >>> k8saudit.query("k8saudit-data", "throttling", limit="2")  # doctest: +SKIP
    """
    with open_dataset(dataset) as ds:
        return ds.query(name, **params)
