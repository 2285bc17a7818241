"""A new grouped analysis is one ``.sql`` file: dropped into a query directory of its own, it is
a ``Dataset`` method, a ``k8saudit.NAME()`` shortcut and a CLI command with its ``--help``."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import pytest
from k8saudit.cli import build_app
from typer.testing import CliRunner

import k8saudit
from k8saudit.query_loader import QUERY_DIR_ENV

from .helpers import event, jsonl

REPO = Path(__file__).resolve().parents[1]
NEW_QUERY = """\
-- name: busy_groups
-- Requests per group, for the groups that sent at least --min-requests of them.
-- shape: grouped
-- chart: bar
-- filters: common
-- param: min_requests INTEGER = 1  -- only groups with at least this many requests
-- param: limit INTEGER = NULL  -- at most this many rows (0: all)
SELECT CAST(grp AS VARCHAR) AS grp, CAST(count(*) AS BIGINT) AS requests
FROM filtered
GROUP BY grp
HAVING count(*) >= $min_requests
ORDER BY requests DESC, grp
LIMIT $limit
"""


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "queries"
    shutil.copytree(REPO / "queries", folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (folder / "busy_groups.sql").write_text(NEW_QUERY)
    monkeypatch.setenv(QUERY_DIR_ENV, str(folder))
    return folder


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    events = [event("a1"), event("a2"), event("g1", verb="get"), event("d1", verb="delete")]
    root = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "audit.log", events)], dataset=root)
    return root


def test_the_file_is_a_method(library: Path, dataset: Path) -> None:
    with k8saudit.open(dataset) as ds:
        assert "busy_groups" in dir(ds)
        signature = inspect.signature(ds.busy_groups)
        assert list(signature.parameters)[:3] == ["by", "min_requests", "limit"]
        assert signature.parameters["min_requests"].default == 1
        assert "at least --min-requests" in (ds.busy_groups.__doc__ or "")
        assert ds.busy_groups(by="verb", min_requests=2).rows() == [("list", 2)]
        assert ds.busy_groups("verb").height == 3


def test_the_file_is_a_shortcut(library: Path, dataset: Path) -> None:
    frame = k8saudit.busy_groups(dataset, by="verb", limit=1)
    assert frame.rows() == [("list", 2)]
    assert "busy_groups" in k8saudit.__all__


def test_the_file_is_a_command(library: Path, dataset: Path) -> None:
    app = build_app()
    runner = CliRunner()
    help_text = runner.invoke(app, ["busy-groups", "--help"])
    assert help_text.exit_code == 0, help_text.output
    assert "Requests per group, for the groups" in help_text.stdout
    assert "--min-requests" in help_text.stdout and "--since" in help_text.stdout
    args = ["busy-groups", "-d", str(dataset), "--by", "verb", "--min-requests", "2", "-f", "csv"]
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout) == (0, "verb,requests\nlist,2\n")


def test_without_the_directory_there_is_no_such_analysis(dataset: Path) -> None:
    with k8saudit.open(dataset) as ds, pytest.raises(AttributeError):
        ds.busy_groups  # noqa: B018
