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
from k8saudit.exceptions import UsageError
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

#: an analysis with arguments: a required one of its own, an optional one from the filters
ARGS_QUERY = """\
-- name: verb_count
-- Requests of one verb, by VERB and optionally one USER.
-- shape: grouped
-- filters: common
-- arg: target VERB
-- arg: user [USER]
-- param: target VARCHAR = NULL  -- the verb to count
SELECT CAST(count(*) AS BIGINT) AS requests FROM filtered WHERE verb = $target
"""


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "queries"
    shutil.copytree(REPO / "queries", folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (folder / "busy_groups.sql").write_text(NEW_QUERY)
    (folder / "verb_count.sql").write_text(ARGS_QUERY)
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


def test_arguments_are_positional_everywhere(library: Path, dataset: Path) -> None:
    with k8saudit.open(dataset) as ds:
        signature = inspect.signature(ds.verb_count)
        # no `by`: the query never reads `grp`
        assert [(p.name, p.default) for p in list(signature.parameters.values())[:3]] == [
            ("target", inspect.Parameter.empty), ("user", None), ("since", None)
        ]  # fmt: skip
        assert ds.verb_count("list").rows() == [(2,)]
        assert ds.verb_count("list", "nobody").rows() == [(0,)]
        with pytest.raises(UsageError, match=r"verb_count: missing VERB \(usage: verb_count"):
            ds.query("verb_count")
    # the shortcut's dataset comes first and has a default: the argument is checked on binding
    assert k8saudit.verb_count(dataset, "get").rows() == [(1,)]
    with pytest.raises(UsageError, match="missing VERB"):
        k8saudit.verb_count(dataset)
    app, runner = build_app(), CliRunner()
    help_text = runner.invoke(app, ["verb-count", "--help"]).stdout
    assert "VERB" in help_text and "[USER]" in help_text and "--user" not in help_text
    result = runner.invoke(app, ["verb-count", "delete", "-d", str(dataset), "-f", "csv"])
    assert (result.exit_code, result.stdout) == (0, "requests\n1\n")
    user = "system:serviceaccount:logging:fluentd"
    result = runner.invoke(app, ["verb-count", "list", user, "-d", str(dataset), "-f", "csv"])
    assert (result.exit_code, result.stdout) == (0, "requests\n2\n")
    assert runner.invoke(app, ["verb-count", "-d", str(dataset)]).exit_code == 2
