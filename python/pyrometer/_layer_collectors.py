"""The registry layer's specs and the collectors made from them (re-exported by
:mod:`pyrometer.prometheus_registry`, which documents the layer).

A collector keeps its values in one native metric. Writes (``increment``, ``set``, ``observe``)
create the series of a label set; reads (``get``, ``get_sum``, ``get_buckets``,
``get_quantile``, ``get_all``) never do: an unseen label set reads as zero (``None`` for a
quantile) and neither shows in a scrape nor counts against a series limit.

Labels are a dict of every label name to its value (``None`` for a metric without labels); one
missing or unknown name raises ``ValueError: <name> needs labels [...]``, on reads and writes
alike.
"""

from __future__ import annotations

import operator
import re
import time
import types
import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Tuple, Type

from . import _native

Labels = Optional[Mapping[str, str]]


def _values_getter(names: Tuple[str, ...]) -> Any:
    """A function from a labels mapping to its values for ``names``, as a tuple, in that order
    (``KeyError`` for a missing one)."""
    if len(names) == 1:
        (name,) = names
        return lambda labels: (labels[name],)
    return operator.itemgetter(*names) if names else lambda labels: ()


class MetricType(Enum):
    """The kinds of metric a spec can declare."""

    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"
    SUMMARY = "summary"
    INFO = "info"


@dataclass(frozen=True)
class MetricSpec:
    """What a metric is: its name parts, help, label names and type-specific settings.

    ``max_series`` bounds the label sets of the metric (beyond it they fold into one overflow
    series); ``multiprocess_mode`` is a gauge's, as in prometheus_client. The
    ``native_histogram_*`` settings make a histogram's series native histograms, as the same
    keywords of ``Histogram`` do (classic buckets beside when ``buckets`` is given too).
    """

    name: str
    description: str = ""
    labels: Tuple[str, ...] = ()
    namespace: str = ""
    subsystem: str = ""
    buckets: Optional[Tuple[float, ...]] = None
    metric_type: MetricType = MetricType.COUNTER
    unit: str = ""
    multiprocess_mode: str = "all"
    max_series: Optional[int] = None
    quantiles: Tuple[float, ...] = (0.5, 0.9, 0.99)
    max_age_seconds: float = 600.0
    max_samples: int = 2048
    native_histogram_bucket_factor: Optional[float] = None
    native_histogram_zero_threshold: Optional[float] = None
    native_histogram_max_buckets: Optional[int] = None
    native_histogram_min_reset_duration: Optional[float] = None
    native_histogram_max_zero_threshold: Optional[float] = None

    def __post_init__(self) -> None:
        # Lists are accepted and kept as tuples, so that specs compare and hash by value.
        object.__setattr__(self, "labels", tuple(self.labels))
        if self.buckets is not None:
            object.__setattr__(self, "buckets", tuple(float(b) for b in self.buckets))
        object.__setattr__(self, "quantiles", tuple(float(q) for q in self.quantiles))

    def full_name(self) -> str:
        """``namespace_subsystem_name``, leaving out the parts that are empty."""
        return "_".join(part for part in (self.namespace, self.subsystem, self.name) if part)


@dataclass
class MetricValue:
    """One sample: what :meth:`MetricsRegistry.collect_all` returns."""

    name: str
    value: float
    labels: Dict[str, str] = field(default_factory=dict)
    metric_type: MetricType = MetricType.COUNTER
    timestamp: float = field(default_factory=time.time)


@dataclass(frozen=True)
class HistogramBucket:
    """A histogram bucket: observations less than or equal to ``upper_bound`` (cumulative)."""

    upper_bound: float
    count: float


# Anything but what plain StatsD keeps in a name segment; `.` included, since it would split
# one label value into several segments.
_NOT_SEGMENT = re.compile(r"[^A-Za-z0-9_-]")


def plain_segment(value: str) -> str:
    """A label value as one plain-StatsD name segment: characters other than ASCII letters,
    digits, ``_`` and ``-`` become ``_``, and an empty value is ``_``."""
    return _NOT_SEGMENT.sub("_", value) or "_"


class _Backends:
    """What a collector ships its updates to besides its native metric."""

    def __init__(self, statsd: Optional[_native.StatsdClient] = None, plain: bool = False) -> None:
        self.statsd = statsd
        #: Plain StatsD: label values become name segments, so they are made safe for one.
        self.plain = plain


_NO_BACKENDS = _Backends()


class _Guard:
    """What a collector's next write checks first, while its native metric is not serving
    writes directly (it left its registry, or the collector was given up)."""

    def check(self, collector: "MetricCollector") -> None:
        """Runs before the write."""


class _Retired(_Guard):
    """The guard of a collector its layer gave up: every write fails."""

    def check(self, collector: "MetricCollector") -> None:
        raise ValueError(
            f"metric {collector.spec.full_name()!r} was unregistered from its MetricsRegistry; "
            "register its spec again and write to the collector that returns"
        )


RETIRED = _Retired()


class MetricCollector(ABC):
    """A metric built from a spec. Labels are given as a dict of every label name to its value
    (``None`` for a metric without labels)."""

    spec: MetricSpec
    _metric: Any
    #: The native metric class the values live in.
    _native_class: ClassVar[Any]
    #: The sample `get_all` reports: the total, the value, or the count of observations.
    _primary_suffix: ClassVar[str] = ""
    #: The write methods the native metric serves itself once attached (method name -> native
    #: operation): the plain call, a number and the labels of a series written before, runs
    #: without a Python frame; every other call reaches the method below.
    _native_writes: ClassVar[Mapping[str, str]] = {}

    def __init__(self, spec: MetricSpec, _backends: Optional[_Backends] = None) -> None:
        self.spec = spec
        backends = _backends or _NO_BACKENDS
        self._statsd = backends.statsd
        self._plain = backends.plain
        self._statsd_name = spec.full_name()
        self._series_limit = spec.max_series
        self._guard: Optional[_Guard] = None
        self._metric = self._make_metric()
        self._getter = _values_getter(spec.labels)

    def _attach(self) -> None:
        """Lets the native metric serve the write methods itself: its registry holds it and no
        backend needs to see the writes. Methods a subclass outside this module overrides stay
        its own."""
        self._detach()
        if self._statsd is not None:
            return
        for method, operation in self._native_writes.items():
            owner = next(cls for cls in type(self).__mro__ if method in cls.__dict__)
            if owner.__module__ != __name__:
                continue
            own_method = types.MethodType(owner.__dict__[method], self)
            writer = _native.LayerWrite(self._metric, operation, weakref.WeakMethod(own_method))
            self.__dict__[method] = writer.write

    def _detach(self, guard: Optional[_Guard] = None) -> None:
        """Sends the writes through the Python methods again, each checking ``guard`` first."""
        for method in self._native_writes:
            self.__dict__.pop(method, None)
        self._guard = guard

    def _make_metric(self) -> Any:
        """A new native metric for the spec, not registered anywhere."""
        spec = self.spec
        metric = self._native_class(
            spec.name,
            spec.description,
            spec.labels,
            spec.namespace,
            spec.subsystem,
            spec.unit,
            registry=None,
            **self._native_options(),
        )
        if self._series_limit is not None:
            metric.set_series_limit(self._series_limit)
        return metric

    def _native_options(self) -> Dict[str, Any]:
        """The native class's own constructor arguments (buckets, mode...)."""
        return {}

    def _target(self, child: Any) -> Tuple[str, Optional[Dict[str, str]]]:
        """The StatsD name and tags of a child, from its own label values, so that a label set
        folded into the overflow series is sent folded too. In plain StatsD the values join the
        name, in label-name order, each made safe for one segment (:func:`plain_segment`)."""
        if not self.spec.labels:
            return self._statsd_name, None
        if self._plain:
            segments = [plain_segment(value) for value in child._labelvalues]
            return ".".join([self._statsd_name, *segments]), None
        return self._statsd_name, dict(zip(self.spec.labels, child._labelvalues))

    def _needs_labels(self, labels: Labels) -> ValueError:
        got = "" if labels is None else f", got {sorted(labels)!r}"
        return ValueError(f"{self.spec.full_name()} needs labels {list(self.spec.labels)!r}{got}")

    def _label_values(self, labels: Labels) -> Tuple[Any, ...]:
        """The label values in label-name order (as given: `_existing_child` makes them
        strings), checked as a write checks them."""
        names = self.spec.labels
        if not names:
            if labels:
                raise ValueError(f"{self.spec.full_name()} has no labels, got {dict(labels)!r}")
            return ()
        if labels is None or len(labels) != len(names):
            raise self._needs_labels(labels)
        try:
            values: Tuple[Any, ...] = self._getter(labels)
            return values
        except KeyError:
            raise self._needs_labels(labels) from None

    def _child(self, labels: Labels) -> Any:
        """The series a write goes to, created if it is new."""
        guard = self._guard
        if guard is not None:
            guard.check(self)
        if not self.spec.labels:
            if labels:
                raise ValueError(f"{self.spec.full_name()} has no labels, got {dict(labels)!r}")
            return self._metric
        if labels is None:
            raise self._needs_labels(None)
        try:
            return self._metric.labels(**labels)
        except ValueError as error:
            if set(labels) != set(self.spec.labels):
                raise self._needs_labels(labels) from error
            raise

    def _existing(self, labels: Labels) -> Any:
        """The series of ``labels`` if a write created it, else ``None``; never creates one."""
        values = self._label_values(labels)
        if not values:
            return self._metric
        return self._metric._existing_child(*values)

    def _series_samples(self, labels: Labels) -> Dict[str, List[Any]]:
        """The samples of one existing series, by suffix (``_count``, ``_bucket``...); empty for
        a label set never written."""
        child = self._existing(labels)
        out: Dict[str, List[Any]] = {}
        if child is None:
            return out
        for family in child.collect():
            for sample in family.samples:
                out.setdefault(sample.name[len(family.name) :], []).append(sample)
        return out

    def _read(self, suffix: str, labels: Labels) -> float:
        samples = self._series_samples(labels).get(suffix)
        return float(samples[0].value) if samples else 0.0

    @abstractmethod
    def increment(self, value: float = 1.0, labels: Labels = None) -> None:
        """Adds ``value``."""

    @abstractmethod
    def set(self, value: float, labels: Labels = None) -> None:
        """Sets the value."""

    @abstractmethod
    def observe(self, value: float, labels: Labels = None) -> None:
        """Records an observation."""

    @abstractmethod
    def get(self, labels: Labels = None) -> float:
        """The current value (a histogram's or summary's count); 0 for a label set never
        written, which reading does not create."""

    def get_all(self) -> Dict[Tuple[str, ...], float]:
        """Every series' value (a counter's total, a histogram's or summary's count), by label
        values in label-name order."""
        return self._values_by_labels(self._primary_suffix)

    def samples(self) -> List[MetricValue]:
        """Every sample the metric holds in this process."""
        metric_type = self.spec.metric_type
        return [
            MetricValue(sample.name, sample.value, dict(sample.labels), metric_type)
            for family in self._metric.collect()
            for sample in family.samples
        ]

    def _values_by_labels(self, suffix: str) -> Dict[Tuple[str, ...], float]:
        out: Dict[Tuple[str, ...], float] = {}
        for family in self._metric.collect():
            for sample in family.samples:
                if sample.name == family.name + suffix:
                    out[tuple(sample.labels[name] for name in self.spec.labels)] = sample.value
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"


class Counter(MetricCollector):
    """A total that only goes up."""

    _native_class: ClassVar[Any] = _native.Counter
    _primary_suffix = "_total"
    _native_writes: ClassVar[Mapping[str, str]] = {"increment": "inc", "observe": "inc"}

    def increment(self, value: float = 1.0, labels: Labels = None) -> None:
        child = self._child(labels)
        child.inc(value)
        if self._statsd is not None:
            name, tags = self._target(child)
            self._statsd.count(name, value, tags)

    def set(self, value: float, labels: Labels = None) -> None:
        """Raises the total to ``value``; a counter cannot go down, so a lower value is an error."""
        current = self.get(labels)
        if value < current:
            raise ValueError(f"{self.spec.full_name()} is a counter: it cannot go down from {current} to {value}")
        if value > current:
            self.increment(value - current, labels)

    def observe(self, value: float, labels: Labels = None) -> None:
        """Adds ``value``, as :meth:`increment`."""
        self.increment(value, labels)

    def get(self, labels: Labels = None) -> float:
        child = self._existing(labels)
        return 0.0 if child is None else float(child._get())


class SampledCounter(Counter):
    """A counter for very hot paths: it records each increment with probability ``sample_rate``,
    scaled by ``1 / sample_rate``, so the total is an unbiased estimate. StatsD lines carry the
    rate (``|@0.1``) for the server to scale."""

    def __init__(self, spec: MetricSpec, sample_rate: float = 0.1, _backends: Optional[_Backends] = None) -> None:
        self.sample_rate = sample_rate
        super().__init__(spec, _backends)

    _native_class = _native.SampledCounter
    _native_writes: ClassVar[Mapping[str, str]] = {}

    def _native_options(self) -> Dict[str, Any]:
        return {"sample_rate": self.sample_rate}

    def increment(self, value: float = 1.0, labels: Labels = None) -> None:
        child = self._child(labels)
        child.inc(value)
        if self._statsd is not None:
            name, tags = self._target(child)
            self._statsd.count(name, value, tags, self.sample_rate)


class Gauge(MetricCollector):
    """A value that goes up and down."""

    _native_class: ClassVar[Any] = _native.Gauge
    _native_writes: ClassVar[Mapping[str, str]] = {
        "increment": "inc",
        "decrement": "dec",
        "set": "set",
        "observe": "set",
    }

    def _native_options(self) -> Dict[str, Any]:
        return {"multiprocess_mode": self.spec.multiprocess_mode}

    def _ship(self, child: Any) -> None:
        if self._statsd is not None:
            name, tags = self._target(child)
            self._statsd.gauge(name, child._get(), tags)

    def increment(self, value: float = 1.0, labels: Labels = None) -> None:
        child = self._child(labels)
        child.inc(value)
        self._ship(child)

    def decrement(self, value: float = 1.0, labels: Labels = None) -> None:
        """Subtracts ``value``."""
        child = self._child(labels)
        child.dec(value)
        self._ship(child)

    def set(self, value: float, labels: Labels = None) -> None:
        child = self._child(labels)
        child.set(value)
        self._ship(child)

    def observe(self, value: float, labels: Labels = None) -> None:
        """Sets the value, as :meth:`set`."""
        self.set(value, labels)

    def get(self, labels: Labels = None) -> float:
        child = self._existing(labels)
        return 0.0 if child is None else float(child._get())


class RateLimitedGauge(Gauge):
    """A gauge written far more often than anyone needs it sent: every write is kept (a scrape
    always reads the latest value, in this process or, in multiprocess mode, in its file), and
    what leaves the process, a StatsD line, goes at most once per ``min_interval`` seconds, the
    latest value at the next flush or at exit."""

    def __init__(self, spec: MetricSpec, min_interval: float = 1.0, _backends: Optional[_Backends] = None) -> None:
        if not min_interval >= 0:
            raise ValueError(f"min_interval must be >= 0, got {min_interval}")
        self.min_interval = min_interval
        super().__init__(spec, _backends)

    def _ship(self, child: Any) -> None:
        if self._statsd is not None:
            name, tags = self._target(child)
            self._statsd.gauge(name, child._get(), tags, self.min_interval)


class _Observations(MetricCollector):
    """What histograms and summaries share: observations, their count and their sum."""

    _primary_suffix = "_count"
    _native_writes: ClassVar[Mapping[str, str]] = {"increment": "observe", "observe": "observe"}

    def increment(self, value: float = 1.0, labels: Labels = None) -> None:
        """Records ``value`` as an observation."""
        self.observe(value, labels)

    def set(self, value: float, labels: Labels = None) -> None:
        """Observations have no value to set."""
        kind = type(self).__name__.lower()
        raise TypeError(f"{self.spec.full_name()} is a {kind}: observe values instead of setting one")

    def observe(self, value: float, labels: Labels = None) -> None:
        child = self._child(labels)
        child.observe(value)
        if self._statsd is not None:
            name, tags = self._target(child)
            self._statsd.observe(name, value, tags)

    def get(self, labels: Labels = None) -> float:
        """The number of observations (0 for a label set never observed)."""
        return self._read("_count", labels)

    def get_sum(self, labels: Labels = None) -> float:
        """The sum of the observations (0 for a label set never observed)."""
        return self._read("_sum", labels)


class Histogram(_Observations):
    """Observations counted in buckets (``spec.buckets``, or prometheus_client's defaults)."""

    _native_class = _native.Histogram

    _NATIVE_HISTOGRAM_FIELDS = (
        "native_histogram_bucket_factor", "native_histogram_zero_threshold", "native_histogram_max_buckets",
        "native_histogram_min_reset_duration", "native_histogram_max_zero_threshold",
    )

    def _native_options(self) -> Dict[str, Any]:
        options: Dict[str, Any] = {} if self.spec.buckets is None else {"buckets": self.spec.buckets}
        for name in self._NATIVE_HISTOGRAM_FIELDS:
            if getattr(self.spec, name) is not None:
                options[name] = getattr(self.spec, name)
        return options

    def get_buckets(self, labels: Labels = None) -> List[HistogramBucket]:
        """The cumulative buckets, ``+Inf`` last; every count 0 for a label set never observed."""
        samples = self._series_samples(labels).get("_bucket")
        if not samples:
            return [HistogramBucket(float(bound), 0.0) for bound in self._metric._upper_bounds]
        return [HistogramBucket(float(s.labels["le"]), float(s.value)) for s in samples]


class Summary(_Observations):
    """Observations with their count, sum and quantiles over a sliding window of
    ``max_age_seconds`` (quantiles within 1% of the exact ones; memory bounded by
    ``max_samples`` bins per age bucket). In multiprocess mode, count and sum merge across
    processes, and the exposed quantiles are those of every live process's observations in the
    window (sketches merge by adding bins); ``get_quantile`` answers for this process alone."""

    _native_class = _native.Summary

    def __init__(
        self,
        spec: MetricSpec,
        max_age_seconds: Optional[float] = None,
        max_samples: Optional[int] = None,
        _backends: Optional[_Backends] = None,
    ) -> None:
        self.max_age_seconds = spec.max_age_seconds if max_age_seconds is None else max_age_seconds
        self.max_samples = spec.max_samples if max_samples is None else max_samples
        super().__init__(spec, _backends)

    def _native_options(self) -> Dict[str, Any]:
        return {
            "quantiles": self.spec.quantiles,
            "max_age_seconds": self.max_age_seconds,
            "max_samples": self.max_samples,
        }

    def get_quantile(self, quantile: float, labels: Labels = None) -> Optional[float]:
        """The ``quantile`` (0 to 1) of the observations in the window; ``None`` when it is
        empty or the label set was never observed."""
        child = self._existing(labels)
        if child is None:
            return None
        result: Optional[float] = child.quantile(quantile)
        return result


class Info(MetricCollector):
    """Constant key-value pairs, exposed as a ``_info`` metric with value 1."""

    _native_class = _native.Info
    _primary_suffix = "_info"

    def info(self, pairs: Mapping[str, str], labels: Labels = None) -> None:
        """Sets the pairs."""
        self._child(labels).info(dict(pairs))

    def increment(self, value: float = 1.0, labels: Labels = None) -> None:
        """An info has no value to add to."""
        raise TypeError(f"{self.spec.full_name()} is an info: set its pairs with info()")

    def set(self, value: float, labels: Labels = None) -> None:
        """An info has no value to set: use :meth:`info`."""
        raise TypeError(f"{self.spec.full_name()} is an info: set its pairs with info()")

    def observe(self, value: float, labels: Labels = None) -> None:
        """An info takes no observations."""
        raise TypeError(f"{self.spec.full_name()} is an info: set its pairs with info()")

    def get(self, labels: Labels = None) -> float:
        """1 once pairs are set."""
        return self._read("_info", labels)


COLLECTORS: Dict[MetricType, Type[MetricCollector]] = {
    MetricType.COUNTER: Counter,
    MetricType.GAUGE: Gauge,
    MetricType.HISTOGRAM: Histogram,
    MetricType.SUMMARY: Summary,
    MetricType.INFO: Info,
}
