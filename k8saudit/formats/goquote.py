"""Go string literals (``%q``, ``strconv.Quote``) as the API server prints them, decoded.

Every text-era log quotes its values the Go way: the structured and 1.18-1.19 access logs
(``userAgent="..."``) and the legacy text audit log (``user="..."``, whose ``groups`` value is
itself a list of quoted strings). Go's escape set is not JSON's (``\\x``, ``\\a``, ``\\v``,
three-digit octal, ``\\U`` with eight digits), and invalid UTF-8 in a header is printed as
``\\xHH`` bytes, so the strings get their own small decoder, shared by both parsers.
"""

from __future__ import annotations

import re

_GO_ESCAPE_RE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.S)
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
}


def unquote_go(value: str) -> str:
    """Decode a Go ``%q``/``strconv.Quote`` string literal (with or without its quotes).

    ``\\xHH`` byte escapes (invalid UTF-8 in the original) decode to U+00HH.

    >>> unquote_go('"caf\\\\u00e9 \\\\"x\\\\" a\\\\\\\\b"')
    'café "x" a\\\\b'
    """
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        value = value[1:-1]
    if "\\" not in value:
        return value
    decoded = _GO_ESCAPE_RE.sub(_go_escape, value)
    if "\\u" in value:  # join JSON-style surrogate pairs; a lone surrogate becomes U+FFFD
        decoded = decoded.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return decoded


def _go_escape(match: re.Match[str]) -> str:
    """Replacement for one Go escape sequence (helper of ``unquote_go``).

    >>> _go_escape(re.match(r"\\\\(.)", "\\\\n"))
    '\\n'
    """
    esc = match.group(1)
    head = esc[0]
    if head in "xuU" and len(esc) > 1:
        code = int(esc[1:], 16)
        if head == "U" and (code > 0x10FFFF or 0xD800 <= code <= 0xDFFF):
            return "\ufffd"
        return chr(code)
    if head in "01234567" and len(esc) == 3:
        return chr(int(esc, 8))
    return _SIMPLE_ESCAPES.get(esc, esc)
