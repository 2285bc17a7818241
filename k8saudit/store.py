"""The dataset on disk: day-partitioned Parquet, a manifest, rejects, a lock.

Layout::

    k8saudit-data/
      manifest.json                      what is live: ingested files, Parquet parts, rejects
      requests/day=2019-02-04/part-*.parquet
      rejects/<run>.jsonl                lines that could not be read, with file:line and reason
      redaction.key                      the key of the hashes in redaction marks (formats.redact)
      cache/<key>.parquet                answers kept for the parts as they are (answer_cache)
      .lock                              held by the one ingest allowed at a time
      .tmp/<run>/                        work area of a running ingest

The manifest is the single source of truth and is replaced atomically (write, fsync, rename), so
a crash or Ctrl-C at any point leaves the dataset exactly as the last completed run left it.
Parts the manifest does not list are debris of an interrupted run; the next ingest removes them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from k8saudit.exceptions import DatasetError, DatasetLockedError

DEFAULT_DATASET = "k8saudit-data"
#: the directory of the answers kept across processes (``answer_cache``), inside the dataset
CACHE_DIR = "cache"
REDACTION_KEY = "redaction.key"
DATASET_ENV = "K8SAUDIT_DATASET"
MANIFEST_VERSION = 1


#: a dataset location that is a URI (s3a://, hdfs://, file://...), which Spark reads through its
#: Hadoop file systems, rather than a local directory
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(location: object) -> bool:
    """Whether ``location`` names a dataset by URI (``scheme://...``), not a local path.

    >>> is_uri("s3a://logs/k8saudit"), is_uri("k8saudit-data"), is_uri(Path("file://x"))
    (True, False, False)
    """
    return isinstance(location, str) and _URI.match(location) is not None


def resolve_dataset(dataset: str | os.PathLike[str] | None) -> Path:
    """The dataset directory: the argument, else ``$K8SAUDIT_DATASET``, else ./k8saudit-data."""
    if dataset is not None:
        return Path(dataset)
    return Path(os.environ.get(DATASET_ENV) or DEFAULT_DATASET)


@dataclass(frozen=True)
class ObservedSpan:
    """The first and last instant one input file's lines observed for one apiserver (None: the
    lines do not say which), ISO 8601 UTC: what the observation window is made of."""

    apiserver: str | None
    first: str
    last: str


@dataclass(frozen=True)
class FileEntry:
    """One ingested input file: what it was and what reading it gave."""

    path: str  # as shown to users (and stored in `source_file`)
    size: int  # bytes as stored
    hash: str  # content hash (xxh3-128 of the bytes as stored): the same file is not read twice
    format: str
    records: int = 0
    events: int = 0
    skipped: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    time_source: str | None = None  # where its klog clock took its year from, if it has one
    run: str = ""
    observed: tuple[ObservedSpan, ...] = ()  # empty in datasets written before it was kept
    #: the apiserver its path (or ``ingest --apiserver``) names, for requests that do not say
    apiserver: str | None = None
    apiserver_from: str | None = None  # where that came from: "its directory name"...
    bodies: bool = False  # its requests keep their (redacted) bodies: `ingest --keep-bodies`


@dataclass(frozen=True)
class PartEntry:
    """One live Parquet part: ``requests/day=DAY/part-RUN.parquet``, ``rows`` requests."""

    path: str  # relative to the dataset directory
    day: str  # YYYY-MM-DD, or Hive's name for the partition of requests without a time
    rows: int


@dataclass(frozen=True)
class RunEntry:
    """One committed ingest run."""

    id: str
    finished: str  # ISO 8601, UTC
    files: int


@dataclass
class Manifest:
    """What a dataset holds. Paths inside are relative to the dataset directory."""

    files: list[FileEntry] = field(default_factory=list)  # one per ingested input file
    parts: list[PartEntry] = field(default_factory=list)
    rejects: list[str] = field(default_factory=list)  # rejects/*.jsonl files
    runs: list[RunEntry] = field(default_factory=list)

    @property
    def hashes(self) -> set[str]:
        return {f.hash for f in self.files}

    @property
    def requests(self) -> int:
        """How many requests the live parts hold."""
        return sum(p.rows for p in self.parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "files": [asdict(f) for f in self.files],
            "parts": [asdict(p) for p in self.parts],
            "rejects": self.rejects,
            "runs": [asdict(r) for r in self.runs],
        }


def read_manifest(root: Path) -> Manifest:
    """The manifest of the dataset at ``root`` (empty when there is none yet)."""
    path = root / "manifest.json"
    if not path.exists():
        return Manifest()
    try:
        text = path.read_text()
    except OSError as exc:
        raise DatasetError(f"{path}: unreadable manifest ({exc})") from exc
    return parse_manifest(text, str(path))


def parse_manifest(text: str, path: str) -> Manifest:
    """The manifest of the text of ``path`` (a ``manifest.json``, local or read by Spark)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DatasetError(f"{path}: unreadable manifest ({exc})") from exc
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: damaged manifest (not a JSON object)")
    if data.get("version") != MANIFEST_VERSION:
        raise DatasetError(f"{path}: manifest version {data.get('version')} is not supported")
    try:
        return Manifest(
            [_file_entry(f) for f in data["files"]],
            [PartEntry(**p) for p in data["parts"]],
            list(data["rejects"]),
            [RunEntry(**r) for r in data["runs"]],
        )
    except (KeyError, TypeError) as exc:
        raise DatasetError(f"{path}: damaged manifest ({exc})") from exc


def _file_entry(data: dict[str, Any]) -> FileEntry:
    spans = tuple(ObservedSpan(**span) for span in data.pop("observed", ()))
    return FileEntry(**data, observed=spans)


def write_manifest(root: Path, manifest: Manifest) -> None:
    """Atomically replace the manifest (the commit point of an ingest run), then remove the
    answers kept for the parts before it (their keys would never be asked again)."""
    tmp = root / "manifest.json.tmp"
    with open(tmp, "w") as fh:
        json.dump(manifest.to_json(), fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / "manifest.json")
    with contextlib.suppress(OSError):  # make the rename durable where the platform allows
        dir_fd = os.open(root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)


def redaction_key(root: Path, *, create: bool = False) -> bytes | None:
    """The dataset's key of the hashes in redaction marks (``formats.redact.mark``), made
    (random, 32 bytes) when ``create`` and there is none yet; None when there is none.

    One key per dataset makes the marks of one value equal across its runs (a changed Secret
    shows as a changed mark), while nobody without the key can test a guess of a value.
    """
    path = root / REDACTION_KEY
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        if not create:
            return None
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: unreadable redaction key ({exc})") from exc
    key = os.urandom(32)  # what secrets.token_bytes is, without importing hmac and hashlib
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key.hex() + "\n")
    os.replace(tmp, path)
    return key


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the dataset's ingest lock, or fail at once if another ingest holds it."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatasetLockedError(
                f"{root}: another k8saudit ingest is writing to this dataset",
                hint="wait for it to finish",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def remove_debris(root: Path, manifest: Manifest) -> None:
    """Delete parts, rejects and work areas left by an interrupted run (call under the lock).

    A directory with data but no manifest is not a dataset this code wrote (or its manifest was
    lost): refuse rather than delete anything.
    """
    if not (root / "manifest.json").exists():
        for sub in ("requests", "rejects"):
            if (root / sub).exists() and any((root / sub).iterdir()):
                raise DatasetError(
                    f"{root}: holds {sub}/ but no manifest.json, so it is not a k8saudit "
                    "dataset (or its manifest was lost); nothing was changed",
                    hint="ingest into a new --dataset directory",
                )
    shutil.rmtree(root / ".tmp", ignore_errors=True)
    live = {p.path for p in manifest.parts} | set(manifest.rejects)
    for sub in ("requests", "rejects"):
        base = root / sub
        if not base.exists():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.relative_to(root).as_posix() not in live:
                path.unlink()
        for path in sorted(base.rglob("*"), reverse=True):
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
