"""The analysis commands as a user types them: output shape, filters, errors, formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from k8saudit.query_loader import list_queries
from tests.helpers import run_cli as run


@pytest.fixture
def dataset(sample_dataset: Path) -> str:
    return str(sample_dataset)


def test_top_talkers_table_fits_80_columns(dataset: str) -> None:
    code, out, _ = run("top-talkers", "-d", dataset, "--limit", "5")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["client", "reqs", "req/s"]
    assert lines[2].split()[0] == "kubelet" and "56.1/s" in lines[2] and "55.1%" in lines[2]
    assert len(lines) == 8
    assert lines[-1] == "window 2019-02-04 12:00:00 .. 12:04:59 UTC (5m 0s)"
    assert max(len(line) for line in lines) <= 80


def test_percent_and_rate_cells_are_right_aligned(dataset: str) -> None:
    code, out, _ = run("top-talkers", "-d", dataset, "--limit", "5")
    assert code == 0
    header, _, *rows, _window = out.splitlines()
    for label, unit in [("req/s", "/s"), ("req%", "%"), ("time%", "%")]:
        end = header.index(f" {label} ") + 1 + len(label)  # the header's right edge
        cells = [row[:end].rsplit(" ", 1)[-1] for row in rows]
        assert all(cell.endswith(unit) for cell in cells), (label, cells)
        assert all(row[end] == " " for row in rows), label


def test_top_talkers_csv_keeps_raw_numbers(dataset: str) -> None:
    code, out, _ = run("top-talkers", "-d", dataset, "-f", "csv", "--by", "user", "--limit", "2")
    assert code == 0
    header, first, *_ = out.splitlines()
    assert header.startswith("user,requests,req_per_s,request_share,time_share,throttled")
    assert first.startswith("system:node:*,")


def test_filters_reach_the_query(dataset: str) -> None:
    args = ["top-talkers", "-d", dataset, "-f", "json", "--verb", "list", "--since", "2m"]
    code, out, _ = run(*args, "--resource", "services", "--source", "audit")
    assert code == 0
    rows = json.loads(out)
    assert rows[0]["client"] == "datadog-agent"
    assert all(row["top_operation"] == "list services cluster" for row in rows)


def test_sql_injection_in_a_filter_returns_nothing(dataset: str) -> None:
    code, out, _ = run("top-talkers", "-d", dataset, "--user", "x' OR 1=1 --")
    assert code == 0
    assert "(no rows)" in out


def test_unknown_by_lists_the_choices(dataset: str) -> None:
    code, out, err = run("top-talkers", "-d", dataset, "--by", "client,hostname")
    assert code == 2 and out == ""
    assert "choose from client, user, user_agent, source_ip" in err


def test_bad_since_is_a_usage_error(dataset: str) -> None:
    code, _, err = run("throttling", "-d", dataset, "--since", "yesterday")
    assert code == 2 and len(err.splitlines()) == 1
    assert "bad time 'yesterday' for --since" in err and "1h30m, 1.5h, 90s, 2d" in err
    code, _, err = run("timeline", "-d", dataset, "--every", "soon")
    assert code == 2 and err.startswith("error: bad duration 'soon' for --every (use e.g. 30m")


def test_compound_and_fractional_durations(dataset: str) -> None:
    def total(*args: str) -> int:
        code, out, _ = run("top-talkers", "-d", dataset, "-f", "csv", "--limit", "0", *args)
        assert code == 0
        return sum(int(line.split(",")[1]) for line in out.splitlines()[1:])

    everything = total()
    # sample_logs covers 5 minutes: 1h30m and 2d reach back past its start
    assert total("--since", "1h30m") == total("--since", "2d") == everything
    assert 0 < total("--since", "1m30s") == total("--since", "1.5m") < everything
    code, out, _ = run("timeline", "-d", dataset, "--every", "2.5m", "--limit", "1", "-f", "csv")
    assert code == 0
    assert [line.split(",")[0][11:19] for line in out.splitlines()[1:]] == ["12:00:00", "12:02:30"]


def test_throttling_and_timeline(dataset: str) -> None:
    code, out, _ = run("throttling", "-d", dataset, "-f", "csv")
    assert code == 0 and out.splitlines()[1].startswith("datadog-agent,227,")
    code, out, _ = run("timeline", "-d", dataset, "--every", "5m", "--limit", "1", "-f", "csv")
    assert code == 0
    # one interval holds the whole window, 299.983 s of logs: top-talkers' rate, 16,834 / 299.983
    assert out.splitlines()[1:] == ["2019-02-04T12:00:00.000000+0000,kubelet,16834,56.117,157"]


def test_throttled_minutes_names_who_filled_the_server(dataset: str) -> None:
    code, out, _ = run("throttled-minutes", "-d", dataset, "-f", "csv", "--limit", "2")
    assert code == 0
    header, first, second = out.splitlines()
    assert header == "client,requests,request_share,throttled,busy_s,time_share,minutes"
    assert first.startswith("kubelet,6871,") and second.startswith("datadog-agent,3198,")


def test_queries_lists_the_library() -> None:
    code, out, _ = run("queries")
    assert code == 0
    assert {"top_talkers", "throttling", "timeline"} <= {
        line.split()[0] for line in out.splitlines()
    }
    assert "_filters" not in out
    code, out, _ = run("queries", "-f", "json")
    timeline = next(q for q in json.loads(out) if q["name"] == "timeline")
    assert (timeline["shape"], timeline["chart"]) == ("over-time", "line")
    assert timeline["parameters"].startswith("by, every, limit, since")


def test_query_by_name_with_params(dataset: str) -> None:
    code, out, _ = run("query", "top_talkers", "-d", dataset, "-p", "limit=1", "-f", "csv")
    assert code == 0 and out.splitlines()[1].startswith("kubelet,16834,")
    code, _, err = run("query", "top_talkers", "-d", dataset, "-p", "nope=1")
    assert code == 2 and "unknown parameter 'nope'" in err
    code, _, err = run("query", "missing", "-d", dataset)
    assert code == 5 and "no query named 'missing'" in err


def test_watches_and_open_watches(dataset: str) -> None:
    code, out, _ = run("watches", "-d", dataset, "-f", "csv", "--limit", "1")
    assert code == 0
    assert out.splitlines() == [
        "client,watches,peak_open,watches_per_min,sources,cluster_wide,lists,lists_per_watch,"
        "restarts_per_hour,selector_scoped,median_duration_s,window_start,window_end",
        "kubelet,2518,2518,503.629,200,238,0,0.0,30217.746,2398,,"
        "2019-02-04T12:00:00.004706+0000,2019-02-04T12:04:59.987375+0000",
    ]
    code, out, _ = run("open-watches", "-d", dataset, "--every", "5m", "--limit", "2", "-f", "csv")
    assert code == 0
    assert out.splitlines()[1:] == [
        "2019-02-04T12:00:00.000000+0000,kubelet,0,2518",
        "2019-02-04T12:00:00.000000+0000,kube-proxy,0,229",
    ]


@pytest.mark.parametrize(
    "command",
    ["throttling", "throttled-minutes", "latency", "errors", "watches", "timeline", "open-watches"],
)
def test_every_analysis_command_fits_80_columns(dataset: str, command: str) -> None:
    code, out, _ = run(command, "-d", dataset, "--by", "client,verb")
    assert code == 0 and out.startswith(("client,verb", "interval"))
    assert "client,verb" in out.splitlines()[0], "the group column fits, cut to 30 characters"
    assert max(len(line) for line in out.splitlines()) <= 80


def test_sort_takes_the_headings_shown(dataset: str) -> None:
    by_heading = run("top-talkers", "-d", dataset, "--sort", "429s", "--limit", "2", "-f", "csv")
    by_name = run("top-talkers", "-d", dataset, "--sort", "throttled", "--limit", "2", "-f", "csv")
    assert by_heading == by_name and by_heading[1].splitlines()[1].startswith("datadog-agent,")
    code, out, _ = run("top-talkers", "-d", dataset, "--sort", "req/s", "--limit", "1")
    assert code == 0 and out.splitlines()[2].startswith("kubelet ")
    code, _, err = run("top-talkers", "-d", dataset, "--sort", "speed")
    assert code == 2
    assert err.startswith("error: --sort 'speed' is not allowed (choose from requests (reqs), ")


def test_by_username_is_by_user(dataset: str) -> None:
    args = ("top-talkers", "-d", dataset, "--limit", "2", "-f", "csv", "--by")
    as_column = run(*args, "username")
    assert as_column == run(*args, "user")
    assert as_column[1].startswith("user,requests,")


def test_an_inverted_window_is_a_usage_error(dataset: str) -> None:
    code, out, err = run("top-talkers", "-d", dataset, "--since", "1m", "--until", "2m")
    assert (code, out) == (2, "")
    assert err == (
        "error: --since 2019-02-04 12:03:59 is not before --until 2019-02-04 12:02:59 "
        "(the window runs from --since to --until)\n"
    )


def test_query_takes_the_options_of_the_named_command(dataset: str) -> None:
    named = run("top-talkers", "-d", dataset, "--client", "kubelet", "--since", "2m", "-f", "csv")
    by_query = run("query", "top_talkers", "-d", dataset, "--client", "kubelet", "--since", "2m",
                   "-f", "csv")  # fmt: skip
    assert named == by_query and named[0] == 0
    code, out, _ = run("query", "top-talkers", "-d", dataset)
    assert code == 0 and len(out.splitlines()) == 2 + 17 + 1, "the command's --limit 20 default"
    code, out, _ = run("query", "timeline", "-d", dataset, "--every", "5m", "-l", "1", "-f", "csv")
    assert out.splitlines()[1:] == ["2019-02-04T12:00:00.000000+0000,kubelet,16834,56.117,157"]
    code, _, err = run("query", "top_talkers", "-d", dataset, "--every", "5m")
    assert code == 2 and err.startswith("error: top_talkers: unknown parameter 'every' (")


def test_queries_shows_whole_descriptions() -> None:
    code, out, _ = run("queries")
    assert code == 0 and "…" not in out and max(len(line) for line in out.splitlines()) <= 80
    shown: dict[str, str] = {}
    for line in out.splitlines()[2:]:
        if not line.startswith(" "):
            name, _, line = line.partition(" ")
        shown[name] = (shown.get(name, "") + " " + line.strip()).strip()
    assert shown == {q.name: q.description for q in list_queries()}


def test_long_groups_are_cut_in_the_middle_and_stay_apart(dataset: str) -> None:
    code, out, _ = run("top-talkers", "-d", dataset, "--by", "user_agent", "--limit", "5")
    assert code == 0
    lines = out.splitlines()
    assert lines[5] == (
        "kube-controller-manager/v1.14.10 (linux/amd…etes/575467a/leader-election     300"
    )
    assert lines[6] == (
        "kube-scheduler/v1.14.10 (linux/amd64) kubernetes/575467a/leader-election     300"
    )
    assert max(len(line) for line in lines) <= 80


def test_one_number_style_per_column(dataset: str) -> None:
    code, out, _ = run("watches", "-d", dataset, "--limit", "4")
    assert code == 0
    assert out.splitlines()[2:6] == [
        "kubelet                                     2,518  2,518  503.629      200",
        "kube-proxy                                    229    229   45.803      169",
        "kube2iam                                      113    113   22.601      113",
        "kube-controller-manager/shared-informers        3      3    0.600        1",
    ]


def test_a_terminal_gets_its_width(dataset: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from k8saudit.cli import options

    monkeypatch.setattr(options, "terminal_width", lambda: 120)
    code, out, _ = run("top-talkers", "-d", dataset, "--limit", "1")
    assert code == 0
    assert out.splitlines()[2] == (
        "kubelet  16,834  56.1/s  55.1%  34.2%   157  29.7%  0.0%   4,552   7,783      200  "
        "get nodes object"
    )


def test_terminal_width_is_the_terminal_s(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import sys

    from k8saudit.cli import options

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys, "stdout", Terminal())
    monkeypatch.setattr(options.shutil, "get_terminal_size", lambda _: os.terminal_size((132, 40)))
    assert options.terminal_width() == 132
    monkeypatch.setenv("COLUMNS", "100")  # a user's (or the shell's) width wins, piped or not
    assert options.terminal_width() == 100


def test_by_is_offered_only_where_it_groups(dataset: str) -> None:
    code, _, err = run("pollers", "-d", dataset, "--by", "user")
    assert code == 2 and "No such option: --by" in err
    code, out, _ = run("capacity", "-d", dataset, "--by", "user", "--limit", "1")
    assert code == 0 and out.startswith("user ")


def test_a_declared_table_shortens_texts_before_it_drops_columns(dataset: str) -> None:
    code, out, _ = run("pollers", "-d", dataset, "--limit", "3")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["client", "operation", "period", "sources", "req/s", "time%"]
    assert max(map(len, lines)) <= 80
    assert lines[4].startswith("rest-client (…fluentd)  GET pods obje…several)  ")
