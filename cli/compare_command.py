"""``compare``: two windows of one dataset, or two datasets, side by side (``k8saudit.compare``).

Two datasets are not one query of the library, so this is a command of its own; its options
are the common filters and grouping ``queries/_filters.sql`` declares and those of
``queries/_compare_join.sql`` (--min-change, --limit), with --before/--after/--against.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import typer

from k8saudit.query_loader import load_all

from .boundary import command
from .options import DATASET, FORMAT, OUTPUT, Ticking, declared_option, show


def register(app: typer.Typer) -> None:
    """Add ``compare`` to ``app`` (behind the CLI's error boundary)."""
    library = load_all()
    declared = [p for p in library["_filters"].options if p.name != "source"]
    declared += library["_compare_join"].options
    parameters = [
        inspect.Parameter(
            "before", inspect.Parameter.KEYWORD_ONLY, annotation=str | None,
            default=typer.Option(None, "--before", help="The window to compare with: START..END "
                                 "(RFC3339 times or durations back from the end; either may be "
                                 "left out)."),
        ),
        inspect.Parameter(
            "after", inspect.Parameter.KEYWORD_ONLY, annotation=str | None,
            default=typer.Option(None, "--after", help="The window compared: START..END."),
        ),
        inspect.Parameter(
            "against", inspect.Parameter.KEYWORD_ONLY, annotation=Path | None,
            default=typer.Option(None, "--against", help="Another dataset, the baseline: "
                                 "--before windows it, --after this one."),
        ),
        *(declared_option(p, None) for p in declared),
        inspect.Parameter("dataset", inspect.Parameter.KEYWORD_ONLY, annotation=Path | None,
                          default=DATASET),
        inspect.Parameter("fmt", inspect.Parameter.KEYWORD_ONLY, annotation=str, default=FORMAT),
        inspect.Parameter("output", inspect.Parameter.KEYWORD_ONLY, annotation=Path | None,
                          default=OUTPUT),
    ]  # fmt: skip

    def run(**options: Any) -> None:
        """What changed between two windows (--before A..B --after C..D) or two datasets
        (--against OTHER): per client (or --by verb,resource, user...) new and vanished groups,
        req/s on each side (over each side's observation window) and the change, the share of
        429s and its change, API-server time per second; the biggest change in load first."""
        import k8saudit

        dataset, fmt, output = options.pop("dataset"), options.pop("fmt"), options.pop("output")
        values = {name: value for name, value in options.items() if value is not None}
        with Ticking("compare"):
            changes = k8saudit.compare(dataset, **values)
        show(changes, fmt, output)

    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command(app, "compare", help=run.__doc__)(run)
