"""Metric classes. Updates (``inc``, ``set``, ``labels``) run natively, with no Python frame."""

from . import _native


class _ValueView:
    """What ``metric._value`` is upstream, for code that reads ``metric._value.get()``."""

    __slots__ = ("_metric",)

    def __init__(self, metric):
        self._metric = metric

    def get(self) -> float:
        return self._metric._get()


class Counter(_native.Counter):
    """A Counter tracks counts of events or running totals; it only goes up."""

    @property
    def _value(self) -> _ValueView:
        return _ValueView(self)


class Gauge(_native.Gauge):
    """A Gauge tracks a value that goes up and down."""

    @property
    def _value(self) -> _ValueView:
        return _ValueView(self)
