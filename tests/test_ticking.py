"""A long command says on stderr that it is still working (``cli.options.Ticking``), on a
terminal only, and erases the line before it prints its answer."""

from __future__ import annotations

import io
import time

import pytest

from cli.options import Ticking


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Ticking, "DELAY", 0.05)
    monkeypatch.setattr(Ticking, "INTERVAL", 0.02)


def test_a_long_command_says_it_is_working_then_erases_the_line(quick: None) -> None:
    stream = Terminal()
    with Ticking("inflight-peaks", stream):
        time.sleep(0.2)
    text = stream.getvalue()
    assert text.startswith("\rinflight-peaks: working, 0 s\x1b[K")
    assert text.count("\rinflight-peaks: working, ") >= 3  # redrawn
    assert text.endswith("\r\x1b[K")  # erased: the answer starts on a clean line


def test_a_quick_command_writes_nothing(quick: None) -> None:
    stream = Terminal()
    with Ticking("top-talkers", stream):
        pass
    assert stream.getvalue() == ""


def test_nothing_goes_to_a_pipe(quick: None) -> None:
    stream = io.StringIO()  # not a terminal
    with Ticking("diagnose", stream) as ticking:
        time.sleep(0.1)
    assert stream.getvalue() == "" and ticking._thread is None


def test_the_line_is_erased_when_the_command_fails(quick: None) -> None:
    stream = Terminal()
    with pytest.raises(KeyboardInterrupt), Ticking("pollers", stream):
        time.sleep(0.1)
        raise KeyboardInterrupt
    assert stream.getvalue().endswith("\r\x1b[K")
