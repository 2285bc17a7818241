"""The one duration grammar of every option: Go's, compound and fractional, plus days."""

from __future__ import annotations

from datetime import timedelta

import pytest

from k8saudit.durations import parse_duration
from k8saudit.exceptions import UsageError
from k8saudit.simulator.runner import parse_duration as simulate_seconds


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1.5h", timedelta(hours=1, minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("2d", timedelta(days=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("0.5d", timedelta(hours=12)),
        ("250ms", timedelta(milliseconds=250)),
        (" 30m ", timedelta(minutes=30)),
    ],
)
def test_durations(text: str, length: timedelta) -> None:
    assert parse_duration(text) == length


@pytest.mark.parametrize("text", ["", "d", "5", "-5m", "+5m", "2d3", "1h-5m", "yesterday", "m"])
def test_not_durations(text: str) -> None:
    assert parse_duration(text) is None


def test_simulate_duration_uses_the_grammar() -> None:
    assert simulate_seconds("1.5h") == 5400.0
    assert simulate_seconds("1d") == 86400.0
    with pytest.raises(UsageError, match=r"bad duration '5x' for --duration \(use e\.g\. 30m"):
        simulate_seconds("5x")
