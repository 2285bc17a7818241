"""``k8saudit merge``: shard datasets combined equal one ingest of all their logs.

The shards split sample_logs/: every audit log's lines alternate between shard A and shard B,
so the stages of most requests (RequestReceived, ResponseComplete) land in different shards;
the access logs go to B. One ingest of both shards' files is the reference.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

import k8saudit
from k8saudit.exceptions import DatasetError, DatasetLockedError, ExitCode
from k8saudit.store import locked, read_manifest

from .conftest import SAMPLE_LOGS
from .helpers import event, jsonl, run_cli

#: the content of a dataset: its requests and a fingerprint of every column of every row
FINGERPRINT = """
SELECT count(*) AS requests,
       md5(string_agg(CAST(r AS VARCHAR), chr(10) ORDER BY CAST(r AS VARCHAR))) AS fingerprint
FROM requests AS r
"""


def fingerprint(dataset: Path) -> tuple[int, str]:
    with k8saudit.open(dataset) as ds:
        requests, digest = ds.sql(FINGERPRINT).row(0)
    return requests, digest


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The logs of shard A and B (sample_logs/ split line by line) and their one ingest."""
    base = tmp_path_factory.mktemp("shards")
    logs = {name: base / "logs" / name for name in ("a", "b")}
    for path in sorted(SAMPLE_LOGS.rglob("*.gz")):
        relative = path.relative_to(SAMPLE_LOGS)
        targets = {name: root / relative for name, root in logs.items()}
        for target in targets.values():
            target.parent.mkdir(parents=True, exist_ok=True)
        if path.name.startswith("kube-apiserver"):
            shutil.copy(path, targets["b"])
            continue
        lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
        for index, name in enumerate(("a", "b")):
            targets[name].write_bytes(gzip.compress(b"".join(lines[index::2]), mtime=0))
    for name, root in logs.items():
        k8saudit.ingest([root], dataset=base / name)
    k8saudit.ingest([logs["a"], logs["b"]], dataset=base / "one")
    return base / "a", base / "b", base / "one"


def test_merged_shards_equal_one_ingest_of_all_the_logs(
    shards: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    a, b, one = shards
    split = fingerprint(a)[0] + fingerprint(b)[0] - fingerprint(one)[0]
    assert split > 10_000  # most requests have stages in both shards
    report = k8saudit.merge([a, b], dataset=tmp_path / "ab")
    assert fingerprint(tmp_path / "ab") == fingerprint(one)
    assert fingerprint(one)[0] == 30_573  # sample_logs/ ingested whole
    assert (report.requests_before, report.requests_after) == (0, 30_573)
    assert report.rows_read == 30_573 + split
    merged, single = read_manifest(tmp_path / "ab"), read_manifest(one)
    assert sorted(f.hash for f in merged.files) == sorted(f.hash for f in single.files)
    assert len(merged.files) == 14  # 6 audit logs in each shard, the 2 access logs in B
    assert report.files_added == 14 and report.files_duplicate == 0
    # the analyses agree too (the observation window is made of the merged files' spans)
    with k8saudit.open(tmp_path / "ab") as m, k8saudit.open(one) as o:
        assert m.top_talkers().equals(o.top_talkers())


def test_merge_into_a_shard_and_again_changes_nothing(
    shards: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    a, b, one = shards
    out = tmp_path / "out"
    shutil.copytree(a, out)
    k8saudit.merge([b], dataset=out)
    assert fingerprint(out) == fingerprint(one)
    again = k8saudit.merge([a, b, out], dataset=out)  # every file already held
    assert (again.files_added, again.files_duplicate) == (0, 14)
    assert fingerprint(out) == fingerprint(one)
    assert len(read_manifest(out).parts) == 1  # one day, one part: nothing stored twice


def test_a_request_split_across_shards_is_one_row(tmp_path: Path) -> None:
    jsonl(tmp_path / "a.log", [event("r1", "RequestReceived"), event("r2")])
    jsonl(tmp_path / "b.log", [event("r1", stageTimestamp="2019-02-04T12:00:01.500000Z")])
    k8saudit.ingest([tmp_path / "a.log"], dataset=tmp_path / "a")
    k8saudit.ingest([tmp_path / "b.log"], dataset=tmp_path / "b")
    code, out, err = run_cli("merge", str(tmp_path / "a"), str(tmp_path / "b"),
                             "--dataset", str(tmp_path / "ab"), "--quiet")  # fmt: skip
    assert code == 0, err
    assert "requests    2 (was 0) from 3 request rows" in out
    with k8saudit.open(tmp_path / "ab") as ds:
        rows = ds.sql("SELECT audit_id, stage, latency_ms FROM requests ORDER BY 1").rows()
    assert rows == [("r1", "ResponseComplete", 1500.0), ("r2", "ResponseComplete", 250.0)]


def test_rejects_are_kept(tmp_path: Path) -> None:
    (tmp_path / "bad.log").write_text(json.dumps(event("r1")) + "\n{not json\n")
    k8saudit.ingest([tmp_path / "bad.log"], dataset=tmp_path / "a")
    k8saudit.merge([tmp_path / "a"], dataset=tmp_path / "m")
    with k8saudit.open(tmp_path / "m") as ds:
        rejects = list(ds.rejects())
    assert [(r["line"], r["reason"]) for r in rejects] == [(2, "invalid JSON")]


def test_a_locked_shard_is_not_read(shards: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, b, _ = shards
    with locked(b), pytest.raises(DatasetLockedError):
        k8saudit.merge([a, b], dataset=tmp_path / "ab")
    assert not (tmp_path / "ab" / "manifest.json").exists()


def test_a_missing_shard_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no k8saudit dataset here"):
        k8saudit.merge([tmp_path / "nothing"], dataset=tmp_path / "ab")
    code, _, err = run_cli("merge", str(tmp_path / "nothing"), "-d", str(tmp_path / "ab"))
    assert code == ExitCode.DATASET
    assert "no k8saudit dataset here" in err
