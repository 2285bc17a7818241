"""Access logs read by DuckDB alone (``Stager.access_file``, ``sql/access_scan.sql``) against the
line-by-line reference, row for row.

Whenever the DuckDB path takes a file, its staged rows must be exactly the rows
``access_log.parse_access_log`` gives (every column, ``source_line`` too), its counts of lines,
skipped lines and continuation lines the reference's, and the reference must have found no
reject or partial record in the file; whenever it declines, it must stage nothing. Hypothesis
writes files of canonical lines of both eras (every duration shape, apf fields or none, empty
values, bracketed user agents, IPv6 sources, leap seconds, last days of months, December and
January), now and then with one line the fast readers leave to the reference, CRLF line ends,
a BOM, or a lone carriage return inside a line; and files of canonical lines among klog lines
that are no access line, trace steps, stacks, blank lines and text of any kind.
"""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import k8saudit
from k8saudit.formats import access_patterns
from k8saudit.formats.access_log import parse_access_log
from k8saudit.ingestion.staging import Stager, connect
from k8saudit.io import SourceFile, compression_of, iter_lines
from k8saudit.sqlfiles import run_sql
from tests.test_access_fast import (
    CRI_TIME,
    JOURNALD_PREFIX,
    NOISE,
    G,
    S,
    access_line,
    glog_message,
    klog_header,
    structured_message,
)
from tests.test_access_fast import pick as pick_values
from tests.test_access_fast import summary as reference_summary

#: what the staging table adds to the raw event columns
BOOKKEEPING = ("_item", "_status", "_reject_text", "request_key", "_batch", "_wrapper_timed")


def line_count(data: bytes) -> int | None:
    """The lines of ``data`` as ``plan.hash_and_count`` counts them (None: a U+0001 byte)."""
    if b"\x01" in data:
        return None
    return data.count(b"\n") + (not data.endswith(b"\n")) if data else 0


def read_both(
    data: bytes, year: int = 2023, suffix: str = ""
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(reference summary, the DuckDB path's summary or None when it declined the file), the
    file written as it is or compressed (``suffix`` ``.gz`` or ``.zst``)."""
    compress: dict[str, Callable[[bytes], bytes]] = {
        "": bytes,
        ".gz": gzip.compress,
        ".zst": zstandard.ZstdCompressor().compress,
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"kube-apiserver.log{suffix}"
        path.write_bytes(compress[suffix](data))
        source = SourceFile(path, "f", path.stat().st_size, compression_of(path))
        reference = list(parse_access_log(iter_lines(source), source_file="f", default_year=year))
        work = Path(tmp) / "work"
        work.mkdir()
        con = connect(work)
        try:
            stager = Stager(con, work)
            read = stager.access_file(source, year, lambda: line_count(data))
            ((staged,),) = con.execute("SELECT count(*) FROM staged").fetchall()
            if read is None:
                assert staged == 0, "a declined file left rows behind"
                return reference_summary(reference), None
            table = con.sql(
                f"SELECT * EXCLUDE ({', '.join(BOOKKEEPING)}) FROM staged ORDER BY source_line"
            ).to_arrow_table()
            rows, valid, blank = stager.counts(read.batch)
        finally:
            con.close()
    assert rows == valid == table.num_rows and blank == 0
    for name in ("stage_at", "received_at"):
        position = table.schema.get_field_index(name)
        table = table.set_column(position, name, table.column(name).cast(pa.int64()))
    ours = {
        "rows": table.to_pylist(),
        "rejects": [],
        "lines": read.lines,
        "skipped": read.skipped,
        "wrapper_time_lines": read.wrapper_timed,
        "default_year_lines": rows - read.wrapper_timed,
        "continuation": read.lines - rows - read.skipped,
        "partial": 0,
    }
    return reference_summary(reference), ours


@st.composite
def canonical_line(draw: st.DrawFn, wrapper: str) -> str:
    """A canonical line of either era, bare or in ``wrapper``, mostly dated 4 February: now and
    then on a day its month lacks, in December or January, in a CRI wrapper on a day its month
    lacks, behind a journald prefix the fast readers leave to the reference."""
    message = draw(st.one_of(structured_message(False), glog_message(False)))
    line = draw(klog_header(False)) + message
    if draw(st.integers(0, 3)):
        line = f"{line[0]}0204{line[5:]}"
    if wrapper == "cri":
        time = draw(st.one_of(*[st.just("2023-02-04T12:00:01.123456789Z")] * 3, CRI_TIME))
        return f"{time} {draw(st.sampled_from(['stderr', 'stdout']))} F {line}"
    if wrapper == "journald":
        return (
            draw(st.one_of(*[st.just("Feb  4 12:00:00 m-1 kube-apiserver: ")] * 3, JOURNALD_PREFIX))
            + line
        )
    return line


FILES = st.tuples(
    st.sampled_from(["", "", "cri", "journald"]).flatmap(
        lambda wrapper: st.lists(canonical_line(wrapper), min_size=1, max_size=30)
    ),
    # now and then one line the fast readers may leave to the reference
    st.one_of(st.none(), st.none(), st.none(), access_line()),
    st.integers(0, 30),  # where it goes
    st.sampled_from(["\n", "\n", "\n", "\r\n"]),
    st.booleans(),  # a final newline
    st.sampled_from([b"", b"", b"", b"\xef\xbb\xbf"]),  # a BOM
    st.sampled_from([False, False, False, True]),  # a lone carriage return inside a line
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FILES, st.sampled_from([2023, 2024]))
def test_duckdb_path_equals_reference_or_declines(
    file: tuple[list[str], str | None, int, str, bool, bytes, bool], year: int
) -> None:
    lines, odd, at, newline, final, bom, carriage = file
    if odd is not None:
        lines.insert(min(at, len(lines)), odd)
    if carriage:
        lines[at % len(lines)] += "\r" + lines[(at + 1) % len(lines)]
    data = bom + (newline.join(lines) + (newline if final else "")).encode("utf-8", "surrogatepass")
    reference, ours = read_both(data, year)
    if ours is not None:
        assert ours == reference


def test_canonical_files_are_read_by_duckdb() -> None:
    """Both eras, one file: taken, with the rows of the reference (so the test above compares)."""
    lines = [(S if i % 3 else G).format(md="0204") for i in range(50)]
    for wrap in ("", "2023-02-04T12:00:01.5Z stderr F ", "Feb  4 12:00:00 master-1 k[2]: "):
        data = ("\n".join(wrap + line for line in lines) + "\n").encode()
        reference, ours = read_both(data)
        assert ours == reference
        assert ours is not None and len(ours["rows"]) == 50
        assert {row["log_format"] for row in ours["rows"]} == {"httplog-structured", "httplog-glog"}
        assert ours["wrapper_time_lines"] == (50 if wrap.startswith("2023") else 0)
        servers = {row["apiserver"] for row in ours["rows"]}
        assert servers == ({"master-1"} if wrap.startswith("Feb") else {None})


def test_compressed_files_are_read_by_duckdb_alike() -> None:
    """A gzip or zstd log, counted as it is hashed, is read by DuckDB with the plain file's rows;
    a lone carriage return inside a line is declined there too."""
    lines = [(S if i % 3 else G).format(md="0204") for i in range(50)]
    data = ("\n".join(lines) + "\n").encode()
    _, plain = read_both(data)
    assert plain is not None
    for suffix in (".gz", ".zst"):
        reference, ours = read_both(data, suffix=suffix)
        assert ours == reference == plain, suffix
        lone = ("\n".join([lines[0] + "\r" + lines[1], *lines[2:]]) + "\n").encode()
        assert read_both(lone, suffix=suffix)[1] is None, suffix


#: text of any kind, on one line
ONE_LINE = st.text(max_size=20).map(lambda text: text.replace("\n", " ").replace("\r", " "))
#: klog messages that are no access line (``httplog.parse_httplog_message`` is None for each)
NOISE_MESSAGES = st.one_of(
    st.sampled_from(
        [
            "Starting watch for /api/v1/pods",
            '"Msg" k="v"',
            '"HTTP"x',
            "verb",
            "GET",
            "GET api",
            "LIST foo: x",
            "",
            "lowercase text",
            "1 digit",
            "Internal error",
            "[tag] x",
            "{}",
        ]
    ),
    ONE_LINE,
)
#: lines that are neither a klog line nor a JSON record: they continue an access line
RUN_ONS = st.one_of(
    NOISE,
    st.builds(
        "{}{}".format,
        st.sampled_from(["", "\t", " ", "Trace", "-", "}"]),
        ONE_LINE,
    ),
)


@st.composite
def noisy_line(draw: st.DrawFn) -> str:
    """A canonical line, a klog line that is no access line (bare or wrapped), or a line that
    continues the one before it."""
    choice = draw(st.integers(0, 8))
    wrapper = draw(st.sampled_from(["", "", "", "cri", "journald"]))
    if choice < 3:
        line = draw(klog_header(False)) + draw(
            st.one_of(structured_message(False), glog_message(False))
        )
        line = f"{line[0]}0204{line[5:]}"  # a date of every year: the file is not declined for it
    elif choice < 6:
        line = draw(klog_header(False)) + draw(NOISE_MESSAGES)
    else:
        line = draw(RUN_ONS)
        return f"2023-02-04T12:00:01.5Z stdout F {line}" if wrapper == "cri" else line
    if wrapper == "cri":
        return f"2023-02-04T12:00:01.5Z stderr F {line}"
    return ("Feb  4 12:00:00 m-1 kube-apiserver: " if wrapper else "") + line


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(noisy_line(), min_size=1, max_size=40),
    # now and then one line the fast readers may leave to the reference, and where it goes
    st.one_of(st.none(), st.none(), st.none(), access_line()),
    st.integers(0, 40),
    st.booleans(),  # a final newline
    st.sampled_from(["\n", "\r\n"]),
)
def test_duckdb_path_skips_noise_as_the_reference_does(
    lines: list[str], odd: str | None, at: int, final: bool, newline: str
) -> None:
    if odd is not None:
        lines.insert(at, odd)
    data = (newline.join(lines) + (newline if final else "")).encode("utf-8", "surrogatepass")
    reference, ours = read_both(data)
    if ours is not None:
        assert ours == reference


def test_a_noisy_log_is_read_by_duckdb() -> None:
    """Access lines among klog lines of other kinds, trace steps, a stack and blank lines: taken,
    the lines before the first access line and under a klog line skipped, the others continuing
    the access line above them."""
    lines = [
        "goroutine 1 [running]:",  # skipped: nothing to continue
        "I0204 12:00:00.000000 1 controller.go:1] Starting",  # skipped
        "\tstack",  # skipped: under a klog line that is no access line
        S.format(md="0204"),
        'Trace[1]: ---"Listing from storage done" 12ms',  # continues the line above
        "",  # continues it too
        G.format(md="0204"),
        'W0204 12:00:01.000000 1 x.go:9] "Msg" k="v"',  # skipped
        "2023-02-04T12:00:01.5Z stderr F E0204 12:00:02.000000 1 y.go:2] lowercase",  # skipped
        "Feb  4 12:00:00 m-1 kube-apiserver: I0204 12:00:03.000000 1 z.go:3] GET",  # skipped
        S.format(md="0204"),
        " indented",  # continues the line above
    ]
    reference, ours = read_both(("\n".join(lines) + "\n").encode())
    assert ours == reference
    assert ours is not None
    assert (len(ours["rows"]), ours["skipped"], ours["continuation"]) == (3, 6, 3)
    assert [row["source_line"] for row in ours["rows"]] == [4, 7, 11]


def test_what_duckdb_declines() -> None:
    """A date the year lacks, December then January (the year changes), a lone CR, and lines
    the reference reads otherwise: a JSON record, a 1.18 line, a cut or odd access line, a CRI
    partial record, a line opening with a digit or a severity letter but no klog header."""
    good = [S.format(md="0204"), G.format(md="0204")]
    for lines in (
        [*good, S.format(md="0229")],
        [S.format(md="1231"), G.format(md="0101")],
        [good[0] + "\r" + good[1]],
        [*good, '{"ts":1692781234500.5,"msg":"other"}'],
        [*good, 'I0204 12:00:00.000000 1 wrap.go:1] verb="GET" URI="/api" resp=200'],
        [*good, "I0204 12:00:00.000000 1 wrap.go:1] GET /x"],
        [*good, "I0204 12:00:00.000000 1 wrap.go:1] GET /x: (1s) 200"],
        [*good, "2023-02-04T12:00:01.5Z stderr P I0204 12:00:00.000000 1 x.go:1] part"],
        [*good, "12 lines follow"],
        [*good, "Internal error"],
    ):
        data = ("\n".join(lines) + "\n").encode()
        reference, ours = read_both(data, year=2023)
        assert ours is None, lines
        assert reference["lines"] == len(lines)


def test_a_line_holding_the_line_readers_delimiter_is_read_whole(tmp_path: Path) -> None:
    """DuckDB's line reader cuts a line at a U+0001 byte (sql/log_lines.sql), where a glog
    user agent may hold one and then a forged trailer: such a file is left to the other readers,
    which read the line whole (the source is the last address, the access line cut at U+0001
    a reject)."""
    forged = G.format(md="0204").replace("[k 1.2.3.4:5]", "[k 6.6.6.6:6]\x01 1.2.3.4:5]")
    cut = S.format(md="0204") + "\x01junk"
    data = ("\n".join([S.format(md="0204"), forged, cut]) + "\n").encode()
    reference, ours = read_both(data)
    assert ours is None
    assert [row["source_ip"] for row in reference["rows"]] == ["10.0.46.149", "1.2.3.4"]
    assert [line for line, *_ in reference["rejects"]] == [3]
    log = tmp_path / "kube-apiserver.log"
    log.write_bytes(data)
    report = k8saudit.ingest([log], dataset=tmp_path / "ds", year=2023)
    assert report.requests_after == 2
    found = k8saudit.open(tmp_path / "ds").sql(
        "SELECT source_ip, user_agent FROM requests ORDER BY source_line"
    )
    assert found.rows() == [("10.0.46.149", "kubelet/v1.14.10"), ("1.2.3.4", "k 6.6.6.6:6]\x01")]


def test_a_tz_other_than_utc_is_left_to_the_vectorised_reader(tmp_path: Path) -> None:
    log = tmp_path / "kube-apiserver.log"
    lines = [
        (S if i % 2 else G)
        .format(md="0204")
        .replace("9f13", f"id-{i}")
        .replace(":00.", f":{i:02}.")
        for i in range(6)
    ]
    log.write_text("\n".join(lines) + "\n")
    utc = k8saudit.ingest([log], dataset=tmp_path / "utc", year=2023)
    berlin = k8saudit.ingest([log], dataset=tmp_path / "berlin", year=2023, tz="Europe/Berlin")
    assert utc.requests_after == berlin.requests_after == 6
    assert utc.first is not None and berlin.first is not None
    assert (utc.first - berlin.first).total_seconds() == 3600


@st.composite
def structured_candidate(draw: st.DrawFn) -> str:
    """A line near the structured pattern: canonical or odd, with a few characters now and
    then replaced, inserted or removed (a quote, a backslash, a space, a digit...)."""
    line = draw(klog_header(draw(st.booleans()))) + draw(
        st.one_of(structured_message(False), structured_message(True), glog_message(True))
    )
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        at = draw(st.integers(0, len(line)))
        text = draw(pick_values(True, st.sampled_from(['"', "\\", " ", "0", "A", "=", "µ"]),
                                st.sampled_from(["", "]", "h", "m", ".", '""'])))  # fmt: skip
        line = line[:at] + text + line[at + draw(st.integers(0, 2)) :]
    # one physical line each
    return line.replace("\n", " ").replace("\r", " ")


@st.composite
def glog_candidate(draw: st.DrawFn) -> str:
    """A line near the glog pattern, as ``structured_candidate`` is near the structured one."""
    line = draw(klog_header(draw(st.booleans()))) + draw(
        st.one_of(glog_message(False), glog_message(True), structured_message(True))
    )
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        at = draw(st.integers(0, len(line)))
        text = draw(pick_values(True, st.sampled_from([" ", "[", "]", "(", ")", ":", "0", "A"]),
                                st.sampled_from(["", "  ", "\t", "µs", "é", "\\"])))  # fmt: skip
        line = line[:at] + text + line[at + draw(st.integers(0, 2)) :]
    return line.replace("\n", " ").replace("\r", " ")


def pieces_and_patterns(lines: list[str]) -> list[tuple[bool, bool, bool, bool]]:
    """Per line: (structured_pieces, the structured pattern with no backslash in the line,
    glog_pieces, the glog pattern), all in DuckDB, its message cut as access_scan.sql cuts it."""
    con = duckdb.connect()
    try:
        run_sql(con, "access_pieces")
        return [tuple(row) for row in con.execute(
            "SELECT structured_pieces(line, string_split(line, '\"'), $header, $duration), "
            "coalesce(regexp_matches(line, $structured) AND NOT contains(line, '\\'), false), "
            "glog_pieces(line, string_split(regexp_replace(line, '^[^\\]]*\\] ?', ''), ' '), "
            "$header, $duration), "
            "coalesce(regexp_matches(line, $glog), false) "
            "FROM unnest($lines) WITH ORDINALITY AS t(line, n) ORDER BY n",
            {"header": access_patterns.HEADER, "duration": access_patterns.DURATION,
             "structured": access_patterns.STRUCTURED, "glog": access_patterns.GLOG,
             "lines": lines},
        ).fetchall()]  # fmt: skip
    finally:
        con.close()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(structured_candidate(), glog_candidate(), access_line()), min_size=1, max_size=40
    )
)
def test_the_pieces_are_the_patterns(lines: list[str]) -> None:
    """access_pieces.sql tells the eras apart piece by piece: it takes exactly the lines
    ``access_patterns.STRUCTURED`` and ``GLOG`` take (DuckDB's own regexp_matches the judge),
    save structured lines with a backslash anywhere, which it leaves to the other readers."""
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    for structured, structured_pattern, glog, glog_pattern in pieces_and_patterns(lines):
        assert structured == structured_pattern
        assert glog == glog_pattern


def test_the_pieces_take_canonical_lines() -> None:
    """Both structured shapes (APF fields or not) and the glog line are taken, a backslash in a
    structured value is not, a glog line with a backslash is (so that the test above compares
    lines of every kind)."""
    plain = S.format(md="0204").replace(' apf_pl="system" apf_fs="system-nodes" apf_iseats=1 '
                                        'apf_fseats=0 apf_additionalLatency="0s" '
                                        'apf_execution_time="606.449ms"', "")  # fmt: skip
    lines = [S.format(md="0204"), plain, S.format(md="0204").replace("kubelet", 'ku\\"b'),
             plain.replace("/pods", "/p\\ods"), G.format(md="0204"),
             G.format(md="0204").replace("[k ", "[a b\\c  [d] ")]  # fmt: skip
    found = [(structured, glog) for structured, _, glog, _ in pieces_and_patterns(lines)]
    assert found == [(True, False), (True, False), (False, False), (False, False),
                     (False, True), (False, True)]  # fmt: skip
