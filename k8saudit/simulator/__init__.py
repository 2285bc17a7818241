"""Simulated kube-apiserver audit and access logs with a known answer.

k8saudit's analyses are only trustworthy if they find what is really there. The simulator plants a
cluster's traffic (control plane, DaemonSets that poll, watches, hot loops), runs it through a model
of the API server's in-flight limits, writes the logs byte for byte as kube-apiserver would, and
records the answer in ``ground_truth.json``::

    from k8saudit.simulator import simulate
    result = simulate("logs", nodes=300, duration="30m", seed=1, format="both")
    result.ground_truth["clients"][0]   # {'client': 'datadog-agent', 'requests': ..., ...}
"""

from __future__ import annotations

from .runner import SimulationResult, simulate
from .scenarios import SCENARIOS

__all__ = ["SCENARIOS", "SimulationResult", "simulate"]
