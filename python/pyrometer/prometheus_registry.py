"""The MetricsRegistry layer: metrics declared by specification, sent to one or more backends.

A :class:`MetricSpec` names and describes a metric; a :class:`MetricsRegistry` turns specs into
collectors (:class:`Counter`, :class:`Gauge`, :class:`Histogram`, :class:`Summary`,
:class:`Info`, and the guarded :class:`SampledCounter` and :class:`RateLimitedGauge`) whose
``increment``/``set``/``observe`` take labels as a dict. Values live in pyrometer's native
metrics, so every collector can be read back (``get``, ``get_all``, ``get_quantile``...) and
scraped in the Prometheus formats; a StatsD backend also sends each update as a StatsD line, an
OpenTelemetry backend exports the registry over OTLP on an interval.

Registering the same spec twice returns the same collector, so that modules which declare their
metrics at import time can be imported again; a different spec under a taken name is an error
that shows both.

The collector classes here share names with prometheus_client's metric classes but not their
API; ``pyrometer`` re-exports only the names that do not clash (``MetricsRegistry``,
``MetricSpec``, ``SampledCounter``...).
"""

from __future__ import annotations

import atexit
import os
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, ClassVar, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Type, Union

from . import _native
from .exposition import CONTENT_TYPE_LATEST, generate_latest
from .registry import REGISTRY, CollectorRegistry

__all__ = (
    "Counter",
    "Gauge",
    "Histogram",
    "HistogramBucket",
    "Info",
    "MetricCollector",
    "MetricSpec",
    "MetricType",
    "MetricValue",
    "MetricsBackend",
    "MetricsRegistry",
    "RateLimitedGauge",
    "SampledCounter",
    "Summary",
    "VLLMMetrics",
    "get_metrics",
)

Labels = Optional[Mapping[str, str]]


class MetricType(Enum):
    """The kinds of metric a spec can declare."""

    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"
    SUMMARY = "summary"
    INFO = "info"


class MetricsBackend(Enum):
    """Where a registry's metrics go. Values are always kept in process (and scrapable); StatsD
    and OpenTelemetry also ship them."""

    PROMETHEUS = "prometheus"
    STATSD = "statsd"
    OPENTELEMETRY = "opentelemetry"


@dataclass(frozen=True)
class MetricSpec:
    """What a metric is: its name parts, help, label names and type-specific settings.

    ``max_series`` bounds the label sets of the metric (beyond it they fold into one overflow
    series); ``multiprocess_mode`` is a gauge's, as in prometheus_client.
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
    """One sample of a collector: what :meth:`MetricsRegistry.collect_all` returns."""

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


class _Backends:
    """What a collector ships its updates to besides its native metric."""

    def __init__(self, statsd: Optional[_native.StatsdClient] = None) -> None:
        self.statsd = statsd


_NO_BACKENDS = _Backends()


class MetricCollector(ABC):
    """A metric built from a spec. Labels are given as a dict of every label name to its value
    (``None`` for a metric without labels)."""

    spec: MetricSpec
    _metric: Any
    #: The native metric class the values live in.
    _native_class: ClassVar[Any]
    #: The sample `get_all` reports: the total, the value, or the count of observations.
    _primary_suffix: ClassVar[str] = ""

    def __init__(self, spec: MetricSpec, _backends: Optional[_Backends] = None) -> None:
        self.spec = spec
        self._statsd = (_backends or _NO_BACKENDS).statsd
        self._statsd_name = spec.full_name()
        self._metric = self._native_class(
            spec.name,
            spec.description,
            spec.labels,
            spec.namespace,
            spec.subsystem,
            spec.unit,
            registry=None,
            **self._native_options(),
        )
        if spec.max_series is not None:
            self._metric.set_series_limit(spec.max_series)

    def _native_options(self) -> Dict[str, Any]:
        """The native class's own constructor arguments (buckets, mode...)."""
        return {}

    def _tags(self, child: Any) -> Optional[Dict[str, str]]:
        """The StatsD tags of a child: its own label values, so that a label set folded into
        the overflow series is sent folded too."""
        return dict(zip(self.spec.labels, child._labelvalues)) if self.spec.labels else None

    def _child(self, labels: Labels) -> Any:
        if not self.spec.labels:
            if labels:
                raise ValueError(f"{self.spec.full_name()} has no labels, got {dict(labels)!r}")
            return self._metric
        if labels is None:
            raise ValueError(f"{self.spec.full_name()} needs labels {list(self.spec.labels)!r}")
        return self._metric.labels(**labels)

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
        """The current value (a histogram's or summary's count)."""

    def get_all(self) -> Dict[Tuple[str, ...], float]:
        """Every series' value (a counter's total, a histogram's or summary's count), by label
        values in label-name order."""
        return self._values_by_labels(self._primary_suffix)

    def samples(self) -> List[MetricValue]:
        """Every sample the metric exposes now."""
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

    def _sample(self, suffix: str, labels: Labels) -> float:
        key = tuple((labels or {})[name] for name in self.spec.labels) if self.spec.labels else ()
        return self._values_by_labels(suffix).get(key, 0.0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"


class Counter(MetricCollector):
    """A total that only goes up."""

    _native_class: ClassVar[Any] = _native.Counter
    _primary_suffix = "_total"

    def increment(self, value: float = 1.0, labels: Labels = None) -> None:
        child = self._child(labels)
        child.inc(value)
        if self._statsd is not None:
            self._statsd.count(self._statsd_name, value, self._tags(child))

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
        return float(self._child(labels)._get())


class SampledCounter(Counter):
    """A counter for very hot paths: it records each increment with probability ``sample_rate``,
    scaled by ``1 / sample_rate``, so the total is an unbiased estimate. StatsD lines carry the
    rate (``|@0.1``) for the server to scale."""

    def __init__(self, spec: MetricSpec, sample_rate: float = 0.1, _backends: Optional[_Backends] = None) -> None:
        self.sample_rate = sample_rate
        super().__init__(spec, _backends)

    _native_class = _native.SampledCounter

    def _native_options(self) -> Dict[str, Any]:
        return {"sample_rate": self.sample_rate}

    def increment(self, value: float = 1.0, labels: Labels = None) -> None:
        child = self._child(labels)
        child.inc(value)
        if self._statsd is not None:
            self._statsd.count(self._statsd_name, value, self._tags(child), self.sample_rate)


class Gauge(MetricCollector):
    """A value that goes up and down."""

    _native_class: ClassVar[Any] = _native.Gauge

    def _native_options(self) -> Dict[str, Any]:
        return {"multiprocess_mode": self.spec.multiprocess_mode}

    def _ship(self, child: Any) -> None:
        if self._statsd is not None:
            self._statsd.gauge(self._statsd_name, child._get(), self._tags(child))

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
        return float(self._child(labels)._get())


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
            self._statsd.gauge(self._statsd_name, child._get(), self._tags(child), self.min_interval)


class _Observations(MetricCollector):
    """What histograms and summaries share: observations, their count and their sum."""

    _primary_suffix = "_count"

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
            self._statsd.observe(self._statsd_name, value, self._tags(child))

    def get(self, labels: Labels = None) -> float:
        """The number of observations."""
        return self._sample("_count", labels)

    def get_sum(self, labels: Labels = None) -> float:
        """The sum of the observations."""
        return self._sample("_sum", labels)


class Histogram(_Observations):
    """Observations counted in buckets (``spec.buckets``, or prometheus_client's defaults)."""

    _native_class = _native.Histogram

    def _native_options(self) -> Dict[str, Any]:
        return {} if self.spec.buckets is None else {"buckets": self.spec.buckets}

    def get_buckets(self, labels: Labels = None) -> List[HistogramBucket]:
        """The cumulative buckets, ``+Inf`` last."""
        key = tuple((labels or {})[name] for name in self.spec.labels)
        out = []
        for family in self._metric.collect():
            for sample in family.samples:
                if sample.name != family.name + "_bucket":
                    continue
                if tuple(sample.labels[name] for name in self.spec.labels) == key:
                    out.append(HistogramBucket(float(sample.labels["le"]), sample.value))
        return out


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
        """The ``quantile`` (0 to 1) of the observations in the window; ``None`` when it is empty."""
        result: Optional[float] = self._child(labels).quantile(quantile)
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
        return self._sample("_info", labels) if self.samples() else 0.0


_COLLECTORS: Dict[MetricType, Type[MetricCollector]] = {
    MetricType.COUNTER: Counter,
    MetricType.GAUGE: Gauge,
    MetricType.HISTOGRAM: Histogram,
    MetricType.SUMMARY: Summary,
    MetricType.INFO: Info,
}

BackendArg = Union[MetricsBackend, Iterable[MetricsBackend]]


class MetricsRegistry:
    """Specs to collectors, one per full name, exposed together and shipped to every backend.

    ``backend`` is one :class:`MetricsBackend` or several. The StatsD backend sends to
    ``statsd_host:statsd_port`` (``STATSD_HOST``/``STATSD_PORT`` by default); the OpenTelemetry
    backend exports to ``otlp_endpoint`` (``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`` or
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/metrics``) every ``export_interval`` seconds.
    ``default_max_series`` bounds the label sets of every metric whose spec sets no limit.
    """

    _instances: ClassVar[Dict[int, "MetricsRegistry"]] = {}
    _instances_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        backend: BackendArg = MetricsBackend.PROMETHEUS,
        *,
        registry: Optional[CollectorRegistry] = None,
        default_max_series: Optional[int] = None,
        statsd_host: Optional[str] = None,
        statsd_port: Optional[int] = None,
        statsd_prefix: str = "",
        statsd_tags: Optional[Mapping[str, str]] = None,
        dogstatsd: bool = True,
        max_packet_size: int = 1432,
        flush_interval: float = 1.0,
        otlp_endpoint: Optional[str] = None,
        otlp_headers: Optional[Mapping[str, str]] = None,
        export_interval: float = 60.0,
        resource_attributes: Optional[Mapping[str, str]] = None,
    ) -> None:
        self.backends = frozenset([backend] if isinstance(backend, MetricsBackend) else backend)
        if not self.backends:
            raise ValueError("a MetricsRegistry needs at least one backend")
        if default_max_series is not None and default_max_series < 1:
            raise ValueError(f"default_max_series must be at least 1, got {default_max_series}")
        self.registry: CollectorRegistry = REGISTRY if registry is None else registry
        self.default_max_series = default_max_series
        self._lock = threading.RLock()
        self._collectors: Dict[str, MetricCollector] = {}
        # The extra arguments each collector was made with (a sampled counter's rate...).
        self._options: Dict[str, Dict[str, Any]] = {}
        self._multiprocess_dir: Optional[str] = None
        self._merged: Optional[CollectorRegistry] = None
        self._temporary_dir: Optional[tempfile.TemporaryDirectory[str]] = None
        statsd = None
        if MetricsBackend.STATSD in self.backends:
            statsd = _native.StatsdClient(
                statsd_host or os.environ.get("STATSD_HOST", "localhost"),
                int(statsd_port or os.environ.get("STATSD_PORT", "8125")),
                prefix=statsd_prefix,
                tags=dict(statsd_tags or {}),
                dogstatsd=dogstatsd,
                max_packet_size=max_packet_size,
                flush_interval=flush_interval,
            )
        self._backends = _Backends(statsd)
        self._otlp: Any = None
        self._otlp_settings = (
            _otlp_endpoint(otlp_endpoint),
            export_interval,
            dict(resource_attributes or {"service.name": "pyrometer"}),
            dict(otlp_headers or {}),
        )
        if MetricsBackend.OPENTELEMETRY in self.backends:
            self._start_otlp()
        atexit.register(self.close)

    def _start_otlp(self) -> None:
        if self._otlp is not None:
            self._otlp.close()
        endpoint, interval, resource, headers = self._otlp_settings
        self._otlp = _native.OtlpExporter(
            self._scrape_registry(), endpoint, interval=interval, resource=resource, headers=headers
        )

    @classmethod
    def get_instance(cls, backend: Optional[BackendArg] = None) -> "MetricsRegistry":
        """This process's registry, made on first call (with ``backend``, Prometheus by
        default). A forked child gets a registry of its own."""
        pid = os.getpid()
        with cls._instances_lock:
            instance = cls._instances.get(pid)
            if instance is None:
                instance = cls(MetricsBackend.PROMETHEUS if backend is None else backend)
                cls._instances = {pid: instance}
            elif backend is not None:
                wanted = frozenset([backend] if isinstance(backend, MetricsBackend) else backend)
                if wanted != instance.backends:
                    names = sorted(b.value for b in instance.backends)
                    raise ValueError(f"this process's MetricsRegistry already exists with backends {names}")
            return instance

    def setup_multiprocess(self) -> str:
        """Turns on multiprocess mode for the metrics created from now on: their series go to
        ``PROMETHEUS_MULTIPROC_DIR`` (a new temporary directory, set in the environment for
        the workers to come, if it is unset), and exposition merges every process's series.
        Returns the directory."""
        with self._lock:
            if self._collectors:
                raise RuntimeError("setup_multiprocess() must come before any metric is registered")
            path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")
            if path is None:
                self._temporary_dir = tempfile.TemporaryDirectory(prefix="pyrometer-multiproc-")
                path = self._temporary_dir.name
                os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
            elif not os.path.isdir(path):
                raise ValueError(f"PROMETHEUS_MULTIPROC_DIR {path!r} is not a directory")
            self._multiprocess_dir = path
            from .multiprocess import MultiProcessCollector

            self._merged = CollectorRegistry()
            MultiProcessCollector(self._merged, path)
            if self._otlp is not None:
                self._start_otlp()
            return path

    @property
    def multiprocess(self) -> bool:
        """Whether :meth:`setup_multiprocess` was called."""
        return self._multiprocess_dir is not None

    def register(
        self, spec: MetricSpec, collector_class: Optional[Type[MetricCollector]] = None, **options: Any
    ) -> MetricCollector:
        """The collector for ``spec``: made and registered the first time, the same one for an
        identical spec after. A different spec (or collector class, or options) under the same
        full name raises ``ValueError`` naming both."""
        cls = collector_class or _COLLECTORS[spec.metric_type]
        full_name = spec.full_name()
        with self._lock:
            existing = self._collectors.get(full_name)
            if existing is not None:
                differences = _differences(existing, self._options[full_name], spec, cls, options)
                if not differences:
                    return existing
                raise ValueError(
                    f"metric {full_name!r} is already registered as {type(existing).__name__}"
                    f"({existing.spec.description!r}, labels={list(existing.spec.labels)}); "
                    f"the new definition differs in {'; '.join(differences)}"
                )
            collector = cls(spec, _backends=self._backends, **options)
            if spec.max_series is None and self.default_max_series is not None:
                collector._metric.set_series_limit(self.default_max_series)
            self.registry.register(collector._metric)
            self._collectors[full_name] = collector
            self._options[full_name] = options
            return collector

    def unregister(self, name: str) -> None:
        """Removes the metric with this full name; ``KeyError`` if there is none."""
        with self._lock:
            collector = self._collectors.pop(name)
            del self._options[name]
            self.registry.unregister(collector._metric)

    def get(self, name: str) -> Optional[MetricCollector]:
        """The collector with this full name, if registered."""
        return self._collectors.get(name)

    def _spec(
        self,
        metric_type: MetricType,
        name: str,
        description: str,
        labels: Optional[Sequence[str]],
        namespace: str,
        subsystem: str,
        **fields: Any,
    ) -> MetricSpec:
        return MetricSpec(
            name, description, tuple(labels or ()), namespace, subsystem, metric_type=metric_type, **fields
        )

    def counter(
        self,
        name: str,
        description: str = "",
        labels: Optional[Sequence[str]] = None,
        namespace: str = "",
        subsystem: str = "",
        **fields: Any,
    ) -> Counter:
        """A counter, registered or found."""
        spec = self._spec(MetricType.COUNTER, name, description, labels, namespace, subsystem, **fields)
        return self.register(spec)  # type: ignore[return-value]

    def gauge(
        self,
        name: str,
        description: str = "",
        labels: Optional[Sequence[str]] = None,
        namespace: str = "",
        subsystem: str = "",
        **fields: Any,
    ) -> Gauge:
        """A gauge, registered or found."""
        spec = self._spec(MetricType.GAUGE, name, description, labels, namespace, subsystem, **fields)
        return self.register(spec)  # type: ignore[return-value]

    def histogram(
        self,
        name: str,
        description: str = "",
        labels: Optional[Sequence[str]] = None,
        buckets: Optional[Sequence[float]] = None,
        namespace: str = "",
        subsystem: str = "",
        **fields: Any,
    ) -> Histogram:
        """A histogram, registered or found."""
        buckets_field = None if buckets is None else tuple(buckets)
        spec = self._spec(
            MetricType.HISTOGRAM, name, description, labels, namespace, subsystem, buckets=buckets_field, **fields
        )
        return self.register(spec)  # type: ignore[return-value]

    def summary(
        self,
        name: str,
        description: str = "",
        labels: Optional[Sequence[str]] = None,
        namespace: str = "",
        subsystem: str = "",
        **fields: Any,
    ) -> Summary:
        """A summary with quantiles, registered or found."""
        spec = self._spec(MetricType.SUMMARY, name, description, labels, namespace, subsystem, **fields)
        return self.register(spec)  # type: ignore[return-value]

    def info(
        self,
        name: str,
        description: str = "",
        labels: Optional[Sequence[str]] = None,
        namespace: str = "",
        subsystem: str = "",
    ) -> Info:
        """An info metric, registered or found."""
        spec = self._spec(MetricType.INFO, name, description, labels, namespace, subsystem)
        return self.register(spec)  # type: ignore[return-value]

    def sampled_counter(self, spec: MetricSpec, sample_rate: float = 0.1) -> SampledCounter:
        """A :class:`SampledCounter`, registered or found."""
        return self.register(spec, SampledCounter, sample_rate=sample_rate)  # type: ignore[return-value]

    def rate_limited_gauge(self, spec: MetricSpec, min_interval: float = 1.0) -> RateLimitedGauge:
        """A :class:`RateLimitedGauge`, registered or found."""
        spec = spec if spec.metric_type is MetricType.GAUGE else _with_type(spec, MetricType.GAUGE)
        return self.register(spec, RateLimitedGauge, min_interval=min_interval)  # type: ignore[return-value]

    def collect_all(self) -> List[MetricValue]:
        """Every sample of every metric registered here, in this process."""
        with self._lock:
            collectors = list(self._collectors.values())
        return [value for collector in collectors for value in collector.samples()]

    def _scrape_registry(self) -> CollectorRegistry:
        return self.registry if self._merged is None else self._merged

    def generate_latest(self) -> bytes:
        """The registry in the Prometheus text format; in multiprocess mode, every process's
        series merged."""
        return generate_latest(self._scrape_registry())

    content_type = CONTENT_TYPE_LATEST

    def flush(self) -> None:
        """Sends what the push backends hold now."""
        if self._backends.statsd is not None:
            self._backends.statsd.flush()
        if self._otlp is not None:
            self._otlp.export()

    def close(self) -> None:
        """Flushes and stops the push backends (also run at exit)."""
        if self._backends.statsd is not None:
            self._backends.statsd.close()
        if self._otlp is not None:
            self._otlp.close()

    @property
    def statsd_dropped(self) -> int:
        """StatsD lines that could not be sent."""
        return 0 if self._backends.statsd is None else self._backends.statsd.dropped


def _with_type(spec: MetricSpec, metric_type: MetricType) -> MetricSpec:
    from dataclasses import replace

    return replace(spec, metric_type=metric_type)


def _differences(
    existing: MetricCollector,
    existing_options: Mapping[str, Any],
    spec: MetricSpec,
    cls: Type[MetricCollector],
    options: Mapping[str, Any],
) -> List[str]:
    """What a new definition changes from the registered one, field by field."""
    out = []
    if type(existing) is not cls:
        out.append(f"class: {type(existing).__name__} != {cls.__name__}")
    for f in fields(MetricSpec):
        old, new = getattr(existing.spec, f.name), getattr(spec, f.name)
        if old != new:
            out.append(f"{f.name}: {old!r} != {new!r}")
    for key in sorted(set(existing_options) | set(options)):
        if existing_options.get(key) != options.get(key):
            out.append(f"{key}: {existing_options.get(key)!r} != {options.get(key)!r}")
    return out


def _otlp_endpoint(endpoint: Optional[str]) -> str:
    if endpoint:
        return endpoint
    metrics = os.environ.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
    if metrics:
        return metrics
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318")
    return base.rstrip("/") + "/v1/metrics"


def __getattr__(name: str) -> Any:
    # The vLLM set is built on the classes above, in a module of its own.
    if name in ("VLLMMetrics", "get_metrics"):
        from . import vllm_metrics

        return getattr(vllm_metrics, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
