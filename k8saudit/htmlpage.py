"""Self-contained HTML pages with Vega-Lite charts: one file that opens with no network.

The chart HTML of ``k8saudit chart --output x.html`` and the postmortem report are both one
file: the Vega, Vega-Lite and vega-embed libraries are inlined (the bundle vl-convert-python
ships, no download), each chart's spec sits in a ``<script type="application/json">`` with
``<``, ``>`` and ``&`` written as JSON escapes (a ``</script>`` in a user agent cannot end it),
and every text is HTML-escaped by the caller with ``escape_html``. A Content-Security-Policy
allows the page's own scripts only (by hash: a script that got in through a log string would
not run) and no connection anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from k8saudit.exceptions import UsageError

#: the page's look: plain, printable, tables that read like the terminal's
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222;
       padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { padding: 0.2em 0.7em; border-bottom: 1px solid #eee; text-align: left;
         vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { margin: 1em 0; }
.note { color: #666; font-size: 0.9em; }
code, .mono { font-family: ui-monospace, monospace; font-size: 0.92em; }
ol.findings li { margin-bottom: 0.8em; }
"""

#: draws every chart of the page: its spec from its JSON script element, as SVG
_EMBED = """
for (const el of document.querySelectorAll("script[type='application/json'][data-chart]")) {
  const target = document.getElementById(el.dataset.chart);
  vegaEmbed(target, JSON.parse(el.textContent), {renderer: "svg", actions: false})
    .catch((error) => { target.textContent = "chart failed: " + error; console.error(error); });
}
"""


def escape_html(value: object) -> str:
    """Text for an HTML page: ``&``, ``<``, ``>`` and quotes as entities, so a log string is
    shown as itself and never read as markup.

    >>> escape_html("<script>alert(1)</script>")
    '&lt;script&gt;alert(1)&lt;/script&gt;'
    """
    return html.escape(str(value), quote=True)


def spec_json(spec: Mapping[str, Any]) -> str:
    """A chart spec as JSON safe inside a ``<script>`` element: no ``<``, ``>`` or ``&``.

    >>> spec_json({"title": "</script><b>"})
    '{"title": "\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    text = json.dumps(spec, default=str, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def vega_bundle() -> str:
    """The Vega, Vega-Lite and vega-embed JavaScript, from vl-convert-python (offline).

    Bundling takes vl-convert seconds, so the bundle is kept in the user's cache directory
    (``$XDG_CACHE_HOME/k8saudit``, else ``~/.cache/k8saudit``), one file per vl-convert
    version; where that cannot be written, it is bundled every time.
    """
    try:
        import vl_convert
    except ImportError:
        raise UsageError(
            "HTML charts need vl-convert-python", hint="pip install 'k8saudit[charts]'"
        ) from None
    from importlib.metadata import version

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "k8saudit"
    kept = cache / f"vega-bundle-{version('vl-convert-python')}.js"
    try:
        return kept.read_text(encoding="utf-8")
    except OSError:
        pass
    bundle: str = vl_convert.javascript_bundle("window.vegaEmbed = vegaEmbed;")
    try:
        cache.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
        partial.write_text(bundle, encoding="utf-8")
        partial.replace(kept)  # whole or not at all: a reader never sees half a bundle
    except OSError:
        pass
    return bundle


def _hash(script: str) -> str:
    digest = hashlib.sha256(script.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


def page(title: str, body: str, charts: Mapping[str, Mapping[str, Any]]) -> str:
    """A whole HTML document: ``body`` (already escaped HTML), then each chart of ``charts``
    (element id -> Vega-Lite spec) drawn into the element of that id, with no network.

    >>> "<h1>t</h1>" in page("t", "<h1>t</h1>", {})
    True
    """
    bundle = vega_bundle() if charts else ""
    scripts = [bundle, _EMBED] if charts else []
    # 'unsafe-eval': Vega compiles its expressions with Function(); nothing else may run
    allowed = [*map(_hash, scripts), "'unsafe-eval'"] if scripts else ["'none'"]
    policy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src " + " ".join(
        allowed
    )
    specs = "".join(
        f'<script type="application/json" data-chart="{escape_html(target)}">'
        f"{spec_json(spec)}</script>\n"
        for target, spec in charts.items()
    )
    code = "".join(f"<script>{script}</script>\n" for script in scripts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        f"<title>{escape_html(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{body}\n{specs}{code}</body>\n</html>\n"
    )
