"""``diagnose``: the findings of ``k8saudit.diagnose`` in plain words, markdown or JSON.

Not one query of the library but the answer drawn from several (``pollers``,
``inflight-peaks``), so it is a command of its own; it takes the common filters as declared in
``queries/_filters.sql``, calls ``k8saudit.diagnose`` and renders.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import typer

from k8saudit.query_loader import load_all

from .boundary import command
from .options import DATASET, OUTPUT, Ticking, declared_option

FORMATS = ("text", "markdown", "json")


def register(app: typer.Typer) -> None:
    """Add ``diagnose`` to ``app`` (behind the CLI's error boundary)."""
    filters = [p for p in load_all()["_filters"].options if p.name not in ("by", "source")]
    parameters = [declared_option(p, None) for p in filters]
    parameters += [
        inspect.Parameter(
            "min_share", inspect.Parameter.KEYWORD_ONLY, annotation=float,
            default=typer.Option(0.05, "--min-share", help="Name series with at least this "
                                 "share of requests or of API-server time (0.05: 5%)."),
        ),
        inspect.Parameter("dataset", inspect.Parameter.KEYWORD_ONLY, annotation=Path | None,
                          default=DATASET),
        inspect.Parameter(
            "fmt", inspect.Parameter.KEYWORD_ONLY, annotation=str,
            default=typer.Option("text", "--format", "-f", help="text, markdown or json."),
        ),
        inspect.Parameter("output", inspect.Parameter.KEYWORD_ONLY, annotation=Path | None,
                          default=OUTPUT),
    ]  # fmt: skip

    def run(**options: Any) -> None:
        """Who is overloading the API server, in plain words, most load first: each finding
        names the client, what it repeats, the evidence and the known remedy."""
        import k8saudit
        from k8saudit.exceptions import UsageError
        from k8saudit.render import escape_text

        dataset, fmt, output = options.pop("dataset"), options.pop("fmt"), options.pop("output")
        if fmt not in FORMATS:
            raise UsageError(f"--format {fmt!r}: choose text, markdown or json")
        values = {name: value for name, value in options.items() if value is not None}
        with Ticking("diagnose"):
            found = k8saudit.diagnose(dataset, **values)
        if fmt == "json":
            text = json.dumps(found.to_rows(), indent=1, default=str) + "\n"
        elif fmt == "markdown":
            text = found.to_markdown()
        else:
            text = "".join(escape_text(line) + "\n" for line in found.to_text().splitlines())
        if output is not None:
            output.write_text(text)
        else:
            typer.echo(text, nl=False)

    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command(app, "diagnose", help=run.__doc__)(run)
