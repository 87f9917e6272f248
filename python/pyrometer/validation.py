"""Metric and label name checks, as prometheus_client.validation makes them.

By default any UTF-8 name is accepted; legacy validation restricts names to the classic
``[a-zA-Z_:][a-zA-Z0-9_:]*`` form. The environment variable
``PROMETHEUS_LEGACY_NAME_VALIDATION`` picks the starting mode.
"""

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, Callable

METRIC_NAME_RE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*$')
METRIC_LABEL_NAME_RE = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*$')
RESERVED_METRIC_LABEL_NAME_RE = re.compile(r'^__.*$')

_EXEMPLAR_RUNE_LIMIT = 128


def _init_legacy_validation() -> bool:
    """Read the starting validation mode from the environment."""
    setting = os.environ.get("PROMETHEUS_LEGACY_NAME_VALIDATION", "False")
    return setting.lower() in {"true", "1", "t"}


_legacy_validation = _init_legacy_validation()

# Called with the new mode whenever it changes; the native metrics follow it through this (the
# module itself stays pure Python, importable without the native module).
_listeners: list[Callable[[bool], None]] = []


def _follow(listener: Callable[[bool], None]) -> None:
    """Calls ``listener`` with the mode now and at every change."""
    _listeners.append(listener)
    listener(_legacy_validation)


def get_legacy_validation() -> bool:
    """Whether legacy (pre-UTF-8) name validation is in force."""
    return _legacy_validation


def disable_legacy_validation() -> None:
    """Accept any UTF-8 metric and label name."""
    global _legacy_validation
    _legacy_validation = False
    for listener in _listeners:
        listener(False)


def enable_legacy_validation() -> None:
    """Accept only classic metric and label names."""
    global _legacy_validation
    _legacy_validation = True
    for listener in _listeners:
        listener(True)


def _check_utf8(name: str) -> None:
    """Raise UnicodeEncodeError (a ValueError) for text that has no UTF-8 form, e.g. lone surrogates."""
    name.encode("utf-8")


def _validate_metric_name(name: str) -> None:
    """Raise ValueError unless `name` is a metric name under the current validation mode."""
    if not name:
        raise ValueError("metric name cannot be empty")
    if _legacy_validation and not METRIC_NAME_RE.match(name):
        raise ValueError("invalid metric name " + name)
    _check_utf8(name)


def _is_valid_legacy_metric_name(name: str) -> bool:
    """Whether `name` is a classic metric name."""
    return len(name) > 0 and METRIC_NAME_RE.match(name) is not None


def _validate_metric_label_name_token(tok: str) -> None:
    """Raise ValueError for a bad label name token from a parser; UTF-8 names must come quoted."""
    if not tok:
        raise ValueError("invalid label name token " + tok)
    is_quoted = tok[0] == '"' and tok[-1] == '"'
    if _legacy_validation or not is_quoted:
        if not METRIC_LABEL_NAME_RE.match(tok):
            raise ValueError("invalid label name token " + tok)
        return
    _check_utf8(tok)


def _validate_labelname(l: str) -> None:  # noqa: E741 - upstream's parameter name
    """Raise ValueError unless `l` is a usable label name under the current validation mode."""
    if get_legacy_validation():
        if not METRIC_LABEL_NAME_RE.match(l):
            raise ValueError("Invalid label metric name: " + l)
    else:
        _check_utf8(l)
    if RESERVED_METRIC_LABEL_NAME_RE.match(l):
        raise ValueError("Reserved label metric name: " + l)


def _is_valid_legacy_labelname(l: str) -> bool:  # noqa: E741 - upstream's parameter name
    """Whether `l` is a classic, non-reserved label name."""
    if len(l) == 0 or METRIC_LABEL_NAME_RE.match(l) is None:
        return False
    return RESERVED_METRIC_LABEL_NAME_RE.match(l) is None


def _validate_labelnames(cls: Any, labelnames: Iterable[str]) -> tuple[str, ...]:
    """Check each label name, also against `cls._reserved_labelnames`; return them as a tuple."""
    names = tuple(labelnames)
    for name in names:
        _validate_labelname(name)
        if name in cls._reserved_labelnames:
            # The garbled wording is upstream's own message text, kept for identical errors.
            raise ValueError("Reserved label methe fric name: " + name)
    return names


def _validate_exemplar(exemplar: Mapping[str, str]) -> None:
    """Raise ValueError for bad exemplar label names or more than 128 characters of labels."""
    runes = 0
    for key, value in exemplar.items():
        _validate_labelname(key)
        runes += len(key) + len(value)
    if runes > _EXEMPLAR_RUNE_LIMIT:
        # Upstream never fills in the placeholder; the text is kept as it raises it.
        raise ValueError("Exemplar labels have %d UTF-8 characters, exceeding the limit of 128")
