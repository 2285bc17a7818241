"""Go duration text → milliseconds: every unit, compound forms, quoting, garbage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from k8saudit.formats.goduration import parse_go_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7m39.000719686s", 459000.719686),
        ("1m0.023443627s", 60023.443627),
        ("174.269\u00b5s", 0.174269),  # MICRO SIGN, what Go prints
        ("174.269\u03bcs", 0.174269),  # GREEK SMALL LETTER MU, also accepted by Go
        ("174.269us", 0.174269),
        ("100ns", 0.0001),
        ("1.926865ms", 1.926865),
        ("5.050343027s", 5050.343027),
        ("1h2m", 3_720_000.0),
        ("2h45m0.5s", 9_900_500.0),
        ("0", 0.0),
        ("0s", 0.0),
        ('"0s"', 0.0),
        ('"1.269527ms"', 1.269527),
        (".5s", 500.0),
        ("-1.5s", -1500.0),
        ("+2ms", 2.0),
    ],
)
def test_valid_durations(text: str, expected: float) -> None:
    assert parse_go_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "s", "ms", "1", "1.2.3s", "1e3s", "fast", "1 ms", "1d", '"', '"1ms', "ms1"]
)
def test_garbage_is_none(text: str) -> None:
    assert parse_go_duration(text) is None


@given(st.integers(min_value=0, max_value=10**15))
def test_nanoseconds_round_trip_through_go_string(ns: int) -> None:
    """A duration printed the way Go prints it parses back to the same nanoseconds."""
    assert parse_go_duration(_go_string(ns)) == pytest.approx(ns / 1e6, rel=1e-12, abs=1e-9)


@given(st.text(max_size=30))
def test_never_raises(text: str) -> None:
    result = parse_go_duration(text)
    assert result is None or isinstance(result, float)


def _go_string(ns: int) -> str:
    """Go's ``Duration.String()`` for a non-negative duration (test oracle)."""
    if ns == 0:
        return "0s"
    if ns < 1_000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return _frac(ns, 1_000, "\u00b5s")
    if ns < 1_000_000_000:
        return _frac(ns, 1_000_000, "ms")
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    out = f"{hours}h" if hours else ""
    if hours or minutes:
        out += f"{minutes}m"
    return out + _frac(rest, 1_000_000_000, "s")


def _frac(value: int, unit: int, suffix: str) -> str:
    whole, frac = divmod(value, unit)
    digits = str(frac).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}{suffix}" if digits else f"{whole}{suffix}"
