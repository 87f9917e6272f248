"""The metric classes, as prometheus_client.metrics has them.

They are the native classes themselves, not Python subclasses: a call such as ``counter.inc()``
goes straight to Rust with no Python frame and no extra lookup. ``time()`` returns a native
timer; ``count_exceptions()`` and ``track_inprogress()`` return the context managers of
:mod:`pyrometer.context_managers`. A new top-level metric registers itself in ``registry``
(``REGISTRY`` unless given; ``None`` for none), as upstream's do.

:class:`MetricWrapperBase` is what they all are an instance of, and the base for a metric type
written in Python, which keeps its values in :mod:`pyrometer.values`.

``_use_created`` reads and sets the switch for ``_created`` samples, as upstream's module
global does: ``metrics._use_created = False`` is ``disable_created_metrics()``.
"""

import os
import sys
import types
import warnings
from threading import Lock
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Tuple, TypeVar

from . import _native
from . import values as values
from .context_managers import ExceptionCounter as ExceptionCounter
from .context_managers import InprogressTracker as InprogressTracker
from .context_managers import Timer as Timer
from .metrics_core import Metric as Metric
from .registry import REGISTRY as REGISTRY
from .registry import Collector as Collector
from .registry import CollectorRegistry as CollectorRegistry
from .samples import Exemplar as Exemplar
from .samples import Sample as Sample
from .utils import INF as INF
from .utils import floatToGoString as floatToGoString
from .validation import _validate_exemplar as _validate_exemplar
from .validation import _validate_labelnames as _validate_labelnames
from .validation import _validate_metric_name as _validate_metric_name
from .validation import _follow as _follow_validation_mode

Counter = _native.Counter
Gauge = _native.Gauge
Summary = _native.Summary
Histogram = _native.Histogram
Info = _native.Info
Enum = _native.Enum

# Native metrics and exemplars check names by the mode `validation` is in.
_follow_validation_mode(_native.set_legacy_validation)

T = TypeVar("T", bound="MetricWrapperBase")
F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "Counter",
    "Enum",
    "Gauge",
    "Histogram",
    "Info",
    "MetricWrapperBase",
    "Summary",
    "disable_created_metrics",
    "enable_created_metrics",
]

def _build_full_name(metric_type: Optional[str], name: str, namespace: str, subsystem: str, unit: str) -> str:
    """The exposed name of a metric: ``namespace_subsystem_name_unit``, a counter's ``_total``
    dropped; raises ``ValueError`` for an empty name, or a unit on an info or state set."""
    if not name:
        raise ValueError("Metric name should not be empty")
    full_name = "_".join(part for part in (namespace, subsystem) if part)
    full_name = f"{full_name}_{name}" if full_name else name
    if metric_type == "counter" and full_name.endswith("_total"):
        full_name = full_name[: -len("_total")]
    if unit and not full_name.endswith("_" + unit):
        full_name += "_" + unit
    if unit and metric_type in ("info", "stateset"):
        raise ValueError("Metric name is of a type that cannot have a unit: " + full_name)
    return full_name


def _get_use_created() -> bool:
    """Whether ``_created`` samples are wanted per the environment: yes unless
    ``PROMETHEUS_DISABLE_CREATED_SERIES`` is ``true``, ``1`` or ``t`` (any case)."""
    return os.environ.get("PROMETHEUS_DISABLE_CREATED_SERIES", "False").lower() not in ("true", "1", "t")


disable_created_metrics = _native.disable_created_metrics
enable_created_metrics = _native.enable_created_metrics
# The switch itself lives natively; `_use_created` reads it.
_created_enabled = _native.created_enabled


_use_created: bool  # a property of the module's class, below


class MetricWrapperBase(Collector):
    """What every metric is an instance of, and the base of a metric type written in Python.

    pyrometer's metric classes are native and registered here as virtual subclasses, so
    ``isinstance``, ``issubclass`` and annotations work; they do not inherit from this class.
    A Python subclass gets upstream's machinery: the full name, label checks, a child per label
    set, registration and ``collect()``. It sets ``_type`` and implements ``_metric_init()``
    (making its values, e.g. ``values.ValueClass(...)``) and ``_child_samples()``. Its series
    are collected through Python, as any custom collector's.
    """

    _type: Optional[str] = None
    _reserved_labelnames: Sequence[str] = ()

    def __init__(
        self: T,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = (),
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
        registry: Optional[CollectorRegistry] = REGISTRY,
        _labelvalues: Optional[Sequence[str]] = None,
    ) -> None:
        self._original_name = name
        self._namespace = namespace
        self._subsystem = subsystem
        self._name = _build_full_name(self._type, name, namespace, subsystem, unit)
        self._labelnames = _validate_labelnames(self, labelnames)
        self._labelvalues = tuple(_labelvalues or ())
        # Constructor arguments of a subclass that its children must get too.
        self._kwargs: Dict[str, Any] = {}
        self._documentation = documentation
        self._unit = unit
        _validate_metric_name(self._name)
        if self._is_parent():
            self._lock = Lock()
            self._metrics: Dict[Tuple[str, ...], Any] = {}
        if self._is_observable():
            self._metric_init()
        if not self._labelvalues and registry:
            registry.register(self)

    def _is_observable(self) -> bool:
        # A metric without labels, or a child: the ones that hold values.
        return not self._labelnames or bool(self._labelvalues)

    def _raise_if_not_observable(self) -> None:
        if not self._is_observable():
            raise ValueError(f"{self._type} metric is missing label values")

    def _is_parent(self) -> bool:
        return bool(self._labelnames) and not self._labelvalues

    def _get_metric(self) -> Metric:
        return Metric(self._name, self._documentation, self._type, self._unit)  # type: ignore[arg-type]

    def describe(self) -> Iterable[Metric]:
        """The metric family, without samples."""
        return [self._get_metric()]

    def collect(self) -> Iterable[Metric]:
        """The metric family with the samples of this metric or of all its children."""
        metric = self._get_metric()
        for suffix, labels, value, timestamp, exemplar, native_histogram in self._samples():
            metric.add_sample(self._name + suffix, labels, value, timestamp, exemplar, native_histogram)
        return [metric]

    def __str__(self) -> str:
        return f"{self._type}:{self._name}"

    def __repr__(self) -> str:
        cls = type(self)
        return f"{cls.__module__}.{cls.__name__}({self._name})"

    def labels(self: T, *labelvalues: Any, **labelkwargs: Any) -> T:
        """The child for these label values, given in order or by name; made on first use."""
        if not self._labelnames:
            raise ValueError(f"No label names were set when constructing {self}")
        if self._labelvalues:
            already = dict(zip(self._labelnames, self._labelvalues))
            raise ValueError(f"{self} already has labels set ({already}); can not chain calls to .labels()")
        if labelvalues and labelkwargs:
            raise ValueError("Can't pass both *args and **kwargs")
        if labelkwargs:
            if sorted(labelkwargs) != sorted(self._labelnames):
                raise ValueError("Incorrect label names")
            key = tuple(str(labelkwargs[name]) for name in self._labelnames)
        else:
            if len(labelvalues) != len(self._labelnames):
                raise ValueError("Incorrect label count")
            key = tuple(str(value) for value in labelvalues)
        with self._lock:
            child: Optional[T] = self._metrics.get(key)
            if child is None:
                # Children are built from the name as given, so the full name is built once.
                kwargs = {k: v for k, v in self._kwargs.items() if k not in ("namespace", "subsystem", "unit")}
                child = self._metrics[key] = type(self)(
                    getattr(self, "_original_name", self._name),
                    documentation=self._documentation,
                    labelnames=self._labelnames,
                    namespace=getattr(self, "_namespace", ""),
                    subsystem=getattr(self, "_subsystem", ""),
                    unit=getattr(self, "_unit", ""),
                    _labelvalues=key,
                    **kwargs,
                )
            return child

    def remove(self, *labelvalues: Any) -> None:
        """Drops the child of these label values, if there is one."""
        _warn_in_multiprocess_mode("Removal of labels has not been implemented in  multi-process mode yet.")
        if not self._labelnames:
            raise ValueError(f"No label names were set when constructing {self}")
        if len(labelvalues) != len(self._labelnames):
            raise ValueError(f"Incorrect label count (expected {len(self._labelnames)}, got {labelvalues})")
        key = tuple(str(value) for value in labelvalues)
        with self._lock:
            self._metrics.pop(key, None)

    def remove_by_labels(self, labels: Dict[str, str]) -> None:
        """Drops every child whose labels include all of ``labels``; ``{}`` drops none."""
        _warn_in_multiprocess_mode("Removal of labels has not been implemented in  multi-process mode yet.")
        if not self._labelnames:
            raise ValueError(f"No label names were set when constructing {self}")
        if not isinstance(labels, dict):
            raise TypeError("labels must be a dict of {label_name: label_value}")
        if not labels:
            return
        unknown = [name for name in labels if name not in self._labelnames]
        if unknown:
            raise ValueError(f"Unknown label names: {unknown}; expected {self._labelnames}")
        wanted = {self._labelnames.index(name): str(value) for name, value in labels.items()}
        with self._lock:
            for key in list(self._metrics):
                if all(key[position] == value for position, value in wanted.items()):
                    self._metrics.pop(key, None)

    def clear(self) -> None:
        """Drops every child; a metric without labels has none."""
        if not self._labelnames:
            return
        _warn_in_multiprocess_mode("Clearing labels has not been implemented in multi-process mode yet")
        with self._lock:
            self._metrics = {}

    def _samples(self) -> Iterable[Sample]:
        return self._multi_samples() if self._is_parent() else self._child_samples()

    def _multi_samples(self) -> Iterable[Sample]:
        with self._lock:
            children = list(self._metrics.items())
        for key, child in children:
            series_labels = dict(zip(self._labelnames, key))
            for suffix, labels, value, timestamp, exemplar, native_histogram in child._samples():
                yield Sample(suffix, {**series_labels, **labels}, value, timestamp, exemplar, native_histogram)

    def _child_samples(self) -> Iterable[Sample]:  # pragma: no cover - a subclass's to write
        """The samples of one series, their names as suffixes of the metric's name."""
        raise NotImplementedError(f"_child_samples() must be implemented by {self!r}")

    def _metric_init(self) -> None:  # pragma: no cover - a subclass's to write
        """Makes the values of one series; called for a metric without labels or a child."""
        raise NotImplementedError(f"_metric_init() must be implemented by {self!r}")


def _warn_in_multiprocess_mode(message: str) -> None:
    if "prometheus_multiproc_dir" in os.environ or "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        warnings.warn(message, UserWarning, stacklevel=3)


for _metric_class in (Counter, Gauge, Summary, Histogram, Info, Enum, _native.SampledCounter):
    MetricWrapperBase.register(_metric_class)
del _metric_class


class _MetricsModule(types.ModuleType):
    """This module's class: it makes ``_use_created`` follow the native switch."""

    @property
    def _use_created(self) -> bool:
        return _created_enabled()

    @_use_created.setter
    def _use_created(self, value: bool) -> None:
        if value:
            enable_created_metrics()
        else:
            disable_created_metrics()


sys.modules[__name__].__class__ = _MetricsModule

if not _get_use_created():
    disable_created_metrics()
