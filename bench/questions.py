"""The questions contenders of ``bench/`` (``python bench``): every question a user asks once the
audit log is ingested, beside asking jq again.

The issue's bar for the later questions: each at least 20x faster than running ``jq | sort |
uniq -c`` over the log once more, the one answer a user without k8saudit gets. The dataset is
the bench's audit log ingested (once, cached beside the log under bench/out/); each question is
the whole ``k8saudit NAME`` process with its defaults, as a user types it: every analysis of the
query library, ``info`` and ``diagnose`` (``report`` asks all of them at once: it is timed in
the queries section). A question that needs an argument (an actor, an object, an operation)
takes the busiest one in the data (``ARGUMENTS``).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from ingest import JQ
from runner import Contender

#: the busiest user
USER = """
SELECT [username] FROM requests WHERE username IS NOT NULL
GROUP BY username ORDER BY count(*) DESC, username LIMIT 1
"""
#: the namespaced object of the core API group with the most requests, as kubectl names it
OBJECT = """
SELECT [resource || '/' || name, '--namespace', namespace] FROM requests
WHERE name IS NOT NULL AND namespace IS NOT NULL AND api_group IS NULL
    AND resource <> 'namespaces' AND subresource IS NULL
GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1
"""
#: the verb and resource of the core API group with the most requests
OPERATION = """
SELECT [verb, resource] FROM requests WHERE resource IS NOT NULL AND api_group IS NULL
GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1
"""
#: the positional arguments of the questions that take some: a query over ``requests`` whose
#: one value is the argument list
ARGUMENTS = {
    "activity": USER,
    "activity_timeline": USER,
    "rbac_rules": USER,
    "history": OBJECT,
    "who": OPERATION,
}


def dataset(log: Path) -> Path:
    """The audit log ``log`` ingested (once: cached beside it)."""
    import k8saudit

    root = log.parent / "ds"
    if not (root / "manifest.json").exists():
        k8saudit.ingest([log], dataset=root)
    return root


def question_contenders(log: Path, mb: float) -> list[Contender]:
    """``jq | sort | uniq -c`` over ``log`` (the baseline), and every question asked of the
    dataset ``log`` ingests into."""
    import k8saudit
    from k8saudit.query_loader import list_queries

    root = dataset(log)
    k8saudit_bin = str(Path(sys.executable).with_name("k8saudit"))
    group = "a question after the audit ingest"
    found = [
        Contender(group, "jq | sort | uniq -c",
                  ["sh", "-c", JQ.format(cat="cat", log=shlex.quote(str(log)))], mb=mb,
                  baseline=True),
    ]  # fmt: skip
    questions: list[tuple[str, list[str]]] = []
    with k8saudit.open(root) as ds:
        for query in list_queries():
            if query.name in ARGUMENTS:
                (arguments,) = ds.sql(ARGUMENTS[query.name]).row(0)
            elif any(arg.required for arg in query.args):
                raise SystemExit(f"bench/questions.py: no ARGUMENTS for {query.name}")
            else:
                arguments = []
            questions.append((query.name.replace("_", "-"), [*arguments, "--format", "csv"]))
    questions += [("info", []), ("diagnose", [])]
    found += [
        Contender(group, f"k8saudit {command}", [k8saudit_bin, command, *arguments, "--dataset",
                  str(root)], reference=True)
        for command, arguments in questions
    ]  # fmt: skip
    # the longest answer in every other format: a renderer that is slow on many rows shows
    (who,) = (arguments[:-2] for command, arguments in questions if command == "who")
    found += [
        Contender(group, f"k8saudit who --format {fmt}", [k8saudit_bin, "who", *who, "--format",
                  fmt, "--dataset", str(root)], reference=True)
        for fmt in ("table", "json", "markdown")
    ]  # fmt: skip
    return found
