"""Answers kept across processes: a library query asked again of the same data is read back.

During an incident the same questions come back: ``diagnose``, then ``report`` (which asks
``diagnose``'s pollers and in-flight peaks again), ``inflight`` after ``inflight-peaks``, a
notebook cell run twice. On a dataset of millions of requests each takes seconds, and the
data has not changed in between. So the answer of a library query over a large dataset
(``MIN_REQUESTS``) is written once as Parquet under the dataset's ``cache/`` and read back by
every later process that asks the same statement with the same values::

    k8saudit-data/cache/<key>.parquet

The key is a hash of everything the rows depend on: the statement (the query's whole SQL,
its parts and the common filters inlined), the bound values (relative times already resolved
against the data's end), the live parts (``manifest.json``'s parts and runs: an ingest makes
new ones, and its commit clears the directory, ``store.write_manifest``), the SQL of the views
and macros it runs over (``k8saudit/sql/``), the normalized columns and DuckDB's version.
Nothing else goes in, so an answer read back is the answer the query would give.

An answer is kept only when Parquet holds its columns exactly (DuckDB writes HUGEINT as
DOUBLE, an ENUM as VARCHAR: those answers are computed each time), and only when the dataset
directory can be written (a read-only copy is queried as before). ``K8SAUDIT_CACHE=off`` turns
it off. A key is written to a file of its own and renamed into place, so two processes asking
at once both end with the same whole answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from k8saudit.schema import REQUEST_TYPES
from k8saudit.store import CACHE_DIR, Manifest

#: the fewest requests of a dataset whose answers are kept: below, a query costs about what
#: reading its answer back does (and the cache would be files written for nothing)
MIN_REQUESTS = 1_000_000
#: the environment variable that turns the cache off (``off``, ``0``, ``no``, ``false``)
CACHE_ENV = "K8SAUDIT_CACHE"
#: the version of the files' layout: a change makes every earlier key unused
_LAYOUT = 1
#: the last bytes of a whole Parquet file
_PARQUET_END = b"PAR1"
#: column types Parquet does not give back as they were
_NOT_KEPT = re.compile(r"HUGEINT|ENUM|UNION|BIT\b|VARINT|BIGNUM", re.IGNORECASE)


class Computed(Protocol):
    """An answer about to be computed: DuckDB's relation (its column types, and writing it)."""

    @property
    def types(self) -> list[Any]: ...

    def write_parquet(self, file_name: str, *, compression: str) -> None: ...


class AnswerCache:
    """The kept answers of one dataset as its manifest stands.

    >>> AnswerCache(Path("k8saudit-data"), Manifest()).path("SELECT 1", {}) is None
    True
    """

    def __init__(self, root: Path, manifest: Manifest) -> None:
        self.directory = root / CACHE_DIR
        self._manifest = manifest
        self.enabled = manifest.requests >= MIN_REQUESTS and not _turned_off()

    def path(self, statement: str, values: Mapping[str, Any]) -> Path | None:
        """Where the answer of ``statement`` with ``values`` is kept; None when not kept."""
        if not self.enabled:
            return None
        return self.directory / f"{self._key(statement, values)}.parquet"

    def holds(self, path: Path) -> bool:
        """Whether ``path`` holds a kept answer: a whole Parquet file (it ends with the format's
        magic). A damaged one (a disk that filled up under another tool, a copy cut short) is
        removed, so that the answer is computed again."""
        try:
            with open(path, "rb") as fh:
                fh.seek(-len(_PARQUET_END), os.SEEK_END)
                if fh.read() == _PARQUET_END:
                    return True
        except OSError:  # none (or shorter than the magic)
            pass
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return False

    def store(self, path: Path, answer: Computed) -> bool:
        """Compute ``answer`` into ``path``; False (nothing written) when its columns would not
        come back as they are, or the directory cannot be written (then nothing more is)."""
        if any(_NOT_KEPT.search(str(kind)) for kind in answer.types):
            return False
        tmp = path.with_name(f".{path.stem}-{os.urandom(6).hex()}.tmp")  # one per writer
        try:
            self.directory.mkdir(exist_ok=True)
            answer.write_parquet(str(tmp), compression="zstd")
            os.replace(tmp, path)
        except OSError:
            self.enabled = False
            return False
        finally:
            with contextlib.suppress(OSError):  # left by a failed write (or none: renamed)
                tmp.unlink(missing_ok=True)
        return True

    def _key(self, statement: str, values: Mapping[str, Any]) -> str:
        digest = hashlib.sha256()
        state = {
            "layout": _LAYOUT,
            "code": _code_fingerprint(),
            "parts": self._manifest.to_json()["parts"],
            "runs": [run.id for run in self._manifest.runs],
            "statement": statement,
            # repr: a datetime's value and zone, a list's items, a number's type
            "values": repr(sorted(values.items())),
        }
        digest.update(json.dumps(state, sort_keys=True, default=str).encode())
        return digest.hexdigest()[:32]


def _turned_off() -> bool:
    return os.environ.get(CACHE_ENV, "").strip().lower() in ("off", "0", "no", "false")


@cache
def _code_fingerprint() -> str:
    """A hash of what an answer depends on besides its statement: the SQL of the views and
    macros (``k8saudit/sql/``), the normalized columns and DuckDB's version."""
    from k8saudit.engine import engine

    digest = hashlib.sha256(f"{engine.__version__} {REQUEST_TYPES}".encode())
    for entry in sorted(resources.files("k8saudit.sql").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return digest.hexdigest()
