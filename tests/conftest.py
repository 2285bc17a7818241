"""Shared fixtures: the real samples in ../shared/realdata and small dataset helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REALDATA = REPO.parent / "shared" / "realdata"
SAMPLE_LOGS = REPO / "sample_logs"


@pytest.fixture
def realdata() -> Path:
    """The directory of real third-party samples; tests using it skip where it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"{REALDATA} not present (real samples live beside the repo in CI)")
    return REALDATA
