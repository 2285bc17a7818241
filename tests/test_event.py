"""``k8saudit event AUDIT_ID`` / ``k8saudit.event()``: the row, its source line, the raw line
read back (decompressed, redacted), and plain words when the log went away or changed."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest

import k8saudit
from k8saudit.lookup import LineStatus

from .helpers import event, jsonl, run_cli, write_lines

SECRET = {
    "kind": "Secret",
    "metadata": {"name": "db"},
    "data": {"password": "cGxhbnRlZC1ldmVudA=="},
}


def _log(tmp_path: Path) -> Path:
    return jsonl(
        tmp_path / "audit.log",
        [
            event("a1", "RequestReceived", verb="create", level="Request", requestObject=SECRET),
            event("b2"),
            event("a1", verb="create", level="Request", requestObject=SECRET),
        ],
    )


def test_the_row_and_its_line_read_back(tmp_path: Path) -> None:
    log = _log(tmp_path)
    ds = tmp_path / "ds"
    k8saudit.ingest([log], dataset=ds, keep_bodies=True)
    record = k8saudit.event("a1", ds)
    assert (record.source_file, record.source_line) == (str(log), 3)  # the complete event
    assert (record.row["verb"], record.row["stage"]) == ("create", "ResponseComplete")
    assert record.raw.status is LineStatus.FOUND
    assert record.raw.message == f"line 3 of {log}"
    assert record.raw.text is not None
    raw = json.loads(record.raw.text)
    assert raw["auditID"] == "a1" and raw["stage"] == "ResponseComplete"
    # the body of the raw line is redacted as the stored one is: the same marks
    assert raw["requestObject"] == json.loads(record.row["request_object"])
    assert "cGxhbnRlZC1ldmVudA==" not in record.raw.text


@pytest.mark.parametrize("in_place", [True, False])
def test_a_compressed_log_is_read_back(tmp_path: Path, in_place: bool) -> None:
    gz = tmp_path / "audit.log.gz"
    gz.write_bytes(gzip.compress(_log(tmp_path).read_bytes()))
    ds = tmp_path / "ds"
    k8saudit.ingest([gz], dataset=ds, _in_place=in_place)
    record = k8saudit.event("b2", ds)
    assert (record.source_line, record.raw.status) == (2, LineStatus.FOUND)
    assert record.raw.text is not None and json.loads(record.raw.text)["auditID"] == "b2"
    assert record.row["request_object"] is None  # bodies were not kept


def test_a_log_gone_or_changed_is_said_plainly(tmp_path: Path) -> None:
    log = _log(tmp_path)
    ds = tmp_path / "ds"
    k8saudit.ingest([log], dataset=ds)
    with log.open("a") as fh:  # grown: line 2 is still b2
        fh.write(json.dumps(event("c3")) + "\n")
    grown = k8saudit.event("b2", ds).raw
    assert grown.status is LineStatus.CHANGED
    assert grown.message.startswith(f"{log} changed since it was ingested (")
    assert grown.text is not None
    write_lines(log, [json.dumps(event("z9"))] * 3)  # rewritten: line 2 holds another request
    moved = k8saudit.event("b2", ds).raw
    assert (moved.status, moved.text) == (LineStatus.MOVED, None)
    assert moved.message.startswith(f"line 2 of {log} does not hold this request any more")
    log.unlink()
    gone = k8saudit.event("b2", ds)
    assert gone.raw.status is LineStatus.GONE and gone.row["audit_id"] == "b2"
    code, out, err = run_cli("event", "b2", "-d", str(ds))
    assert code == 0
    assert f"note: {log} is not there any more" in err
    assert "source_line                2" in out


def test_every_output_format(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    k8saudit.ingest([_log(tmp_path)], dataset=ds, keep_bodies=True)
    code, table, _ = run_cli("event", "a1", "-d", str(ds))
    assert code == 0
    assert table.splitlines()[0].split() == ["field", "value"]
    assert "\nraw_line:\n{" in table and "\nrequest_object:\n{" in table
    code, text, _ = run_cli("event", "a1", "-d", str(ds), "-f", "json")
    (row,) = json.loads(text)
    assert (row["audit_id"], row["source_line"], row["raw_status"]) == ("a1", 3, "found")
    assert json.loads(row["user_groups"]) == ["a"]
    code, text, _ = run_cli("event", "a1", "-d", str(ds), "-f", "csv")
    assert text.startswith("audit_id,received_at,") and text.count("\n") == 2
    code, text, _ = run_cli("event", "a1", "-d", str(ds), "-f", "markdown")
    assert text.startswith("| field | value |") and "| raw_status | found |" in text
    out = tmp_path / "event.parquet"
    assert run_cli("event", "a1", "-d", str(ds), "-f", "parquet", "-o", str(out))[0] == 0
    assert pl.read_parquet(out)["raw_status"].to_list() == ["found"]


def test_an_unknown_audit_id_is_an_error(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    k8saudit.ingest([_log(tmp_path)], dataset=ds)
    code, out, err = run_cli("event", "a", "-d", str(ds))
    assert (code, out) == (5, "")
    assert err.startswith("error: no request with audit ID 'a' in ")
