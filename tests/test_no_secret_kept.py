"""No secret kept anywhere: Secrets planted in valid, truncated and malformed events, wrapped
and unwrapped, JSON and YAML, are found in no byte of the dataset (Parquet decoded too), of its
rejects, or of the output of any command (``event`` of every request, its raw line read back,
``history`` of the Secret and the HTML report included), with or without ``--keep-bodies``."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cli.analysis_commands import command_name
from k8saudit.query_loader import get_query, list_queries

from .helpers import event, jsonl, run_cli, write_lines
from .test_queries import EXAMPLE_ARGS

#: the planted values: each must appear nowhere (nor its base64, where it is a Secret's data)
PLAIN = {
    "password": "planted-Pa55word-7f3a",
    "string": "planted-stringdata-91c2",
    "token": "planted-bearer-token-5d0e",
    "env": "planted-env-secret-c81b",
    "client_key": "planted-client-key-data-2b44",
    "patch": "planted-json-patch-value-e6d1",
    "yaml": "planted-yaml-password-0aa9",
}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _secret(name: str) -> dict[str, Any]:
    return {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": "default",
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": json.dumps(
                    {"kind": "Secret", "data": {"password": _b64(PLAIN["password"])}}
                )
            },
        },
        "data": {"password": _b64(PLAIN["password"])},
        "stringData": {"note": PLAIN["string"]},
    }


def _events() -> list[dict[str, Any]]:
    ref = {"resource": "secrets", "namespace": "default", "name": "db", "apiVersion": "v1"}
    env = [{"name": "API_TOKEN", "value": PLAIN["env"]}]
    pod = {"kind": "Pod", "spec": {"containers": [{"name": "c", "env": env}]}}
    return [
        event("sec-1", level="RequestResponse", verb="create", objectRef=ref,
              requestObject=_secret("db"), responseObject=_secret("db")),
        event("sec-2", level="RequestResponse", verb="get", objectRef=ref,
              responseObject=_secret("db")),
        event("tok-1", level="Request", verb="create",
              objectRef={"resource": "tokenreviews", "apiGroup": "authentication.k8s.io"},
              requestObject={"spec": {"token": PLAIN["token"]}}),
        event("pod-1", level="Request", verb="create", requestObject=pod),
        event("cfg-1", level="Request", verb="create",
              requestObject={"users": [{"name": "u",
                                        "user": {"client-key-data": PLAIN["client_key"]}}]}),
        event("patch-1", level="Request", verb="patch", objectRef=ref,
              requestObject=[{"op": "replace", "path": "/data/password",
                              "value": _b64(PLAIN["patch"])}]),
    ]  # fmt: skip


def _bad_lines() -> list[str]:
    valid = [json.dumps(e) for e in _events()]
    secret_line = valid[0]
    return [
        secret_line[: secret_line.index(_b64(PLAIN["password"])) + 8],  # truncated in the data
        valid[2][: valid[2].index(PLAIN["token"]) + 10],  # truncated in the token
        secret_line.replace('"stage"', '"stage" "x"', 1),  # malformed before the body
        secret_line + " trailing garbage",  # malformed after it
        json.dumps(_secret("bare")),  # valid JSON, not an audit event
    ]


def _inputs(root: Path) -> list[Path]:
    root.mkdir()
    clean = jsonl(root / "clean-audit.log", _events())
    messy = write_lines(root / "messy-audit.log", [json.dumps(e) for e in _events()] + _bad_lines())
    eks = write_lines(
        root / "eks.log",
        [json.dumps({"timestamp": 1, "message": json.dumps(e)}) for e in _events()]
        + [json.dumps({"timestamp": 1, "message": line}) for line in _bad_lines()],
    )
    yaml_doc = root / "events.yaml"
    yaml_doc.write_text(
        "kind: Event\napiVersion: audit.k8s.io/v1\nauditID: y-1\n"
        f"data:\n  password: {PLAIN['yaml']}\n  bad: [unclosed\n"
    )
    return [clean, messy, eks, yaml_doc]


def _needles() -> list[str]:
    return [*PLAIN.values(), *(_b64(v) for v in PLAIN.values())]


def _dataset_text(dataset: Path) -> str:
    """Every byte of the dataset as text, and every value of its Parquet parts decoded."""
    texts = []
    con = duckdb.connect()
    for path in sorted(dataset.rglob("*")):
        if not path.is_file():
            continue
        texts.append(path.read_bytes().decode("latin-1"))
        if path.suffix == ".parquet":
            rows = con.execute("SELECT * FROM read_parquet($p)", {"p": str(path)}).fetchall()
            texts.append(repr(rows))
    return "\n".join(texts)


def _arguments(name: str) -> list[str]:
    """The positional arguments an analysis takes (``-- arg:``), from the goldens' examples."""
    given = EXAMPLE_ARGS.get(name, {})
    return [given[a.name] for a in get_query(name).args if a.name in given]


def _outputs(dataset: Path) -> tuple[str, int]:
    """The output of every command over the dataset, in every text format."""
    outputs = []
    commands: list[list[str]] = [
        ["info"], ["diagnose"], ["diagnose", "-f", "json"],
        ["sql", "SELECT * FROM requests", "-f", "json"],
    ]  # fmt: skip
    for fmt in ("table", "csv", "json", "markdown"):
        commands += [
            ["rejects", "-f", fmt, "-l", "0"],
            # (csv cannot hold the list column user_groups yet)
            ["sql", "SELECT * EXCLUDE (user_groups) FROM requests", "-f", fmt],
            *([command_name(q), *_arguments(q.name), "-f", fmt] for q in list_queries()),
            # the Secret's own history: what its writes changed (with bodies: marks only)
            ["history", "secrets/db", "-f", fmt],
        ]
    ids = run_cli("sql", "SELECT audit_id FROM requests", "-f", "csv", "-d", str(dataset))[1]
    for audit_id in ids.split()[1:]:  # every request and its raw line read back
        commands += [["event", audit_id, "-f", fmt] for fmt in ("table", "csv", "json", "markdown")]
    for args in commands:
        code, out, err = run_cli(*args, "-d", str(dataset))
        assert code in (0, 4), (args, err)  # 4: an analysis may find nothing here
        outputs += [out, err]
    report = dataset.parent / "report.html"  # and the report, its security findings included
    code, out, err = run_cli("report", "-d", str(dataset), "-o", str(report), "--quiet")
    assert code == 0, err
    outputs += [out, err, report.read_text()]
    return "\n".join(outputs), len(commands) + 1


@pytest.mark.parametrize("flag", [[], ["--keep-bodies"]], ids=["default", "keep-bodies"])
def test_planted_secrets_are_nowhere(tmp_path: Path, flag: list[str]) -> None:
    inputs = _inputs(tmp_path / "logs")
    dataset = tmp_path / "ds"
    code, out, err = run_cli("ingest", *map(str, inputs), "-d", str(dataset), "--quiet", *flag)
    assert code == 0, err
    found, ran = _outputs(dataset)
    assert ran == 4 + 4 * (3 + len(list_queries())) + 4 * 6 + 1
    everything = "\n".join([out, err, found, _dataset_text(dataset)])
    leaked = [needle for needle in _needles() if needle in everything]
    assert leaked == []
    # and yet what was kept is there: the requests, the rejects with their place
    rejects = json.loads(run_cli("rejects", "-f", "json", "-l", "0", "-d", str(dataset))[1])
    assert len(rejects) == 11
    assert {(r["file"].rsplit("/", 1)[-1], r["line"]) for r in rejects} >= {
        ("messy-audit.log", 7), ("messy-audit.log", 11), ("eks.log", 7), ("events.yaml", 1),
    }  # fmt: skip
    requests = run_cli("sql", "SELECT count(*) AS n FROM requests", "-f", "csv", "-d", str(dataset))
    assert requests[1] == "n\n6\n"
