"""``detect --rules DIR``: Sigma rules over the dataset (``k8saudit.detect``), hits and the rules
that could not run.

The hits go to stdout in the chosen format (a table shows the columns a person reads first,
the other formats every column); every rule that did not run is listed on stderr with its
reason, so none is dropped silently.
"""

from __future__ import annotations

from pathlib import Path

import typer

from .boundary import command
from .options import DATASET, FORMAT, OUTPUT, Ticking, emit


def register(app: typer.Typer) -> None:
    """Add ``detect`` to ``app`` (behind the CLI's error boundary)."""

    @command(app, "detect")
    def detect_command(
        rules: Path = typer.Option(
            ..., "--rules", help="A directory of Sigma rules (*.yml, searched recursively) or one."
        ),
        dataset: Path | None = DATASET,
        fmt: str = FORMAT,
        output: Path | None = OUTPUT,
    ) -> None:
        """Run Sigma rules (logsource product kubernetes, service audit) over the dataset: each
        hit names the rule, its level and the request; rules that cannot run are listed on
        stderr with the reason."""
        import k8saudit
        from k8saudit.render import escape_text

        with Ticking("detect"):
            found = k8saudit.detect(rules, dataset)
        emit(found.table() if fmt == "table" and output is None else found.hits, fmt, output)
        hits, ran, skipped = found.hits.height, len(found.ran), len(found.skipped)
        typer.echo(f"{hits} hits of {ran} rules run; {skipped} not run", err=True)
        for rule in found.skipped:
            line = f"not run: {rule.file}: {rule.title}: {rule.reason}"
            typer.echo(escape_text(line), err=True)
