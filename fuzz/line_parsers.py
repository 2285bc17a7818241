"""Fuzzing every line parser of ``k8saudit.formats``: whatever bytes a log line holds, a parser
returns (a record, a reject reason, or None), it never raises.

``PARSERS`` is the one list of them: ``tests/test_parser_properties.py`` runs each under
hypothesis in ``make test``, and ``make fuzz`` runs them under atheris (coverage-guided, for a
bounded time: ``python fuzz/line_parsers.py -max_total_time=60``), or, where atheris does not
install, under hypothesis for a bounded time (``--hypothesis SECONDS``, batches of 1,000
examples). It reports executions and crashes (a crash fails the run with its input).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from k8saudit.durations import parse_duration
from k8saudit.formats import (
    access_log,
    envelopes,
    gke,
    goduration,
    goquote,
    httplog,
    klog,
    legacy_audit,
    timestamps,
)
from k8saudit.formats.detect import is_audit_event
from k8saudit.io import utf16_encoding


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _unwrap(text: str) -> object:
    return list(envelopes.unwrap(_json_value(text)))


def _access_log(text: str) -> object:
    batches = access_log.parse_access_log(text.split("\n"), source_file="f", default_year=2019)
    return [b.table.num_rows for b in batches]


def _legacy_log(text: str) -> object:
    batches = legacy_audit.parse_legacy_audit(text.split("\n"), source_file="f")
    return [b.table.num_rows for b in batches]


def _httplog_json(text: str) -> object:
    value = _json_value(text)
    return httplog.parse_httplog_json(value) if isinstance(value, dict) else None


def _gke(text: str) -> object:
    value = _json_value(text)
    return gke.gke_entry_to_raw(value) if isinstance(value, dict) else None


#: every parser of one line (or one decoded JSON value) of a log, by name
PARSERS: dict[str, Callable[[str], object]] = {
    "httplog.parse_httplog_line": httplog.parse_httplog_line,
    "httplog.parse_httplog_message": httplog.parse_httplog_message,
    "httplog.parse_glog_message": httplog.parse_glog_message,
    "httplog.parse_structured_message": httplog.parse_structured_message,
    "httplog.parse_httplog_json": _httplog_json,
    "httplog.split_glog_trailer": httplog.split_glog_trailer,
    "httplog.trailer_from_continuation": httplog.trailer_from_continuation,
    "httplog.host_of": httplog.host_of,
    "klog.unwrap_line": klog.unwrap_line,
    "klog.parse_klog_header": klog.parse_klog_header,
    "klog.parse_rfc3339_us": klog.parse_rfc3339_us,
    "klog.parse_klog_json": klog.parse_klog_json,
    "legacy_audit.parse_legacy_audit_line": legacy_audit.parse_legacy_audit_line,
    "legacy_audit.parse_groups": legacy_audit.parse_groups,
    "legacy_audit.response_code": legacy_audit.response_code,
    "goduration.parse_go_duration": goduration.parse_go_duration,
    "goquote.unquote_go": goquote.unquote_go,
    "timestamps.parse_timestamp": timestamps.parse_timestamp,
    "gke.parse_resource_name": gke.parse_resource_name,
    "gke.gke_entry_to_raw": _gke,
    "envelopes.unwrap": _unwrap,
    "detect.is_audit_event": lambda text: is_audit_event(_json_value(text)),
    "durations.parse_duration": parse_duration,
    "access_log.parse_access_log": _access_log,
    "legacy_audit.parse_legacy_audit": _legacy_log,
}


def run_all(data: bytes) -> None:
    """Every parser on ``data`` (decoded as a log reader decodes it); raises what one raises."""
    utf16_encoding(data)
    text = data.decode("utf-8", errors="replace")
    for parse in PARSERS.values():
        parse(text)


def _hypothesis(seconds: float) -> int:
    """Random inputs for ``seconds``, in batches; the number of executions (a crash raises)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    runs = [0]

    @settings(max_examples=1000, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)))
    def fuzz(data: bytes) -> None:
        runs[0] += 1
        run_all(data)

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        fuzz()
    return runs[0]


def _instrument(atheris: Any) -> None:
    """Coverage instrumentation for k8saudit's own functions only (``instrument_all`` takes
    minutes over polars and pyarrow, which are not what is fuzzed)."""
    import inspect

    for name, module in list(sys.modules.items()):
        if not name.startswith("k8saudit") or module is None:
            continue
        for value in vars(module).values():
            if inspect.isfunction(value) and value.__module__ == name:
                atheris.instrument_func(value)
            elif inspect.isclass(value) and value.__module__ == name:
                for member in vars(value).values():
                    if inspect.isfunction(member):
                        atheris.instrument_func(member)


def main(argv: list[str]) -> int:
    started = time.monotonic()
    if argv[1:2] == ["--hypothesis"]:
        executions = _hypothesis(float(argv[2]))
        print(f"hypothesis: {executions} executions, 0 crashes, "
              f"{time.monotonic() - started:.0f} s")  # fmt: skip
        return 0
    import atheris

    _instrument(atheris)
    atheris.Setup(argv, run_all)
    atheris.Fuzz()  # exits on a crash, printing the input; -print_final_stats counts runs
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
