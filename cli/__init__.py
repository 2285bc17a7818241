"""The ``k8saudit`` command: a thin typer skin over the library.

Each command parses options, calls one public library function and renders its result. This package
is the only place that prints or exits; it imports nothing heavy at module level so that
``k8saudit --help`` starts instantly.
"""

from .app import app, main

__all__ = ["app", "main"]
