"""Planning an ingest run: which files there are, and which of them are new.

Inputs are files, directory trees or globs; every file found is described once (``SourceFile``:
path, size, compression) and hashed by content, so the same file given twice, or ingested by an
earlier run, is read only once.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from k8saudit.exceptions import InputError
from k8saudit.io import SourceFile, compression_of


def discover(
    paths: list[str | os.PathLike[str]], *, exclude: Path | None = None
) -> list[SourceFile]:
    """Expand files, directories (recursively) and globs into a sorted list of input files.

    ``exclude`` is a directory never descended into (the dataset itself).

    >>> discover(["sample_logs/"])  # doctest: +SKIP
    [SourceFile(path=PosixPath('sample_logs/apiserver-1/audit.log.gz'), ...)]
    """
    found: dict[Path, str] = {}
    for raw in paths:
        text = os.fspath(raw)
        if any(ch in text for ch in "*?[") and not Path(text).exists():
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise InputError(f"{text}: no file matches this pattern")
            candidates = [Path(m) for m in matches]
        else:
            candidates = [Path(text)]
        for candidate in candidates:
            if exclude is not None and candidate.resolve().is_relative_to(exclude):
                continue  # the dataset itself (`ingest *` run next to it)
            if candidate.is_dir():
                for root, dirs, files in os.walk(candidate):
                    dirs[:] = sorted(
                        d
                        for d in dirs
                        if not d.startswith(".")
                        and (
                            exclude is None
                            or not (Path(root) / d).resolve().is_relative_to(exclude)
                        )
                    )
                    for name in sorted(files):
                        if not name.startswith("."):
                            child = Path(root) / name
                            found.setdefault(child.resolve(), str(child))
            elif candidate.is_file():
                found.setdefault(candidate.resolve(), str(candidate))
            elif not candidate.exists():
                raise InputError(f"{text}: no such file or directory")
    return [
        SourceFile(resolved, display, resolved.stat().st_size, compression_of(resolved))
        for resolved, display in sorted(found.items(), key=lambda item: item[1])
    ]
