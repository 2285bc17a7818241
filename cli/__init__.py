"""The ``k8saudit`` command: a thin typer skin over the library.

Each command parses options, calls one public library function and renders its result. This package
is the only place that prints or exits; it imports nothing heavy at module level so that
``k8saudit --help`` starts instantly. ``boundary`` holds the app factory and the error boundary,
the command modules register on an app, ``app`` assembles them.
"""

from .app import app, build_app, main

__all__ = ["app", "build_app", "main"]
