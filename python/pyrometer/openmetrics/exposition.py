"""OpenMetrics exposition, as prometheus_client.openmetrics.exposition has it.

Encoding runs natively; the name escaping functions are here for callers that build their own
exposition, and follow the escaping schemes of Prometheus' UTF-8 names proposal.
"""

import sys
from typing import Any, Callable

from .. import _native
from ..utils import floatToGoString, parse_version  # noqa: F401  (importable from here upstream too)
from ..validation import _is_valid_legacy_labelname, _is_valid_legacy_metric_name

CONTENT_TYPE_LATEST = "application/openmetrics-text; version=1.0.0; charset=utf-8"
CONTENT_TYPE_LATEST_2_0 = "application/openmetrics-text; version=2.0.0; charset=utf-8"
ESCAPING_HEADER_TAG = "escaping"

ALLOWUTF8 = "allow-utf-8"
UNDERSCORES = "underscores"
DOTS = "dots"
VALUES = "values"


def generate_latest(registry: Any, escaping: str = UNDERSCORES, version: str = "1.0.0") -> bytes:
    """The registry, or any object with ``collect()``, as OpenMetrics text.

    ``version`` is the negotiated OpenMetrics version: from 2.0.0 on, native histogram samples
    are written (``{count:...,sum:...,schema:...}``); before, they are left out.
    """
    native = getattr(registry, "_generate_openmetrics", None)
    if native is not None:
        return native(escaping, version=version)  # type: ignore[no-any-return]
    return _native.generate_openmetrics(registry.collect(), escaping, version)


def escape_metric_name(s: str, escaping: str = UNDERSCORES) -> str:
    """``s`` as a metric name under the ``escaping`` scheme.

    With ``allow-utf-8`` a name outside the classic ``[a-zA-Z_:][a-zA-Z0-9_:]*`` form is quoted;
    ``underscores`` and ``values`` rewrite only such names, ``dots`` rewrites every name, and an
    unknown scheme leaves the name as it is.
    """
    return _escape_name(s, escaping, _is_valid_legacy_metric_name, _is_legacy_metric_rune)


def escape_label_name(s: str, escaping: str = UNDERSCORES) -> str:
    """``s`` as a label name under the ``escaping`` scheme, as ``escape_metric_name`` does for
    metric names, where the classic form is ``[a-zA-Z_][a-zA-Z0-9_]*`` not starting with ``__``."""
    return _escape_name(s, escaping, _is_valid_legacy_labelname, _is_legacy_labelname_rune)


def _escape_name(
    s: str, escaping: str, is_legacy: Callable[[str], bool], valid_rune_fn: Callable[[str, int], bool]
) -> str:
    if not s:
        return s
    if escaping == ALLOWUTF8:
        escaped = _escape(s, escaping, valid_rune_fn)
        return escaped if is_legacy(s) else f'"{escaped}"'
    if escaping in (UNDERSCORES, VALUES) and is_legacy(s):
        return s
    return _escape(s, escaping, valid_rune_fn)


# What `dots` writes for the characters it rewrites whatever their place.
_DOTS_REWRITES = {"_": "__", ".": "_dot_"}


def _escape(s: str, escaping: str, valid_rune_fn: Callable[[str, int], bool]) -> str:
    """``s`` rewritten by the ``escaping`` scheme, ``valid_rune_fn(char, index)`` telling which
    characters may stay.

    ``allow-utf-8`` only backslash-escapes backslash, newline and double quote (as in label
    values); ``underscores`` writes ``_`` for any other character; ``dots`` writes ``__`` for
    ``_`` and for any other character, and ``_dot_`` for ``.``; ``values`` prefixes ``U__``,
    doubles ``_`` and writes any other character as ``_<hex code point>_`` (``_FFFD_`` for a
    lone surrogate).
    """
    if escaping == ALLOWUTF8:
        return s.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    if escaping == UNDERSCORES:
        return "".join(c if valid_rune_fn(c, i) else "_" for i, c in enumerate(s))
    if escaping == DOTS:
        return "".join(
            _DOTS_REWRITES.get(c) or (c if valid_rune_fn(c, i) else "__") for i, c in enumerate(s)
        )
    if escaping == VALUES:
        parts = ["U__"]
        for i, c in enumerate(s):
            if c == "_":
                parts.append("__")
            elif valid_rune_fn(c, i):
                parts.append(c)
            elif not _is_valid_utf8(c):
                parts.append("_FFFD_")
            else:
                parts.append(f"_{ord(c):x}_")
        return "".join(parts)
    return s


def _is_legacy_metric_rune(b: str, i: int) -> bool:
    """Whether character ``b`` may stand at index ``i`` of a classic metric name."""
    return b == ":" or _is_legacy_labelname_rune(b, i)


def _is_legacy_labelname_rune(b: str, i: int) -> bool:
    """Whether character ``b`` may stand at index ``i`` of a classic label name: an ASCII
    letter or ``_`` anywhere, an ASCII digit after the first place."""
    if len(b) != 1:
        raise ValueError("Input 'b' must be a single character.")
    if b.isascii() and (b.isalpha() or b == "_"):
        return True
    return i > 0 and b.isascii() and b.isdigit()


# UTF-16 surrogates, which are not characters: UTF-8 cannot encode them.
_SURROGATES = range(0xD800, 0xE000)


def _is_valid_utf8(s: str) -> bool:
    """Whether the character ``s`` has a UTF-8 encoding (is not a lone surrogate)."""
    return 0 <= ord(s) <= sys.maxunicode and ord(s) not in _SURROGATES
