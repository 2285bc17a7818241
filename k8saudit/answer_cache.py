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
against the data's end), the manifest (its files, parts, rejects and runs: an ingest changes
it, and its commit clears the directory, ``store.write_manifest``), the SQL of the views and
macros (``k8saudit/sql/``) and the code that makes the views, the release, the normalized
columns and DuckDB's version. Nothing else goes in, so an answer read back is the answer the
query would give.

An answer is kept only when Parquet gives its columns back as they are (``KEPT_TYPES``: the
scalars and lists the analyses return; DuckDB writes HUGEINT as DOUBLE and an INTERVAL to the
millisecond, so such answers are computed each time), only while the connection is the one
the library made (``Dataset`` stops keeping and reading answers once its connection is handed
out or runs a statement that is not a query: a view redefined, a macro replaced), and only
when the dataset directory can be written (a read-only copy is queried as before).
``K8SAUDIT_CACHE=off`` turns it off. The answers of a dataset take at most
``MAX_TOTAL_BYTES`` (those read longest ago go first), one at most ``MAX_BYTES``. An answer is
written to a file of its own and renamed into place, so two processes asking at once both end
with the same whole answer; a damaged file is removed and its answer computed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from k8saudit.schema import REQUEST_TYPES
from k8saudit.store import CACHE_DIR, Manifest

#: the fewest requests of a dataset whose answers are kept: below, a query costs about what
#: reading its answer back does (and the cache would be files written for nothing)
MIN_REQUESTS = 1_000_000
#: the largest answer file kept (a larger answer is read once and removed)
MAX_BYTES = 64 << 20
#: the most the kept answers of a dataset take: beyond, those read longest ago are removed
MAX_TOTAL_BYTES = 512 << 20
#: the environment variable that turns the cache off (``off``, ``0``, ``no``, ``false``)
CACHE_ENV = "K8SAUDIT_CACHE"
#: the version of the files' layout: a change makes every earlier key unused
_LAYOUT = 1
_SCALAR = (
    r"BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE"
    r"|VARCHAR|DATE|TIMESTAMP|TIMESTAMP WITH TIME ZONE|DECIMAL\(\d+,\d+\)"
)
#: the column types Parquet gives back as they were: these scalars and lists of them
KEPT_TYPES = re.compile(rf"(?:{_SCALAR})(?:\[\])*")


class AnswerCache:
    """The kept answers of one dataset as its manifest stands.

    >>> AnswerCache(Path("k8saudit-data"), Manifest()).path("SELECT 1", {}) is None
    True
    """

    def __init__(self, root: Path, manifest: Manifest) -> None:
        self.directory = root / CACHE_DIR
        self._manifest = manifest
        self._state: str | None = None  # the hash of the manifest, made on first use
        self.enabled = manifest.requests >= MIN_REQUESTS and not _turned_off()

    def path(self, statement: str, values: Mapping[str, Any]) -> Path | None:
        """Where the answer of ``statement`` with ``values`` is kept; None when not kept."""
        if not self.enabled:
            return None
        return self.directory / f"{self._key(statement, values)}.parquet"

    @staticmethod
    def touch(path: Path) -> None:
        """Mark the answer at ``path`` read now: the last to be removed (``_prune``)."""
        with contextlib.suppress(OSError):  # gone meanwhile, or a read-only copy
            os.utime(path)

    @staticmethod
    def keeps(types: Iterable[object]) -> bool:
        """Whether an answer with columns of these (DuckDB) types is kept.

        >>> AnswerCache.keeps(["BIGINT", "VARCHAR[]", "TIMESTAMP WITH TIME ZONE"])
        True
        >>> AnswerCache.keeps(["HUGEINT"]), AnswerCache.keeps(["INTERVAL"])
        (False, False)
        """
        return all(KEPT_TYPES.fullmatch(str(kind)) for kind in types)

    def temporary(self, path: Path) -> Path | None:
        """A new file beside ``path`` to write its answer into (``put`` then), or None when
        the cache directory cannot be made (and nothing more is kept)."""
        try:
            self.directory.mkdir(exist_ok=True)
        except OSError:
            self.enabled = False
            return None
        return path.with_name(f".{path.stem}-{os.urandom(6).hex()}.tmp")  # one per writer

    def put(self, written: Path, path: Path) -> None:
        """Rename the answer ``written`` into place as ``path``, unless it is larger than
        ``MAX_BYTES`` (then it is removed)."""
        try:
            if written.stat().st_size <= MAX_BYTES:
                os.replace(written, path)
                self._prune()
        except OSError:
            self.enabled = False
        self.discard(written)

    def _prune(self) -> None:
        """Remove the answers read longest ago while they take more than MAX_TOTAL_BYTES."""
        kept = []
        for entry in os.scandir(self.directory):
            if entry.name.endswith(".parquet"):
                with contextlib.suppress(OSError):  # gone meanwhile
                    info = entry.stat()
                    kept.append((info.st_mtime, info.st_size, Path(entry.path)))
        total = sum(size for _, size, _ in kept)
        for _, size, path in sorted(kept):
            if total <= MAX_TOTAL_BYTES:
                break
            self.discard(path)
            total -= size

    @staticmethod
    def discard(path: Path) -> None:
        """Remove ``path`` if it is there (a temporary file, a damaged answer)."""
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)

    def _key(self, statement: str, values: Mapping[str, Any]) -> str:
        """The hash of what the answer depends on (the module's docstring lists it)."""
        if self._state is None:
            manifest = json.dumps(self._manifest.to_json(), sort_keys=True)
            self._state = hashlib.sha256(manifest.encode()).hexdigest()
        state = {
            "layout": _LAYOUT,
            "code": _code_fingerprint(),
            "manifest": self._state,
            "statement": statement,
            # repr: a datetime's value and zone, a list's items, a number's type
            "values": repr(sorted(values.items())),
        }
        digest = hashlib.sha256(json.dumps(state, sort_keys=True).encode())
        return digest.hexdigest()[:32]


def _turned_off() -> bool:
    """Whether ``K8SAUDIT_CACHE`` says no."""
    return os.environ.get(CACHE_ENV, "").strip().lower() in ("off", "0", "no", "false")


@cache
def _code_fingerprint() -> str:
    """A hash of what an answer depends on besides its statement and the data: the release,
    the SQL of the views and macros (``k8saudit/sql/``) and the code that makes the views
    (``connection.py``), the normalized columns and DuckDB's version."""
    from importlib.metadata import PackageNotFoundError, version

    from k8saudit.engine import engine

    try:
        release = version("k8saudit")
    except PackageNotFoundError:  # a source tree never installed
        release = ""
    digest = hashlib.sha256(f"{release} {engine.__version__} {REQUEST_TYPES}".encode())
    digest.update(resources.files("k8saudit").joinpath("connection.py").read_bytes())
    for entry in sorted(resources.files("k8saudit.sql").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return digest.hexdigest()
