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
that shows both. Reads never create a series: a label set never written reads as zero.

A layer's metrics stay in its ``CollectorRegistry`` while they are in the layer: one
unregistered under it (``registry.unregister(...)``, as vLLM does before declaring its metrics
again) is registered again at the next declaration, scrape, ``collect_all`` or write through the
layer; if its names have been taken since, that write raises ``DuplicateTimeseries``.

Writes are native. While a collector's metric is registered and no StatsD backend needs to see
its writes, ``increment``/``decrement``/``set``/``observe`` with a number and the labels of a
series written before update that series without running Python code; a new label set, an
error or any other argument goes through the collector's Python method. A collector the layer gave up (:meth:`MetricsRegistry.unregister`,
:meth:`MetricsRegistry.reset_instance`) raises ``ValueError`` on every write.

Processes. :meth:`MetricsRegistry.get_instance` is one layer per process, and a forked child
keeps its parent's (so :func:`get_metrics` declares nothing twice). In the child, the StatsD
and OTLP backends start again (what the parent had buffered is the parent's to send); in
multiprocess mode, every collector whose native metric holds series made before the fork gets a
new one, so that the child writes its own file of the store: what the parent counted stays in
the parent's file, counted once, and per-process gauge modes see each child. Children export
nothing over OTLP in multiprocess mode: the process that made the layer exports every process's
series merged. A directory :meth:`MetricsRegistry.setup_multiprocess` makes belongs to the
process that made it and is removed when that process exits, never by a child.

The collector classes here share names with prometheus_client's metric classes but not their
API; ``pyrometer`` re-exports only the names that do not clash (``MetricsRegistry``,
``MetricSpec``, ``SampledCounter``...).
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import threading
import time
import weakref
from dataclasses import fields, replace
from enum import Enum
from typing import Any, ClassVar, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Type, Union

from . import _native, values
from . import registry as registry_module
from ._layer_collectors import (
    COLLECTORS,
    RETIRED,
    Counter,
    Gauge,
    Histogram,
    HistogramBucket,
    Info,
    MetricCollector,
    MetricSpec,
    MetricType,
    MetricValue,
    RateLimitedGauge,
    SampledCounter,
    Summary,
    _Backends,
    _Guard,
)
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


class MetricsBackend(Enum):
    """Where a registry's metrics go. Values are always kept in process (and scrapable); StatsD,
    OpenTelemetry and remote write also ship them."""

    PROMETHEUS = "prometheus"
    STATSD = "statsd"
    OPENTELEMETRY = "opentelemetry"
    # An addition to the original design: Prometheus remote write (pyrometer.remote_write).
    REMOTE_WRITE = "remote_write"


BackendArg = Union[MetricsBackend, Iterable[MetricsBackend]]

# What a family's type is among the spec types, for collect_all: the text format shows state
# sets, enums and untyped metrics as gauges, and gauge histograms as histograms.
_FAMILY_TYPES = {
    "counter": MetricType.COUNTER,
    "gauge": MetricType.GAUGE,
    "histogram": MetricType.HISTOGRAM,
    "gaugehistogram": MetricType.HISTOGRAM,
    "summary": MetricType.SUMMARY,
    "info": MetricType.INFO,
}



class _RegistrationGuard(_Guard):
    """The guard of a collector whose native metric left the layer's registry: the next write
    has the layer register it again."""

    def __init__(self, layer: "MetricsRegistry") -> None:
        self._layer = weakref.ref(layer)

    def check(self, collector: MetricCollector) -> None:
        layer = self._layer()
        if layer is not None:
            layer._ensure_registered()


def _unregistered(
    layer_ref: "weakref.ref[MetricsRegistry]", collector_ref: "weakref.ref[MetricCollector]", registry: Any
) -> None:
    """A layer collector's native metric left ``registry``: when that is the layer's, its writes
    go through the guard that registers it again."""
    layer, collector = layer_ref(), collector_ref()
    if layer is None or collector is None or registry is not layer.registry:
        return
    if layer._collectors.get(collector.spec.full_name()) is collector:
        collector._detach(layer._guard)


def _backend_set(backend: BackendArg) -> frozenset[MetricsBackend]:
    return frozenset([backend] if isinstance(backend, MetricsBackend) else backend)


def _directory_variable() -> Optional[str]:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")


class MetricsRegistry:
    """Specs to collectors, one per full name, exposed together and shipped to every backend.

    ``backend`` is one :class:`MetricsBackend` or several; ``registry`` is the
    ``CollectorRegistry`` the metrics go in (the default ``REGISTRY`` unless given).
    ``default_max_series`` bounds the label sets of every metric whose spec sets no limit.

    The StatsD backend sends to ``statsd_host:statsd_port`` (``STATSD_HOST``/``STATSD_PORT``
    by default), names prefixed with ``statsd_prefix`` and a dot (dots around the prefix are
    dropped, so ``"app."`` gives ``app.requests``); a name's ``:`` and other characters StatsD
    does not take become ``_``. With ``dogstatsd`` (the default) labels travel as tags; in plain
    StatsD (``dogstatsd=False``) they have nowhere to go but the name: their values, in
    label-name order, become one name segment each (``requests.GET.200``) after characters
    other than ASCII letters, digits, ``_`` and ``-`` (a ``.`` included) become ``_``, an empty
    value ``_``; plain StatsD has no tags, so ``statsd_tags`` is an error there.

    The OpenTelemetry backend exports to ``otlp_endpoint`` (``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT``
    or ``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/metrics``) every ``export_interval`` seconds, each
    request within ``otlp_timeout`` seconds and retried up to ``otlp_max_retries`` times.

    The remote-write backend writes to ``remote_write_url`` (``PYROMETER_REMOTE_WRITE_URL`` by
    default) every ``remote_write_interval`` seconds with a
    :class:`pyrometer.remote_write.RemoteWriter`, given ``remote_write_options`` (protocol,
    external labels, authentication, queue bounds...). A forked child writes its own registry
    with an external label ``pid``, so that processes do not overwrite each other's series.

    When ``pyrometer.values`` is in multiprocess mode already (``PROMETHEUS_MULTIPROC_DIR`` set
    at import), a new layer scrapes every process's series merged, as after
    :meth:`setup_multiprocess`.
    """

    _instance: ClassVar[Optional["MetricsRegistry"]] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()

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
        otlp_timeout: float = 10.0,
        otlp_max_retries: int = 5,
        remote_write_url: Optional[str] = None,
        remote_write_interval: float = 15.0,
        remote_write_options: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self.backends = _backend_set(backend)
        if not self.backends:
            raise ValueError("a MetricsRegistry needs at least one backend")
        if default_max_series is not None and default_max_series < 1:
            raise ValueError(f"default_max_series must be at least 1, got {default_max_series}")
        if statsd_tags and not dogstatsd:
            raise ValueError("statsd_tags need DogStatsD (dogstatsd=True): plain StatsD lines carry no tags")
        self.registry: CollectorRegistry = REGISTRY if registry is None else registry
        self.default_max_series = default_max_series
        self._lock = threading.RLock()
        self._collectors: Dict[str, MetricCollector] = {}
        # The extra arguments each collector was made with (a sampled counter's rate...).
        self._options: Dict[str, Dict[str, Any]] = {}
        self._guard = _RegistrationGuard(self)
        self._multiprocess_dir: Optional[str] = None
        self._merged: Optional[CollectorRegistry] = None
        self._statsd_settings: Optional[Dict[str, Any]] = None
        if MetricsBackend.STATSD in self.backends:
            self._statsd_settings = {
                "host": statsd_host or os.environ.get("STATSD_HOST", "localhost"),
                "port": int(statsd_port or os.environ.get("STATSD_PORT", "8125")),
                "prefix": statsd_prefix.strip("."),
                "tags": dict(statsd_tags or {}),
                "dogstatsd": dogstatsd,
                "max_packet_size": max_packet_size,
                "flush_interval": flush_interval,
            }
        self._backends = _Backends(self._new_statsd(), plain=not dogstatsd)
        self._otlp: Any = None
        self._otlp_settings: Dict[str, Any] = {
            "endpoint": _otlp_endpoint(otlp_endpoint),
            "interval": export_interval,
            "resource": dict(resource_attributes or {"service.name": "pyrometer"}),
            "headers": dict(otlp_headers or {}),
            "timeout": otlp_timeout,
            "max_retries": otlp_max_retries,
        }
        self._remote_write: Any = None
        self._remote_write_settings: Dict[str, Any] = {
            "url": remote_write_url or os.environ.get("PYROMETER_REMOTE_WRITE_URL"),
            "interval": remote_write_interval,
            **dict(remote_write_options or {}),
        }
        if MetricsBackend.REMOTE_WRITE in self.backends and not self._remote_write_settings["url"]:
            raise ValueError("the remote-write backend needs remote_write_url (or PYROMETER_REMOTE_WRITE_URL)")
        path = _directory_variable()
        if getattr(values.ValueClass, "_multiprocess", False) and path is not None and os.path.isdir(path):
            self._use_multiprocess(path)
        if MetricsBackend.OPENTELEMETRY in self.backends:
            self._start_otlp()
        if MetricsBackend.REMOTE_WRITE in self.backends:
            self._start_remote_write()
        _LAYERS.add(self)

    def _new_statsd(self) -> Optional[_native.StatsdClient]:
        if self._statsd_settings is None:
            return None
        settings = dict(self._statsd_settings)
        return _native.StatsdClient(settings.pop("host"), settings.pop("port"), **settings)

    def _start_otlp(self) -> None:
        if self._otlp is not None:
            self._otlp.close()
        settings = dict(self._otlp_settings)
        self._otlp = _native.OtlpExporter(self._scrape_registry(), settings.pop("endpoint"), **settings)

    def _start_remote_write(self) -> None:
        from .remote_write import RemoteWriter

        if self._remote_write is not None:
            self._remote_write.close()
        settings = dict(self._remote_write_settings)
        self._remote_write = RemoteWriter(registry=self._scrape_registry(), **settings).start()

    @classmethod
    def get_instance(
        cls, backend: Optional[BackendArg] = None, *, registry: Optional[CollectorRegistry] = None
    ) -> "MetricsRegistry":
        """This process's layer, made on first call (with ``backend``, Prometheus by default,
        on ``registry``, the default ``REGISTRY`` by default). A forked child keeps its
        parent's (see the module documentation); asking for other backends or another registry
        than the layer has is an error."""
        with MetricsRegistry._instance_lock:
            instance = MetricsRegistry._instance
            if instance is None:
                instance = cls(MetricsBackend.PROMETHEUS if backend is None else backend, registry=registry)
                MetricsRegistry._instance = instance
                return instance
        if backend is not None and _backend_set(backend) != instance.backends:
            names = sorted(b.value for b in instance.backends)
            raise ValueError(f"this process's MetricsRegistry already exists with backends {names}")
        if registry is not None and registry is not instance.registry:
            raise ValueError("this process's MetricsRegistry already exists on another CollectorRegistry")
        return instance

    @classmethod
    def reset_instance(cls) -> None:
        """Forgets this process's layer, for tests: its backends are flushed and closed, its
        metrics unregistered from its ``CollectorRegistry`` and its collectors given up (their
        writes raise), so that the next :meth:`get_instance` and :func:`get_metrics` start
        afresh. Multiprocess mode, once on, stays on."""
        with MetricsRegistry._instance_lock:
            instance, MetricsRegistry._instance = MetricsRegistry._instance, None
        if instance is not None:
            instance.close()
            with instance._lock:
                for name in list(instance._collectors):
                    instance.unregister(name)

    def setup_multiprocess(self) -> str:
        """Turns on multiprocess mode for the metrics created from now on: their series go to
        ``PROMETHEUS_MULTIPROC_DIR``, and exposition merges every process's series. Returns the
        directory.

        If the variable is unset, a new temporary directory is made and set in the environment
        for the workers to come; it belongs to this process, which removes it when it exits
        (children never do). A directory the variable names is never removed. Once on, calling
        again returns the same directory."""
        with self._lock:
            if self._multiprocess_dir is not None:
                return self._multiprocess_dir
            if self._collectors:
                raise RuntimeError("setup_multiprocess() must come before any metric is registered")
            path = _directory_variable()
            if path is None:
                path = tempfile.mkdtemp(prefix="pyrometer-multiproc-")
                _OWNED_DIRECTORIES.append((path, os.getpid()))
                os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
            elif not os.path.isdir(path):
                raise ValueError(f"PROMETHEUS_MULTIPROC_DIR {path!r} is not a directory")
            # The mode was chosen at import from the environment, as upstream's is; metrics made
            # from now on write to the store.
            if not getattr(values.ValueClass, "_multiprocess", False):
                values.ValueClass = values.MultiProcessValue()
            self._use_multiprocess(path)
            if self._otlp is not None:
                self._start_otlp()
            if self._remote_write is not None:
                self._start_remote_write()
            return path

    def _use_multiprocess(self, path: str) -> None:
        from .multiprocess import MultiProcessCollector

        self._multiprocess_dir = path
        self._merged = CollectorRegistry()
        MultiProcessCollector(self._merged, path)

    @property
    def multiprocess(self) -> bool:
        """Whether scrapes merge every process's series (:meth:`setup_multiprocess`)."""
        return self._multiprocess_dir is not None

    def register(
        self, spec: MetricSpec, collector_class: Optional[Type[MetricCollector]] = None, **options: Any
    ) -> MetricCollector:
        """The collector for ``spec``: made and registered the first time, the same one for an
        identical spec after (registered again if it was unregistered under the layer). A
        different spec (or collector class, or options) under the same full name raises
        ``ValueError`` naming both."""
        cls = collector_class or COLLECTORS[spec.metric_type]
        full_name = spec.full_name()
        with self._lock:
            existing = self._collectors.get(full_name)
            if existing is not None:
                differences = _differences(existing, self._options[full_name], spec, cls, options)
                if differences:
                    raise ValueError(
                        f"metric {full_name!r} is already registered as {type(existing).__name__}"
                        f"({existing.spec.description!r}, labels={list(existing.spec.labels)}); "
                        f"the new definition differs in {'; '.join(differences)}"
                    )
                if existing._metric not in self.registry._collector_to_names:
                    self.registry.register(existing._metric)
                    self._attach(existing)
                return existing
            collector = cls(spec, _backends=self._backends, **options)
            if spec.max_series is None and self.default_max_series is not None:
                collector._series_limit = self.default_max_series
                collector._metric.set_series_limit(self.default_max_series)
            self.registry.register(collector._metric)
            self._collectors[full_name] = collector
            self._options[full_name] = options
            self._attach(collector)
            return collector

    def _attach(self, collector: MetricCollector) -> None:
        """Lets the collector's registered native metric serve its writes, until it leaves the
        layer's registry."""
        registry_module.on_unregister(
            collector._metric, functools.partial(_unregistered, weakref.ref(self), weakref.ref(collector))
        )
        collector._attach()

    def unregister(self, name: str) -> None:
        """Removes the metric with this full name; ``KeyError`` if there is none. Its collector
        raises ``ValueError`` on every write from now on."""
        with self._lock:
            collector = self._collectors.pop(name)
            del self._options[name]
            collector._detach(RETIRED)
            try:
                self.registry.unregister(collector._metric)
            except KeyError:
                pass  # unregistered under the layer already

    def _ensure_registered(self) -> None:
        """Registers again the metrics that were unregistered under the layer."""
        with self._lock:
            registered = self.registry._collector_to_names
            for collector in self._collectors.values():
                if collector._metric not in registered:
                    self.registry.register(collector._metric)
                    self._attach(collector)
                elif collector._guard is not None:
                    self._attach(collector)

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
        spec = spec if spec.metric_type is MetricType.GAUGE else replace(spec, metric_type=MetricType.GAUGE)
        return self.register(spec, RateLimitedGauge, min_interval=min_interval)  # type: ignore[return-value]

    def collect_all(self) -> List[MetricValue]:
        """Every sample a scrape of the layer (:meth:`generate_latest`) shows now: in
        multiprocess mode, every process's series merged; else everything in the layer's
        ``CollectorRegistry``. A family's type is the spec type the text format shows it as
        (state sets, enums and untyped families as gauges)."""
        self._ensure_registered()
        now = time.time()
        out = []
        for family in self._scrape_registry().collect():
            metric_type = _FAMILY_TYPES.get(family.type, MetricType.GAUGE)
            for sample in family.samples:
                timestamp = now if sample.timestamp is None else float(sample.timestamp)
                out.append(MetricValue(sample.name, sample.value, dict(sample.labels), metric_type, timestamp))
        return out

    def _scrape_registry(self) -> CollectorRegistry:
        return self.registry if self._merged is None else self._merged

    def generate_latest(self) -> bytes:
        """The registry in the Prometheus text format; in multiprocess mode, every process's
        series merged."""
        self._ensure_registered()
        return generate_latest(self._scrape_registry())

    content_type = CONTENT_TYPE_LATEST

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Sends what the push backends hold now. With ``timeout``, waits at most that many
        seconds for the OTLP export (which goes on in the background past it; each request
        is bounded by ``otlp_timeout``) and for the remote write (30 s without), and returns
        whether they finished in time."""
        if self._backends.statsd is not None:
            self._backends.statsd.flush()
        written = True
        if self._remote_write is not None:
            written = self._remote_write.flush(30.0 if timeout is None else timeout)
        otlp = self._otlp
        if otlp is None:
            return written
        if timeout is None:
            otlp.export()
            return written
        export = threading.Thread(target=otlp.export, name="pyrometer-otlp-flush", daemon=True)
        export.start()
        export.join(timeout)
        return written and not export.is_alive()

    def close(self) -> None:
        """Flushes and stops the push backends (also run at exit)."""
        if self._backends.statsd is not None:
            self._backends.statsd.close()
        if self._otlp is not None:
            self._otlp.close()
        if self._remote_write is not None:
            self._remote_write.close()

    @property
    def statsd_dropped(self) -> int:
        """StatsD lines that could not be sent."""
        return 0 if self._backends.statsd is None else self._backends.statsd.dropped

    def _after_fork_in_child(self) -> None:
        """Makes the inherited layer this process's (see the module documentation)."""
        # A lock another thread of the parent held at the fork stays held here for ever.
        self._lock = threading.RLock()
        # The parent's push backends: their threads did not come along and their buffers are the
        # parent's to send. Closed or freed here, the native objects know it is a copy and
        # neither join nor send; this process gets backends of its own.
        statsd = self._backends.statsd
        if statsd is not None:
            self._backends.statsd = self._new_statsd()
            for collector in self._collectors.values():
                collector._statsd = self._backends.statsd
        if self._remote_write is not None:
            # The parent's copy: closing it forgets the parent's thread and sends nothing.
            self._remote_write.close()
            self._remote_write = None
            if self._merged is None:
                # Each process writes its own registry, told apart by its pid.
                labels = dict(self._remote_write_settings.get("external_labels") or {})
                self._remote_write_settings["external_labels"] = {**labels, "pid": str(os.getpid())}
                self._start_remote_write()
        if self._otlp is not None:
            self._otlp = None
            if self._merged is None:
                # Each process exports its own registry, told apart by its pid.
                self._otlp_settings["resource"] = {**self._otlp_settings["resource"], "process.pid": str(os.getpid())}
                self._start_otlp()
        if self._multiprocess_dir is not None:
            self._use_multiprocess(self._multiprocess_dir)
            for collector in self._collectors.values():
                if not collector.spec.labels or any(family.samples for family in collector._metric.collect()):
                    self._renew(collector)

    def _renew(self, collector: MetricCollector) -> None:
        """Gives a collector a new native metric, whose series are this process's own."""
        old = collector._metric
        collector._metric = collector._make_metric()
        try:
            self.registry.unregister(old)
        except KeyError:
            pass
        self.registry.register(collector._metric)
        self._attach(collector)


# Every layer alive, for the fork and exit hooks.
_LAYERS: "weakref.WeakSet[MetricsRegistry]" = weakref.WeakSet()
# Directories setup_multiprocess() made, and the pid of the process that made each.
_OWNED_DIRECTORIES: List[Tuple[str, int]] = []
def _after_fork_in_child() -> None:
    MetricsRegistry._instance_lock = threading.Lock()
    for layer in list(_LAYERS):
        layer._after_fork_in_child()


def _at_exit() -> None:
    for layer in list(_LAYERS):
        layer.close()
    pid = os.getpid()
    for path, owner in _OWNED_DIRECTORIES:
        if owner == pid:
            shutil.rmtree(path, ignore_errors=True)


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)


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
