"""Secret values out of everything k8saudit keeps or shows: request bodies, rejects, raw lines.

An audit event at level ``Request`` or ``RequestResponse`` carries the objects sent and returned
(``requestObject``, ``responseObject``): a Secret's ``data``, a TokenReview's token, a kubeconfig.
k8saudit keeps bodies only when asked (``ingest --keep-bodies``), and then only through
``redact_body``; lines it cannot read are kept and shown only through ``scrub_line``. Both replace
a secret value by a *mark*, ``<redacted:HASH>``: ``HASH`` is a short keyed hash of the value
(HMAC-SHA256 with the dataset's key, ``store.redaction_key``), so a changed value is still seen
as a change while the value itself, even a guessable one, cannot be tested without the key.

What is redacted (``redact_body``), at any depth of a JSON value:

* every value inside ``data``, ``stringData`` and ``binaryData`` (Secrets, and also ConfigMaps,
  which hold credentials often enough): the keys stay, each value becomes a mark;
* the value of every key whose name says secret (``SECRET_KEY``: ``token``, ``password``,
  ``passwd``, ``passphrase``, ``secret``, ``credential(s)``, ``private-key``, ``client-key-data``,
  ``apiKey``, ``accessKey``, ``secretKey``, ``kubeconfig``, ``bearer``, ``cookie``;
  not references to one: names ending in ``Name``, ``Ref``, ``Namespace``, ``Path``, ``File``,
  ``Seconds``), unless it is a boolean or null; an object or list there has each of its values
  marked except the keys that name or place a secret (``REFERENCE_KEY``: ``secretName``,
  ``items[].key``, ``path``, ``defaultMode``...);
* ``value`` next to a ``name`` that says secret (container ``env``:
  ``{"name": "DB_PASSWORD", "value": "..."}``);
* ``value`` of a JSON-patch operation whose ``path`` goes through such a key or ``/data/``;
* the ``kubectl.kubernetes.io/last-applied-configuration`` annotation, which repeats the whole
  object as a string: it is parsed and redacted the same way (a mark if it is not JSON).

Python, not SQL, because a JSON value of any depth has to be walked: ingest reads bodies with
DuckDB and calls ``redact_json_text`` on them as the SQL function ``redact_body``
(``register_redact_body``), as they are read, so that no secret value reaches a table.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

MARK_PREFIX = "<redacted:"
#: a mark: what a redacted value is replaced by
MARK = re.compile(r"<redacted:[0-9a-f]{12}>")
#: the keys whose every value is secret (the keys inside stay)
DATA_KEYS = frozenset({"data", "stringData", "binaryData"})
#: a key that names a secret value (matched case-insensitively against the whole key)
SECRET_KEY = re.compile(
    r"(?i)^(?!.*(?:name|ref|refs|namespace|path|file|seconds)$)"
    r".*(?:token|passw(?:or)?d|passphrase|secret|credential|private[-_]?key|client[-_]key"
    r"|api[-_]?key|access[-_]?key|kubeconfig|bearer|cookie).*$"
)
#: a key inside a secret-named object that names or places a secret rather than holds it (a pod's
#: ``secret: {secretName, items: [{key, path}], defaultMode}``)
REFERENCE_KEY = re.compile(r"(?i)(?:name|ref|refs|namespace|path|file|seconds|mode|optional|key)$")
#: the annotation that repeats the whole object applied as a JSON string
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
#: a JSON-patch path that reaches a secret value: through a data key or a secret-named key
_SECRET_PATH = re.compile(r"(?:^|/)(?:data|stringData|binaryData)(?:/|$)")
#: the body fields of an audit event, left out of rejects and raw lines shown
BODY_KEYS = ("requestObject", "responseObject")
#: how much of a line that cannot be read is kept (after scrubbing): enough to find it
SCRUBBED_LINE_LIMIT = 2048


def mark(value: Any, key: bytes) -> str:
    """The mark that stands for ``value``: a keyed hash of its text (a string as it is, any
    other value as canonical JSON): equal values, equal marks; one dataset's marks are
    comparable with each other only.

    >>> mark("hunter2", b"k") == mark("hunter2", b"k") != mark("hunter3", b"k")
    True
    >>> MARK.fullmatch(mark({"a": 1}, b"k")) is not None
    True
    """
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    )
    keyed = _keyed(key).copy()
    keyed.update(text.encode("utf-8", "surrogatepass"))
    return f"{MARK_PREFIX}{keyed.hexdigest()[:12]}>"


@functools.lru_cache(maxsize=8)
def _keyed(key: bytes) -> hmac.HMAC:
    """The HMAC of ``key`` before any message: copied for each value (cheaper than anew)."""
    return hmac.new(key, digestmod=hashlib.sha256)


@functools.lru_cache(maxsize=4096)
def _secret_key(name: str) -> bool:
    """Does the key ``name`` say secret? (Cached: bodies repeat the same few hundred keys.)"""
    return bool(SECRET_KEY.match(name))


def _redact_value(value: Any, key: bytes) -> Any:
    """A secret value as a mark: nothing (null), a boolean and a mark already stay; an object
    or a list has each of its values marked, but the references in it (``REFERENCE_KEY``)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and MARK.fullmatch(value):
        return value  # redacted before (an event unwrapped, then read by SQL)
    if isinstance(value, list):
        return [_redact_value(item, key) for item in value]
    if isinstance(value, dict):
        return {
            k: v if REFERENCE_KEY.search(k) and not _secret_key(k) else _redact_value(v, key)
            for k, v in value.items()
        }
    return mark(value, key)


def redact_body(value: Any, key: bytes) -> Any:
    """``value`` (a decoded JSON value) with every secret value in it replaced by a mark.

    >>> secret = {"kind": "Secret", "data": {"password": "aHVudGVyMg=="}, "type": "Opaque"}
    >>> out = redact_body(secret, b"k")
    >>> out["kind"], out["type"], MARK.fullmatch(out["data"]["password"]) is not None
    ('Secret', 'Opaque', True)
    >>> redact_body({"spec": {"token": "eyJhbGciOi", "automountServiceAccountToken": True}}, b"k")
    ... # doctest: +ELLIPSIS
    {'spec': {'token': '<redacted:...>', 'automountServiceAccountToken': True}}
    """
    if isinstance(value, list):
        return [_redact_patch_op(item, key) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    secret_name = isinstance(value.get("name"), str) and _secret_key(value["name"])
    for name, item in value.items():
        if name in DATA_KEYS:
            if isinstance(item, dict):
                out[name] = {k: _redact_value(v, key) for k, v in item.items()}
            else:
                out[name] = _redact_value(item, key)
        elif _secret_key(name) or (name == "value" and secret_name):
            out[name] = _redact_value(item, key)
        elif name == "annotations" and isinstance(item, dict):
            out[name] = {k: _redact_annotation(k, v, key) for k, v in item.items()}
        elif isinstance(item, dict | list):
            out[name] = redact_body(item, key)
        else:
            out[name] = item
    return out


def _redact_patch_op(item: Any, key: bytes) -> Any:
    """An item of a list; a JSON-patch operation on a secret path gets its ``value`` marked."""
    redacted = redact_body(item, key)
    if isinstance(redacted, dict) and isinstance(redacted.get("path"), str):
        path = redacted["path"]
        secret = _SECRET_PATH.search(path) or any(_secret_key(p) for p in path.split("/") if p)
        if secret and "value" in redacted:
            redacted["value"] = _redact_value(item["value"], key)
    return redacted


def _redact_annotation(name: str, value: Any, key: bytes) -> Any:
    if name != LAST_APPLIED:
        return redact_body(value, key) if not _secret_key(name) else _redact_value(value, key)
    if not isinstance(value, str):
        return _redact_value(value, key)
    try:
        applied = json.loads(value)
    except ValueError:
        return _redact_value(value, key)
    return json.dumps(redact_body(applied, key), separators=(",", ":"), ensure_ascii=False)


def redact_json_text(text: str | None, key: bytes) -> str | None:
    """A JSON text with its secret values marked, compact (``redact_body``); a text that is not
    JSON becomes one mark.

    >>> redact_json_text('{"stringData": {"a": "b"}}', b"k")  # doctest: +ELLIPSIS
    '{"stringData":{"a":"<redacted:...>"}}'
    """
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return json.dumps(mark(text, key))
    return json.dumps(redact_body(value, key), separators=(",", ":"), ensure_ascii=False)


def register_redact_body(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Create the SQL function ``redact_body(VARCHAR) -> VARCHAR`` (``redact_json_text`` with
    ``key``) on ``con``; NULL stays NULL without a call."""
    import pyarrow as pa
    from duckdb.func import ARROW

    def redact_batch(texts: Any) -> Any:  # pyarrow arrays (DuckDB evaluates the annotations)
        return pa.array([redact_json_text(t, key) for t in texts.to_pylist()], pa.string())

    con.create_function(
        "redact_body", redact_batch, ["VARCHAR"], "VARCHAR", type=ARROW, side_effects=False
    )


# -- lines that may not be JSON at all ------------------------------------------------------------

#: a key in a line that is not JSON: quoted (``"key":``, also escaped inside a JSON string:
#: ``\\"key\\":``), YAML (``key:`` at the start of a line) or text (``key=``)
_KEY_TOKEN = re.compile(
    r'\\*"(?P<quoted>[^"\\\n]{1,200})\\*"\s*:|^[ \t-]*(?P<yaml>[\w./-]{1,200})[ \t]*:'
    r"|(?P<text>[\w./-]{1,200})=",
    re.MULTILINE,
)


def _cut_here(name: str) -> bool:
    return name in BODY_KEYS or name in DATA_KEYS or _secret_key(name)


def scrub_line(
    text: str, key: bytes, limit: int | None = SCRUBBED_LINE_LIMIT, *, bodies: bool = False
) -> str:
    """A line k8saudit keeps or shows although it could not be read (a reject), or reads back
    from a log (``event``), made safe: without bodies or secret values, and at most ``limit``
    characters (None: all).

    A line that is a JSON object has its ``requestObject``/``responseObject`` replaced by marks
    (redacted as ``ingest --keep-bodies`` keeps them when ``bodies``) and the rest redacted as
    ``redact_body`` does (strings holding a JSON object, such as an EKS
    ``message``, are scrubbed the same way). Any other line (cut short, malformed, YAML, text) is
    cut after the first key that starts a body, a ``data`` key or a secret-named key (quoted,
    YAML ``key:`` or ``key=``): what comes after it is not kept. Either way the start of the line
    stays, so that it can be found in its file.

    >>> scrub_line('{"auditID":"a","verb":"create","requestObject":{"data":{"p":"c2Vj', b"k")
    '{"auditID":"a","verb":"create","requestObject": <cut>'
    >>> scrub_line('{"auditID":"a","requestObject":{"data":{"p":"c2Vj"}}}', b"k")
    ... # doctest: +ELLIPSIS
    '{"auditID":"a","requestObject":"<redacted:...>"}'
    """
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, dict):
            scrubbed = _scrub_json(value, key, bodies)
            if scrubbed == value:  # nothing to hide: the line as it was
                return _limit(text, limit)
            return _limit(json.dumps(scrubbed, separators=(",", ":")), limit)
    for match in _KEY_TOKEN.finditer(text):
        name = match["quoted"] or match["yaml"] or match["text"]
        if _cut_here(name):
            return _limit(text[: match.end()] + " <cut>", limit)
    return _limit(text, limit)


def reject_row(file: str, line: int, reason: str, text: str, key: bytes) -> dict[str, Any]:
    """A rejected record as the rejects file keeps it: its text scrubbed (``scrub_line``) and
    said to be (``scrubbed``), so that a reader scrubs only rows written before this was done.

    >>> reject_row("a.log", 3, "invalid JSON", '{"token": "abc', b"k")["text"]
    '{"token": <cut>'
    """
    return {"file": file, "line": line, "reason": reason, "text": scrub_line(text, key),
            "scrubbed": True}  # fmt: skip


def _body_mark(body: Any, key: bytes) -> Any:
    """A whole body as one mark (none stays none, a mark stays)."""
    if body is None or (isinstance(body, str) and MARK.fullmatch(body)):
        return body
    return mark(body, key)


def _scrub_json(value: Any, key: bytes, bodies: bool) -> Any:
    if isinstance(value, dict):
        kept = {
            k: (redact_body(v, key) if bodies else _body_mark(v, key))
            if k in BODY_KEYS
            else _scrub_json(v, key, bodies)
            for k, v in value.items()
        }
        return redact_body(kept, key)
    if isinstance(value, list):
        return [_scrub_json(v, key, bodies) for v in value]
    if isinstance(value, str) and value.lstrip().startswith("{"):
        # an event carried as a string (EKS, AKS)
        return scrub_line(value, key, None, bodies=bodies)
    return value


def _limit(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[:limit] + f"... ({len(text) - limit:,} more characters)"
