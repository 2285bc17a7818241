"""The vectorised access-log reader against the line-by-line reference, row for row.

``access_fast.parse_access_file`` must give exactly what ``access_log.parse_access_log`` gives
over ``io.iter_lines`` of the same file: the same rows (every column, ``source_line`` too), the
same rejects and the same counts. Hypothesis writes files of canonical lines of both eras mixed
with everything the fast path has to leave to the reference (Go escapes, odd spacing, reordered
or missing fields, wrappers, JSON records, klog noise, continuation lines, cut lines, dates that
need their year), and reads them in blocks small enough to cut runs of fast lines anywhere.
"""

from __future__ import annotations

import gzip
import itertools
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8saudit.formats import access_fast
from k8saudit.formats.access_fast import parse_access_file
from k8saudit.formats.access_log import parse_access_log
from k8saudit.formats.batches import ParsedBatch
from k8saudit.io import SourceFile, compression_of, iter_lines, open_binary, read_ahead


def read_both(
    data: bytes, year: int = 2023, tz: tzinfo = UTC, block_bytes: int = 1 << 20
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(reference, fast) summaries of the file holding ``data``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kube-apiserver.log"
        path.write_bytes(data)
        source = SourceFile(path, str(path), len(data), compression_of(path))
        reference = list(
            parse_access_log(iter_lines(source), source_file="f", default_year=year, tz=tz)
        )
        with open_binary(source) as stream:
            fast = list(
                parse_access_file(
                    stream, source_file="f", default_year=year, tz=tz, block_bytes=block_bytes
                )
            )
    return summary(reference), summary(fast)


def summary(batches: list[ParsedBatch]) -> dict[str, Any]:
    """Everything a reader takes from the batches, independent of how they were cut."""
    for batch in batches:
        assert batch.lines == (
            batch.table.num_rows + batch.continuation + batch.skipped + len(batch.rejects)
        )
    rows = []
    if batches:
        table = pa.concat_tables([batch.table for batch in batches]).sort_by("source_line")
        for name in ("stage_at", "received_at"):  # huge latencies reach beyond datetime
            position = table.schema.get_field_index(name)
            table = table.set_column(position, name, table.column(name).cast(pa.int64()))
        rows = table.to_pylist()
    counts = {
        name: sum(getattr(batch, name) for batch in batches)
        for name in (
            "lines",
            "skipped",
            "wrapper_time_lines",
            "default_year_lines",
            "continuation",
            "partial",
        )
    }
    rejects = sorted((r.line, r.reason, r.text) for batch in batches for r in batch.rejects)
    return {"rows": rows, "rejects": rejects, **counts}


# ---------------------------------------------------------------- generated lines

TEXT = st.text(
    alphabet=st.sampled_from(list('abcXYZ09 /?=&%:.-_[]()"\\\tµé…\x01\x7f')), max_size=12
)
PLAIN = st.text(alphabet=st.sampled_from(list("abcxyz019/?=&%:.-_()")), min_size=1, max_size=20)
ESCAPED = st.sampled_from(
    ['a\\"b', "\\x41\\xff", "caf\\u00e9", "\\ud83d\\ude00", "\\U0001F600", "a\\\\", "\\n\\t", "\\"]
)
CANONICAL_DURATION = st.builds(
    lambda hours, minutes, whole, frac, unit: f"{hours}{minutes}{whole}{frac}{unit}",
    st.sampled_from(["", "", "", "1h", "9999h"]),
    st.sampled_from(["", "", "2m", "59m"]),
    st.integers(0, 999_999_999),
    st.sampled_from(["", ".5", ".000001", ".123456789"]),
    st.sampled_from(["ns", "us", "µs", "μs", "ms", "s"]),
)
ODD_DURATION = st.one_of(
    st.builds(
        lambda whole, frac, unit: f"{whole}{frac}{unit}",
        st.integers(0, 10**10),
        st.sampled_from(["", ".5", ".000001", ".1234567890"]),
        st.sampled_from(["ns", "us", "µs", "μs", "ms", "s", "m", "h"]),
    ),
    st.sampled_from(["fast", "-1s", "1.s", ".5s", "2m", "1h", "0", "1m2m", "99999h1s", "1μs"]),
)
VERBS = st.sampled_from(["GET", "LIST", "WATCH", "PATCH", "POST", "PUT", "DELETE", "APPLY"])
SEATS = st.sampled_from(["1", "0"])
CANONICAL_SRC = st.sampled_from(["10.0.0.1:1234", "[::1]:39234", "fe80::1", "", ":80", "[]:1"])
ODD_SRC = st.sampled_from(["[::1", "host", "1.2.3.4:", "[a]b:1", "a:b:c", "[::1]"])


def pick(odd: bool, canonical: st.SearchStrategy[Any], unusual: st.SearchStrategy[Any]) -> Any:
    """Mostly the canonical values, ``unusual`` ones only on an odd line (and then one in four)."""
    return st.one_of(canonical, canonical, canonical, unusual) if odd else canonical


@st.composite
def klog_header(draw: st.DrawFn, odd: bool) -> str:
    severity = draw(st.sampled_from("IIIWEF"))
    month = draw(
        pick(odd, st.sampled_from(["01", "02", "04", "12"]), st.sampled_from(["00", "13"]))
    )
    day = draw(pick(odd, st.sampled_from(["01", "15", "28", "30", "31"]), st.just("29")))
    clock = draw(
        pick(
            odd,
            st.sampled_from(["12:34:56", "23:59:60", "00:00:00"]),
            st.sampled_from(["24:00:00", "12:60:00", "1:2:3"]),
        )
    )
    micro = draw(pick(odd, st.sampled_from(["789012", "000000"]), st.just("99999")))
    spaces = " " * draw(st.integers(1, 7))
    file = draw(pick(odd, st.sampled_from(["httplog.go:132", "wrap.go:47"]), st.just('a"b.go:1')))
    after = draw(pick(odd, st.sampled_from(["] ", "]"]), st.just("]  ")))
    return f"{severity}{month}{day} {clock}.{micro}{spaces}1 {file}{after}"


@st.composite
def structured_message(draw: st.DrawFn, odd: bool) -> str:
    value = pick(odd, PLAIN, st.one_of(ESCAPED, TEXT, st.just("")))
    duration = pick(odd, CANONICAL_DURATION, ODD_DURATION)
    fields = [
        f'verb="{draw(pick(odd, VERBS, st.just("get")))}"',
        f'URI="/api/v1/{draw(value)}"',
        f'latency="{draw(duration)}"',
        f'userAgent="{draw(value)}"',
        f'audit-ID="{draw(st.sampled_from(["", "3cf7e40e-7a66-4b56", "x"]))}"',
        f'srcIP="{draw(pick(odd, CANONICAL_SRC, ODD_SRC))}"',
    ]
    if draw(st.booleans()):
        fields += [
            f'apf_pl="{draw(value)}"',
            f'apf_fs="{draw(value)}"',
            f"apf_iseats={draw(pick(odd, SEATS, st.sampled_from(['12345678901', 'x'])))}",
            f"apf_fseats={draw(st.sampled_from(['0', '3']))}",
            f'apf_additionalLatency="{draw(duration)}"',
            f'apf_execution_time="{draw(duration)}"',
        ]
    fields.append(
        draw(
            pick(
                odd,
                st.sampled_from(["resp=200", "resp=429", "resp=0"]),
                st.sampled_from(["hijacked=true", "resp=9999999999", "resp=x"]),
            )
        )
    )
    if odd and draw(st.integers(0, 4)) == 0:
        fields = draw(st.permutations(fields))
    if odd and draw(st.integers(0, 4)) == 0:
        del fields[draw(st.integers(0, len(fields) - 1))]
    sep = draw(pick(odd, st.just(" "), st.just("  ")))
    head = draw(pick(odd, st.just('"HTTP" '), st.sampled_from(["", '"HTTP"  '])))
    return head + sep.join(fields)


@st.composite
def glog_message(draw: st.DrawFn, odd: bool) -> str:
    method = draw(pick(odd, st.sampled_from(["GET", "PUT", "PATCH", "POST"]), st.just("WATCH_X")))
    uri = "/api/v1/" + draw(pick(odd, PLAIN, TEXT))
    code = draw(
        pick(
            odd, st.sampled_from(["200", "429", "500"]), st.sampled_from(["hijacked", "1234567890"])
        )
    )
    ua = draw(
        pick(
            odd,
            st.one_of(PLAIN, st.sampled_from(["[kubectl/v1.9 (linux)]", "e2e.test -- [sig] x"])),
            st.sampled_from(["", "[x", "a]", "[", "[]", "a  b"]),
        )
    )
    addr = draw(pick(odd, CANONICAL_SRC, ODD_SRC))
    trailer = draw(
        pick(
            odd,
            st.just(f"[{ua} {addr}]"),
            st.sampled_from([f"[{ua}]", "", f"[{ua} {addr}", f"[{ua} ]"]),
        )
    )
    space = draw(pick(odd, st.just(" "), st.just("")))
    duration = draw(pick(odd, CANONICAL_DURATION, ODD_DURATION))
    return f"{method} {uri}: ({duration}) {code}{space}{trailer}"


NOISE = st.sampled_from(
    [
        'Trace[123]: ---"Listing from storage done" 12ms',
        "goroutine 1 [running]:",
        "\tk8s.io/apiserver/pkg/server/httplog.(*respLogger).Log()",
        'logging error output: "k8s\\n"',
        "",
        "plain text",
        " [[kubectl/v1.9.2] 10.0.0.1:5]",
        "[kubectl 1.2.3.4:5]",
        '{"ts":1692781234500.5,"msg":"HTTP","verb":"LIST","URI":"/api","latency":"2ms","resp":200}',
        '{"ts":1692781234500.5,"msg":"other"}',
        "{not json",
        "Feb 12 12:31:00 master-1 kube-apiserver[21922]: I0212 12:31:00.000001 1 x.go:1] hi",
    ]
)


#: containerd's wrapper time: valid days and the ones a month lacks (29 February of a common
#: year, 31 April), fractions of 0 to 9 digits
CRI_TIME = st.builds(
    "{}-{}T{}:{}:{}{}Z".format,
    st.sampled_from(["2023", "2024", "1999"]),
    st.sampled_from(["08-23", "02-29", "04-31", "12-31", "01-01"]),
    st.sampled_from(["00", "08", "23"]),
    st.sampled_from(["00", "55"]),
    st.sampled_from(["00", "54", "59"]),
    st.sampled_from(["", ".3", ".331196", ".331196195", ".0000001"]),
)


#: journald's short prefix: space-padded days, hosts and idents with and without a pid, and
#: ones the reference does not take (a colon in the ident, no space after the colon)
JOURNALD_PREFIX = st.builds(
    "{} {} {}{} ".format,
    st.sampled_from(["Feb 12 12:31:00", "Dec  1 23:59:59", "Jan 02 00:00:00"]),
    st.sampled_from(["master-1", "ip-10-0-33-10.ec2.internal", "h:1"]),
    st.sampled_from(["kube-apiserver[21922]", "kube-apiserver", "k:x[1]", "k[]"]),
    st.sampled_from([":", ":", "", ": "]),
)


@st.composite
def access_line(draw: st.DrawFn) -> str:
    odd = draw(st.integers(0, 3)) == 0
    choice = draw(st.integers(0, 21))
    if choice < 8:
        line = draw(klog_header(odd)) + draw(structured_message(odd))
    elif choice < 14:
        line = draw(klog_header(odd)) + draw(glog_message(odd))
    elif choice < 15:
        line = draw(klog_header(odd)) + draw(st.sampled_from(["Starting watch", "GET", "verb=x"]))
    elif choice < 17:
        return draw(NOISE)
    elif choice < 18:  # the 1.18-1.19 era
        line = draw(klog_header(odd)) + 'verb="GET" URI="/healthz" latency=2.05ms resp=200'
    elif choice >= 20:  # a journald/syslog prefix: the host is the apiserver
        message = draw(st.one_of(structured_message(odd), glog_message(odd)))
        line = f"{draw(JOURNALD_PREFIX)}{draw(klog_header(odd))}{message}"
    else:  # a CRI or docker wrapper, sometimes a partial record continued on the next line
        tag = draw(st.sampled_from(["F", "F", "P"]))
        message = draw(st.one_of(structured_message(odd), glog_message(odd)))
        stream = draw(st.sampled_from(["stderr", "stdout"]))
        line = f"{draw(CRI_TIME)} {stream} {tag} {draw(klog_header(odd))}{message}"
    if odd and draw(st.integers(0, 3)) == 0:  # cut, sometimes with a visible mark
        line = line[: draw(st.integers(0, len(line)))] + draw(st.sampled_from(["", "…", "..."]))
    return line


FILES = st.tuples(
    st.lists(access_line(), max_size=40),
    st.sampled_from(["\n", "\n", "\r\n"]),
    st.booleans(),  # a final newline
    st.booleans(),  # a BOM
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    FILES,
    st.sampled_from([64, 300, 4096, 1 << 20]),
    st.sampled_from([2023, 2024]),
    st.sampled_from([UTC, ZoneInfo("America/New_York")]),
)
def test_fast_reader_equals_reference(
    file: tuple[list[str], str, bool, bool], block: int, year: int, tz: tzinfo
) -> None:
    lines, newline, final, bom = file
    text = newline.join(lines) + (newline if final and lines else "")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8", "surrogatepass")
    reference, fast = read_both(data, year, tz, block)
    assert fast == reference


# ---------------------------------------------------------------- cases by hand

S = (
    'I{md} 12:00:00.682897       1 httplog.go:132] "HTTP" verb="LIST" URI="/api/v1/pods" '
    'latency="676.473ms" userAgent="kubelet/v1.14.10" audit-ID="9f13" srcIP="10.0.46.149:40154" '
    'apf_pl="system" apf_fs="system-nodes" apf_iseats=1 apf_fseats=0 '
    'apf_additionalLatency="0s" apf_execution_time="606.449ms" resp=200'
)
G = "I{md} 19:04:54.684870 1 wrap.go:47] GET /api/v1/nodes: (7m39.000719686s) 429 [k 1.2.3.4:5]"


def fast_lines(n: int, md: str = "0204") -> list[str]:
    return [(S if i % 3 else G).format(md=md) for i in range(n)]


def test_year_rolls_over_inside_fast_runs_and_29_february_needs_its_year() -> None:
    lines = fast_lines(5, "1231") + fast_lines(5, "0101") + fast_lines(3, "0229")
    data = "\n".join(lines).encode()
    for year in (2023, 2024):  # after the roll: 29 Feb 2024 exists, 2025 has none (rejected)
        reference, fast = read_both(data, year=year, block_bytes=700)
        assert fast == reference
        assert len(fast["rejects"]) == (3 if year == 2024 else 0)
        years = {datetime.fromtimestamp(r["stage_at"] / 1e6, UTC).year for r in fast["rows"]}
        assert years == {year, year + 1}


def test_fast_line_ending_an_open_cri_partial_record_is_joined_to_it() -> None:
    lines = [
        *fast_lines(3),
        "2023-08-23T08:55:54.331196195Z stderr P I0823 08:55:54.330840 1 x.go:1] start ",
        *fast_lines(4),
        "noise after",
    ]
    reference, fast = read_both("\n".join(lines).encode())
    assert fast == reference
    # the joined record is klog noise ("start I0204 ..."): its two lines are skipped
    assert (fast["skipped"], fast["continuation"], len(fast["rows"])) == (2, 1, 6)


def test_continuation_lines_after_fast_runs_and_invalid_utf8() -> None:
    lines = [b"noise first", *(line.encode() for line in fast_lines(4))]
    lines += [b"goroutine 1 [running]:", b"\tstack \xff\xfe", *(x.encode() for x in fast_lines(2))]
    reference, fast = read_both(b"\r\n".join(lines), block_bytes=128)
    assert fast == reference
    assert (fast["skipped"], fast["continuation"], len(fast["rows"])) == (1, 2, 6)


def test_gzip_input_reads_the_same(tmp_path: Path) -> None:
    data = "\n".join([*fast_lines(50), "noise"]).encode()
    path = tmp_path / "kube-apiserver.log.gz"
    path.write_bytes(gzip.compress(data))
    source = SourceFile(path, str(path), path.stat().st_size, compression_of(path))
    with open_binary(source) as stream:
        fast = summary(list(parse_access_file(stream, source_file="f", default_year=2023)))
    assert fast == read_both(data)[0]
    assert (len(fast["rows"]), fast["continuation"]) == (50, 1)


def test_empty_file_yields_no_batch() -> None:
    reference, fast = read_both(b"")
    assert fast == reference and fast["lines"] == 0


def test_read_ahead_raises_the_producers_error_and_closes_it_when_stopped_early() -> None:
    """``io.read_ahead`` (the second thread that reads and parses ahead): the items in order,
    the producer's exception raised to the consumer after the items before it, and a producer
    left early (the consumer failed) stopped and closed, not run to its end."""

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("bad block")

    seen: list[int] = []
    with pytest.raises(ValueError, match="bad block"):
        seen.extend(read_ahead(failing()))
    assert seen == [1]
    produced: list[int] = []
    closed: list[bool] = []

    def endless() -> Iterator[int]:
        try:
            for n in itertools.count():
                produced.append(n)
                yield n
        finally:
            closed.append(True)

    for n in read_ahead(endless(), depth=1):
        if n == 3:
            break
    assert closed == [True] and len(produced) <= 6


def slow_lines(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The numbers of the lines ``access_fast`` leaves to the line-by-line parser, as it reads."""
    slow: list[int] = []
    take_slow = access_fast._take_slow

    def counting(parser: Any, joiner: Any, line_no: int, text: str) -> None:
        slow.append(line_no)
        take_slow(parser, joiner, line_no, text)

    monkeypatch.setattr(access_fast, "_take_slow", counting)
    return slow


def test_cri_wrapped_canonical_lines_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """containerd's whole-record wrapper (``... stdout F <klog line>``) is read vectorised,
    timed by the wrapper as the reference times it; a day the month lacks (29 February 2023),
    a partial record (``P``) and the line that ends it go through the reference."""
    wrapped = [
        f"2023-02-28T23:59:59.{fraction}Z stdout F " + line
        for fraction, line in zip(("5", "123456789", "000001"), fast_lines(3), strict=True)
    ]
    odd = [
        "2023-02-29T00:00:00Z stderr F " + fast_lines(1)[0],
        "2024-02-29T00:00:00.25Z stderr P " + fast_lines(1)[0][:40],
        "2024-02-29T00:00:00.26Z stderr F " + fast_lines(1)[0][40:],
    ]
    data = "\n".join([*wrapped, *fast_lines(2), *odd]).encode()
    slow = slow_lines(monkeypatch)
    reference, fast = read_both(data)
    assert fast == reference
    assert slow == [6, 7, 8]
    assert len(fast["rows"]) == 6 and fast["wrapper_time_lines"] == 4
    assert [r["stage_at"] for r in fast["rows"][:3]] == [
        1677628799500000,
        1677628799123456,
        1677628799000001,
    ]


def test_journald_prefixed_canonical_lines_take_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A journald/syslog prefix (``Feb 12 12:31:00 host kube-apiserver[pid]: <klog line>``) is
    read vectorised: the klog clock times the line in the running year, the host is its
    apiserver, as in the reference."""
    lines = [
        f"Feb  4 12:00:00 master-{i} kube-apiserver[2192{i}]: " + line
        for i, line in enumerate(fast_lines(4))
    ]
    data = "\n".join([*lines, *fast_lines(1), "Feb  4 12:00:00 m kube:x: " + fast_lines(1)[0]])
    slow = slow_lines(monkeypatch)
    reference, fast = read_both(data.encode())
    assert fast == reference
    assert slow == [6]
    assert [r["apiserver"] for r in fast["rows"]] == [f"master-{i}" for i in range(4)] + [None]
