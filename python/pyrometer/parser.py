"""The Prometheus text format parser, as prometheus_client.parser has it; parsing is native.

:func:`parse_labels` and the escape helpers are the pieces upstream's module offers on their
own; they are written in Python here, with upstream's behaviour and errors.
"""

import re
from typing import Dict, Iterator, Match, TextIO, Tuple

from . import _native
from .metrics_core import Metric
from .samples import Sample as Sample
from .validation import _is_valid_legacy_metric_name, _validate_labelname, _validate_metric_name


def text_string_to_metric_families(text: str) -> Iterator[Metric]:
    """The metric families of a text exposition. A bad line raises ``ValueError`` when reached."""
    yield from _native.parse_text(text)


def text_fd_to_metric_families(fd: TextIO) -> Iterator[Metric]:
    """The metric families of a text exposition read from a file."""
    yield from _native.parse_text(fd.read())


#: The escape sequences of label values (and, but for ``\\"``, of help text), and what they stand for.
ESCAPE_SEQUENCES = {
    "\\\\": "\\",
    "\\n": "\n",
    '\\"': '"',
}

#: The escape sequences of help text: ``\\`` and ``\n``.
HELP_ESCAPING_RE = re.compile(r"\\[\\n]")
#: The escape sequences of label names and values: ``\\``, ``\n`` and ``\"``.
ESCAPING_RE = re.compile(r'\\[\\n"]')


def replace_escape_sequence(match: Match[str]) -> str:
    """What the escape sequence matched stands for: a ``re.sub`` replacement function."""
    return ESCAPE_SEQUENCES[match.group(0)]


def _is_character_escaped(s: str, charpos: int) -> bool:
    """Whether an odd number of backslashes precede ``s[charpos]``."""
    backslashes = 0
    while charpos > backslashes and s[charpos - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _next_unquoted_char(text: str, chars: str, start: int = 0) -> int:
    """The position of the first of ``chars`` at or after ``start`` outside double quotes
    (``text`` is taken to be outside quotes at ``start``), or -1."""
    quoted = False
    for position in range(start, len(text)):
        char = text[position]
        if char == '"' and not _is_character_escaped(text, position):
            quoted = not quoted
        elif not quoted and char in chars:
            return position
    return -1


def _unquote_unescape(text: str) -> Tuple[str, bool]:
    """``text`` stripped, its surrounding double quotes removed and escapes replaced; and
    whether it was quoted. An opening quote without a closing one raises ``ValueError``."""
    if not text:
        return text, False
    text = text.strip()
    quoted = text[0] == '"'
    if quoted:
        if len(text) == 1 or text[-1] != '"':
            raise ValueError("missing close quote")
        text = text[1:-1]
    if "\\" in text:
        text = ESCAPING_RE.sub(replace_escape_sequence, text)
    return text, quoted


def _next_term(text: str, openmetrics: bool) -> Tuple[str, str, str]:
    """Splits off the first term of a label list: its name (``__name__`` for a term without
    ``=``, as a quoted metric name is written), its value text, and the rest from the ``,``
    or ``}`` that ends it, the latter two stripped."""
    if text[0] == ",":
        text = text[1:]
        if not text:
            return "", "", ""
        if text[0] == ",":
            raise ValueError("multiple commas")
    end = _next_unquoted_char(text, "=,}")
    if end >= 0 and text[end] == "=":
        name = text[:end]
        text = text[end + 1 :]
        end = _next_unquoted_char(text, ",}")
    else:
        name = "__name__"
    if end == -1:
        end = len(text)
    value = text[:end]
    if openmetrics and not value:
        raise ValueError("empty term:", value)
    return name, value.strip(), text[end:].strip()


def _closing_quote_ends(value: str) -> bool:
    """Whether the first unescaped double quote after the opening one is ``value``'s last
    character; ``ValueError`` if there is none."""
    position = 1
    while position < len(value):
        position = value.index('"', position)
        if not _is_character_escaped(value, position):
            break
        position += 1
    return position + 1 == len(value)


def parse_labels(labels_string: str, openmetrics: bool = False) -> Dict[str, str]:
    """The labels written between a sample's braces, e.g. ``a="1",b="2"``, as a dict.

    Label names may be quoted (UTF-8 names must be); a quoted name alone, as in
    ``{"my.metric", a="1"}``, is the ``__name__`` label. Malformed text raises ``ValueError``
    (``Invalid labels: ...``); ``openmetrics`` also refuses leading and empty terms.
    """
    labels: Dict[str, str] = {}
    rest = labels_string.strip()
    if openmetrics and rest and rest[0] == ",":
        raise ValueError("leading comma: " + labels_string)
    try:
        while rest:
            name_text, value, rest = _next_term(rest, openmetrics)
            if not value:
                # A stray "}" would come back as the rest for ever (upstream's loop hangs there).
                if openmetrics or rest[:1] == "}":
                    raise ValueError("empty term in line: " + labels_string)
                continue
            name, quoted = _unquote_unescape(name_text)
            if not quoted and not _is_valid_legacy_metric_name(name):
                raise ValueError("unquoted UTF-8 metric name")
            if value[0] != '"':
                raise ValueError("missing opening quote")
            if not _closing_quote_ends(value):
                raise ValueError("unexpected text after quote: " + labels_string)
            if name == "__name__":
                _validate_metric_name(name)
            else:
                _validate_labelname(name)
            if name in labels:
                raise ValueError("invalid line, duplicate label name: " + labels_string)
            labels[name] = _unquote_unescape(value)[0]
        return labels
    except ValueError as error:
        raise ValueError("Invalid labels: " + labels_string) from error
