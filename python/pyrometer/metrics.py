"""Metric classes. Updates (``inc``, ``set``, ``observe``, ``labels``) run natively, with no Python frame."""

from typing import Any, Iterable, Optional, Sequence, Tuple, Type, Union

from . import _native
from .context_managers import ExceptionCounter, InprogressTracker, Timer
from .registry import REGISTRY, CollectorRegistry

disable_created_metrics = _native.disable_created_metrics
enable_created_metrics = _native.enable_created_metrics


class _Registered:
    """Registers a new top-level metric in its registry, as upstream's constructors do.

    The native ``__new__`` builds the metric; registering here, once the object exists, lets
    the registry hand back this very object (``_names_to_collectors``). Children skip it.
    """

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = (),
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
        registry: Optional[CollectorRegistry] = REGISTRY,
        _labelvalues: Optional[Sequence[str]] = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if registry is not None and not _labelvalues:
            registry.register(self)


class _ValueView:
    """What ``metric._value`` is upstream, for code that reads ``metric._value.get()``."""

    __slots__ = ("_metric",)

    def __init__(self, metric: Union[_native.Counter, _native.Gauge]) -> None:
        self._metric = metric

    def get(self) -> float:
        """The current value."""
        return self._metric._get()


class Counter(_Registered, _native.Counter):
    """A Counter tracks counts of events or running totals; it only goes up."""

    @property
    def _value(self) -> _ValueView:
        return _ValueView(self)

    def count_exceptions(
        self, exception: Union[Type[BaseException], Tuple[Type[BaseException], ...]] = Exception
    ) -> ExceptionCounter:
        """Counts exceptions leaving a block or function, as a context manager or decorator."""
        self._get()  # raises, as upstream does, on a parent that has labels
        return ExceptionCounter(self, exception)


class Gauge(_Registered, _native.Gauge):
    """A Gauge tracks a value that goes up and down."""

    @property
    def _value(self) -> _ValueView:
        return _ValueView(self)

    def track_inprogress(self) -> InprogressTracker:
        """Raises the gauge while a block or function runs."""
        self._get()
        return InprogressTracker(self)

    def time(self) -> Timer:
        """Sets the gauge to the duration of a block or function, in seconds."""
        self._get()
        return Timer(self, "set")


class Summary(_Registered, _native.Summary):
    """A Summary tracks the count and sum of observations."""

    def time(self) -> Timer:
        """Observes the duration of a block or function, in seconds."""
        return Timer(self, "observe")


class Histogram(_Registered, _native.Histogram):
    """A Histogram counts observations in buckets."""

    DEFAULT_BUCKETS = (.005, .01, .025, .05, .075, .1, .25, .5, .75, 1.0, 2.5, 5.0, 7.5, 10.0, float("inf"))

    def time(self) -> Timer:
        """Observes the duration of a block or function, in seconds."""
        return Timer(self, "observe")


class Info(_Registered, _native.Info):
    """Info metric: constant key-value pairs such as build information."""


class Enum(_Registered, _native.Enum):
    """Enum metric: which one of a set of states holds."""
