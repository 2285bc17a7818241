"""Golden files pin what users read, byte for byte, on ``sample_logs/``: every output format of
the analyses below (footers included), ``rbac``'s YAML, the ingest summary and its notes, and
``info``.

The files live in ``tests/golden/formats/``; after an intended change regenerate them with
``K8SAUDIT_UPDATE_GOLDEN=1 pytest tests/test_golden_formats.py`` and review the diff. Only what
changes from run to run is normalized: the dataset's path, the seconds and the MB/s of ingest.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from k8saudit.cli import app
from typer.testing import CliRunner

import k8saudit
from k8saudit.ingestion import IngestReport
from k8saudit.render import info_text, ingest_notes, ingest_summary

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden" / "formats"
UPDATE_GOLDEN = os.environ.get("K8SAUDIT_UPDATE_GOLDEN") == "1"
FORMATS = {"table": "txt", "csv": "csv", "json": "json", "markdown": "md"}
ANALYSES = {
    "top-talkers": ["--limit", "5"],
    "throttling": ["--by", "client,verb", "--limit", "4"],
    "timeline": ["--every", "2m", "--limit", "2"],
    "latency": ["--by", "verb", "--limit", "3"],
    "who": ["patch", "deployments"],
    "history": ["deployments/platform-app", "-n", "platform", "--limit", "4"],
    "activity": ["bob"],
    "activity-timeline": ["bob", "--limit", "5"],
    "sensitive": [],
    "rbac-rules": ["system:serviceaccount:ci:deploy-bot"],
    "compare": [
        "--before",
        "..2019-02-04T12:02:00Z",
        "--after",
        "2019-02-04T12:03:00Z..",
        "-l",
        "5",
    ],
}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IngestReport]:
    root = tmp_path_factory.mktemp("golden") / "ds"
    return root, k8saudit.ingest([REPO / "sample_logs"], dataset=root)


def check_golden(name: str, actual: str) -> None:
    golden = GOLDEN / name
    if UPDATE_GOLDEN or not golden.exists():
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual)
        if not UPDATE_GOLDEN:
            pytest.fail(f"{golden} was missing and has been written; review and commit it")
    assert actual == golden.read_text()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", ANALYSES)
def test_every_format_is_pinned(
    ingested: tuple[Path, IngestReport], command: str, fmt: str
) -> None:
    root, _ = ingested
    args = [command, *ANALYSES[command], "-d", str(root), "--format", fmt]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    # the events' source files are named by absolute path: the repository's is left out
    check_golden(f"{command}.{FORMATS[fmt]}", result.stdout.replace(str(REPO), "<repo>"))


def test_rbac_yaml(ingested: tuple[Path, IngestReport]) -> None:
    root, _ = ingested
    args = ["rbac", "system:serviceaccount:ci:deploy-bot", "-d", str(root)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    check_golden("rbac.yaml", result.stdout)


def test_ingest_summary(ingested: tuple[Path, IngestReport]) -> None:
    root, report = ingested
    text = ingest_summary(report).replace(str(root), "<dataset>")
    text = re.sub(
        r"took        \S+ s \((.*), \d+ MB/s\)", r"took        <s> s (\1, <n> MB/s)", text
    )
    check_golden("ingest_summary.txt", text)
    notes = "\n".join(ingest_notes(report)).replace(str(REPO), "<repo>") + "\n"
    check_golden("ingest_notes.txt", notes)


def test_info(ingested: tuple[Path, IngestReport]) -> None:
    root, _ = ingested
    with k8saudit.open(root) as ds:
        text = info_text(ds.info()).replace(str(root), "<dataset>")
    check_golden("info.txt", text.replace(str(REPO), "<repo>"))
