"""``rbac SUBJECT``: the least-privilege Role/ClusterRole YAML of ``k8saudit.rbac``.

YAML is not one of the renderer's table formats, so this is a command of its own; its
arguments and options are those ``queries/rbac_rules.sql`` declares (SUBJECT, --max-names, the
common filters), and ``--format table|csv|json|parquet|markdown`` shows the rules as rows, as
``rbac-rules`` does.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import typer

from k8saudit.query_loader import get_query

from .boundary import command
from .options import DATASET, OUTPUT, Ticking, declared_argument, declared_option, show

FORMATS = ("yaml", "table", "csv", "json", "parquet", "markdown")


def register(app: typer.Typer) -> None:
    """Add ``rbac`` to ``app`` (behind the CLI's error boundary)."""
    query = get_query("rbac_rules")
    positional = query.positional
    parameters = [
        declared_argument(p, positional[p.name].metavar, positional[p.name].required)
        if p.name in positional
        else declared_option(p, None)
        for p in query.options
        if p.name not in ("by", "source")
    ]
    parameters += [
        inspect.Parameter("dataset", inspect.Parameter.KEYWORD_ONLY, annotation=Path | None,
                          default=DATASET),
        inspect.Parameter(
            "fmt", inspect.Parameter.KEYWORD_ONLY, annotation=str,
            default=typer.Option("yaml", "--format", "-f", help="yaml, or the rules as "
                                 "table, csv, json, parquet or markdown."),
        ),
        inspect.Parameter("output", inspect.Parameter.KEYWORD_ONLY, annotation=Path | None,
                          default=OUTPUT),
    ]  # fmt: skip

    def run(**options: Any) -> None:
        """The least-privilege Role/ClusterRole and bindings, as YAML, that allow exactly what
        SUBJECT (a user, or system:serviceaccount:NAMESPACE:NAME) was seen doing, with what it
        was denied listed above them."""
        import k8saudit
        from k8saudit.exceptions import UsageError

        dataset, fmt, output = options.pop("dataset"), options.pop("fmt"), options.pop("output")
        if fmt not in FORMATS:
            raise UsageError(f"--format {fmt!r}: choose " + ", ".join(FORMATS))
        values = {name: value for name, value in options.items() if value is not None}
        with Ticking("rbac"):
            policy = k8saudit.rbac(dataset, **values)
        if fmt != "yaml":
            show(policy.rules, fmt, output)
        elif output is not None:
            output.write_text(policy.to_yaml())
        else:
            typer.echo(policy.to_yaml(), nl=False)

    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command(app, "rbac", help=run.__doc__)(run)
