"""``k8saudit simulate``: write realistic kube-apiserver logs with a known answer.

A thin skin over ``k8saudit.simulator.simulate``: parse options, call it, print where the logs and
the ground truth went. The simulator (numpy, polars) is imported only when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import typer

from .boundary import command


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to ``app`` (behind the CLI's error boundary).

    >>> register(new_app())  # doctest: +SKIP
    """

    @command(app, "simulate")
    def simulate_command(
        out: Path = typer.Option(..., "--out", help="Directory to create (must be new or empty)."),
        nodes: int = typer.Option(300, "--nodes", help="Worker nodes in the simulated cluster."),
        duration: str = typer.Option(
            "30m", "--duration", help="Length of the log window, e.g. 30m, 1h30m, 1.5h, 90s, 2d."
        ),
        seed: int = typer.Option(
            1, "--seed", help="Random seed; the same seed gives the same bytes."
        ),
        format: str = typer.Option("audit", "--format", help="audit, access or both."),
        gzip: bool = typer.Option(False, "--gzip", help="Write every file gzip-compressed."),
        apiservers: int = typer.Option(
            3, "--apiservers", help="API servers behind the load balancer (one log directory each)."
        ),
        max_inflight: int = typer.Option(
            400,
            "--max-inflight",
            help="--max-requests-inflight of each API server (read-only requests).",
        ),
        max_mutating_inflight: int = typer.Option(
            200, "--max-mutating-inflight", help="--max-mutating-requests-inflight."
        ),
        scenario: str = typer.Option(
            "civis-2019", "--scenario", help="civis-2019, quiet or kube2iam-storm."
        ),
        rotate_mb: float = typer.Option(
            100.0, "--rotate-mb", help="Rotate audit.log at this size, like --audit-log-maxsize."
        ),
        warm_start: bool = typer.Option(
            False,
            "--warm-start",
            help="Begin the log in a running cluster: watches open at its start began before it "
            "(only their end is logged).",
        ),
    ) -> None:
        """Write simulated audit/access logs plus ground_truth.json (what was planted)."""
        from k8saudit.simulator import simulate

        result = simulate(
            out,
            nodes=nodes,
            duration=duration,
            seed=seed,
            scenario=scenario,
            format=format,
            gzip=gzip,
            apiservers=apiservers,
            max_inflight=max_inflight,
            max_mutating_inflight=max_mutating_inflight,
            rotate_mb=rotate_mb,
            warm_start=warm_start,
        )
        totals = result.ground_truth["totals"]
        before = totals.get("started_before_window")
        typer.echo(
            f"wrote {len(result.files)} log files under {out} "
            f"({totals['requests']} requests, {totals['throttled_429']} throttled"
            + (f", {before} begun before the log" if before is not None else "")
            + f"); ground truth in {out / 'ground_truth.json'}"
        )
