"""Empty answers explain themselves (issue 11 items 3 and 4): the exact stderr line of each case,
on sample_logs/, and a dataset that holds no request says so with exit 4."""

from __future__ import annotations

from pathlib import Path

import pytest

import k8saudit
from k8saudit.explain import NoCombination, NoneKept, NoSuchValue, OutsideData
from k8saudit.store import FileEntry, Manifest, write_manifest
from tests.helpers import run_cli as run

SPAN = "the data spans 2019-02-04 12:00:00 .. 12:04:59 UTC (5m 0s)"


@pytest.fixture
def dataset(sample_dataset: Path) -> str:
    return str(sample_dataset)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--client", "datadog"], "no client 'datadog'; did you mean 'datadog-agent'?"),
        (["--resource", "pod"], "no resource 'pod'; did you mean 'pods'?"),
        (["--user", "nobody"], "no user 'nobody'"),
        (["--client", "ku\x1b[2Jbe"], "no client 'ku\\x1b[2Jbe'"),
        (
            ["--since", "2019-02-05T00:00:00Z"],
            f"no requests at or after 2019-02-05 00:00:00 UTC: {SPAN}",
        ),
        (
            ["--since", "2019-02-01T00:00:00Z", "--until", "2019-02-02T00:00:00Z"],
            f"no requests between 2019-02-01 00:00:00 UTC and 2019-02-02 00:00:00 UTC: {SPAN}",
        ),
        (
            ["--client", "kube-proxy", "--resource", "secrets"],
            "no request matches client 'kube-proxy' and resource 'secrets'",
        ),
        (
            ["--client", "kubelet", "--without", "kubelet,kube-proxy"],
            "no request matches client 'kubelet' with --without 'kubelet,kube-proxy'",
        ),
        (
            ["--client", "kube-proxy", "--source", "access"],
            "no request matches client 'kube-proxy' and source 'access'",
        ),
        (
            ["--client", "python-requests (ci:deploy-bot)", "--verb", "create", "--since", "1m"],
            "no request matches client 'python-requests (ci:deploy-bot)' and verb 'create' in "
            "the --since/--until window",
        ),
    ],
)
def test_the_reason_is_one_stderr_line(dataset: str, args: list[str], line: str) -> None:
    code, out, err = run("top-talkers", "-d", dataset, *args)
    assert code == 0 and out.splitlines()[-1] == "(no rows)"
    assert err == line + "\n"


def test_an_analysis_that_keeps_none_says_so(dataset: str) -> None:
    code, _, err = run("throttling", "-d", dataset, "--client", "kube-proxy")
    assert code == 0
    assert err == (
        "229 requests match the filters, but throttling keeps none of them "
        "(see `k8saudit throttling --help`)\n"
    )


def test_no_explanation_when_there_are_rows(dataset: str) -> None:
    code, out, err = run("top-talkers", "-d", dataset, "--verb", "LIST", "-f", "csv")
    assert code == 0 and err == ""
    assert out.splitlines()[1].startswith("datadog-agent,3997,")


def test_verbs_match_in_any_case(dataset: str) -> None:
    with k8saudit.open(dataset) as ds:
        upper = ds.top_talkers(verb="LIST", limit=0)
        assert upper.equals(ds.top_talkers(verb="list", limit=0)) and upper.height > 0


def test_the_library_gives_typed_reasons(dataset: str) -> None:
    with k8saudit.open(dataset) as ds:
        assert ds.explain_empty("top_talkers", client="datadog") == NoSuchValue(
            "client", "datadog", ("datadog-agent",)
        )
        reason = ds.explain_empty("latency", since="2019-02-05T00:00:00Z")
        assert isinstance(reason, OutsideData) and reason.until is None
        assert ds.explain_empty("errors", client="kube-proxy", resource="secrets") == (
            NoCombination((("client", "kube-proxy"), ("resource", "secrets")))
        )
        assert ds.explain_empty("errors", client="kubectl", resource="nodes") == NoneKept(
            12, "errors"
        )
        assert ds.explain_empty("watches", client="datadog-agent") == NoneKept(7994, "watches")
        answer = ds.answer("top_talkers", limit=1)
        assert answer.empty_reason is None and answer.frame.height == 1


def test_a_dataset_without_requests_says_why(tmp_path: Path) -> None:
    root = tmp_path / "k8saudit-data"
    entry = FileEntry(
        "logs/apiserver.log", 120, "h1", "klog", records=40, skipped=40,
        skip_reasons={"klog line without access fields": 40},
    )  # fmt: skip
    root.mkdir()
    write_manifest(root, Manifest(files=[entry, FileEntry("logs/b.log", 9, "h2", "audit-jsonl")]))
    for command in ("top-talkers", "latency", "timeline"):
        code, out, err = run(command, "-d", str(root))
        assert (code, out) == (4, "")
        assert err == (
            f"error: {root}: dataset is empty: 2 files ingested, 0 requests "
            "(logs/apiserver.log (klog): 40 records, 40 skipped (klog line without access "
            "fields), 0 rejected; logs/b.log (audit-jsonl): 0 records, 0 skipped, 0 rejected)\n"
        )
    code, _, err = run("query", "errors", "-d", str(root))
    assert code == 4 and "dataset is empty: 2 files ingested" in err
    code, out, _ = run("info", "-d", str(root))
    assert code == 0 and "requests   0" in out
