"""Shared fixtures: the real samples in ../shared/realdata and small dataset helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

import k8saudit

REPO = Path(__file__).resolve().parents[1]
REALDATA = REPO.parent / "shared" / "realdata"
SAMPLE_LOGS = REPO / "sample_logs"


@pytest.fixture
def realdata() -> Path:
    """The directory of real third-party samples; tests using it skip where it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"{REALDATA} not present (real samples live beside the repo in CI)")
    return REALDATA


@pytest.fixture(scope="session")
def sample_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sample_logs/ ingested once per test session: the dataset the analysis tests read (none
    of them writes to it)."""
    root = tmp_path_factory.mktemp("sample") / "ds"
    k8saudit.ingest([SAMPLE_LOGS], dataset=root)
    return root
