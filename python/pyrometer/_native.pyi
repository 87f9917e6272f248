"""The native module: metrics, the registry, encoders and parsers implemented in Rust."""

from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Self, Sequence, Set, Tuple, final


from typing_extensions import disjoint_base

from .metrics_core import Metric

__all__ = [
    "Counter",
    "DuplicateTimeseries",
    "LayerWrite",
    "_hot_path_missing",
    "generate_graphite",
    "graphite_send",
    "PushSchedule",
    "generate_openmetrics",
    "generate_text",
    "negotiate",
    "pushgateway_url",
    "pushgateway_segments",
    "gzip_body",
    "Gauge",
    "Histogram",
    "Info",
    "MetricsServer",
    "MultiProcessCollector",
    "OtlpExporter",
    "parse_openmetrics",
    "RemoteWriter",
    "RemoteWriteMetrics",
    "parse_text",
    "CollectorRegistry",
    "disable_created_metrics",
    "enable_created_metrics",
    "created_enabled",
    "set_legacy_validation",
    "retire_process",
    "Enum",
    "SampledCounter",
    "StatsdClient",
    "Summary",
    "Timer",
    "Value",
    "set_default_registry",
    "write_textfile",
]

class DuplicateTimeseries(ValueError): ...

class _Metric:
    _type: str
    def __new__(
        cls,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = ...,
        namespace: str = ...,
        subsystem: str = ...,
        unit: str = ...,
        registry: Optional[Any] = None,
        _labelvalues: Optional[Sequence[str]] = None,
        _parent: Optional[Any] = None,
    ) -> Self: ...
    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = ...,
        namespace: str = ...,
        subsystem: str = ...,
        unit: str = ...,
        registry: Optional[Any] = ...,
        _labelvalues: Optional[Sequence[str]] = ...,
        _parent: Optional[Any] = ...,
    ) -> None: ...
    def labels(self, *labelvalues: Any, **labelkwargs: Any) -> Self: ...
    def __copy__(self) -> Self: ...
    def _existing_child(self, *labelvalues: Any) -> Optional[Self]: ...
    def remove(self, *args: Any) -> None: ...
    def remove_by_labels(self, labels: Any) -> None: ...
    def clear(self) -> None: ...
    def set_series_limit(self, max_series: int) -> None: ...
    def collect(self) -> List[Metric]: ...
    def describe(self) -> List[Metric]: ...
    @property
    def _name(self) -> str: ...
    @property
    def _documentation(self) -> str: ...
    @property
    def _labelnames(self) -> Tuple[str, ...]: ...
    @property
    def _labelvalues(self) -> Tuple[str, ...]: ...

@disjoint_base
class Counter(_Metric):
    def inc(self, amount: float = 1.0, exemplar: Optional[Dict[str, str]] = None) -> None: ...
    def reset(self) -> None: ...
    def _get(self) -> float: ...
    def count_exceptions(self, exception: Any = None) -> Any: ...
    @property
    def _value(self) -> Value: ...

@disjoint_base
class Gauge(_Metric):
    def __new__(
        cls,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = ...,
        namespace: str = ...,
        subsystem: str = ...,
        unit: str = ...,
        registry: Optional[Any] = None,
        _labelvalues: Optional[Sequence[str]] = None,
        _parent: Optional[Any] = None,
        multiprocess_mode: str = ...,
    ) -> Self: ...
    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = ...,
        namespace: str = ...,
        subsystem: str = ...,
        unit: str = ...,
        registry: Optional[Any] = ...,
        _labelvalues: Optional[Sequence[str]] = ...,
        _parent: Optional[Any] = ...,
        multiprocess_mode: str = ...,
    ) -> None: ...
    def inc(self, amount: float = 1.0) -> None: ...
    def dec(self, amount: float = 1.0) -> None: ...
    def set(self, value: float) -> None: ...
    def set_to_current_time(self) -> None: ...
    def set_function(self, function: Callable[[], float]) -> None: ...
    def _get(self) -> float: ...
    def time(self) -> Timer: ...
    def track_inprogress(self) -> Any: ...
    @property
    def _value(self) -> Value: ...

@disjoint_base
class Summary(_Metric):
    def __new__(
        cls,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = ...,
        namespace: str = ...,
        subsystem: str = ...,
        unit: str = ...,
        registry: Optional[Any] = None,
        _labelvalues: Optional[Sequence[str]] = None,
        _parent: Optional[Any] = None,
        quantiles: Optional[Sequence[float]] = None,
        max_age_seconds: float = 600.0,
        age_buckets: int = 5,
        max_samples: int = 2048,
    ) -> Self: ...
    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = ...,
        namespace: str = ...,
        subsystem: str = ...,
        unit: str = ...,
        registry: Optional[Any] = ...,
        _labelvalues: Optional[Sequence[str]] = ...,
        _parent: Optional[Any] = ...,
        quantiles: Optional[Sequence[float]] = ...,
        max_age_seconds: Optional[float] = ...,
        age_buckets: Optional[int] = ...,
        max_samples: Optional[int] = ...,
    ) -> None: ...
    def observe(self, amount: float) -> None: ...
    def time(self) -> Timer: ...
    def quantile(self, q: float) -> Optional[float]: ...

@disjoint_base
class SampledCounter(_Metric):
    def __new__(
        cls,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = ...,
        namespace: str = ...,
        subsystem: str = ...,
        unit: str = ...,
        registry: Optional[Any] = None,
        _labelvalues: Optional[Sequence[str]] = None,
        _parent: Optional[Any] = None,
        sample_rate: float = 1.0,
    ) -> Self: ...
    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = ...,
        namespace: str = ...,
        subsystem: str = ...,
        unit: str = ...,
        registry: Optional[Any] = ...,
        _labelvalues: Optional[Sequence[str]] = ...,
        _parent: Optional[Any] = ...,
        sample_rate: Optional[float] = ...,
    ) -> None: ...
    def inc(self, amount: float = 1.0) -> None: ...
    def _get(self) -> float: ...
    @property
    def sample_rate(self) -> float: ...

@final
class OtlpExporter:
    def __new__(
        cls,
        registry: CollectorRegistry,
        endpoint: str,
        *,
        interval: float = 60.0,
        resource: Optional[Dict[str, str]] = None,
        headers: Optional[Dict[str, str]] = None,
        timeout: float = 10.0,
        max_retries: int = 5,
    ) -> Self: ...
    def export(self) -> None: ...
    def close(self) -> None: ...
    @property
    def exports(self) -> int: ...
    @property
    def failures(self) -> int: ...
    @property
    def last_error(self) -> Optional[str]: ...

@final
class RemoteWriter:
    def __new__(
        cls,
        registry: CollectorRegistry,
        url: str,
        *,
        interval: float = 15.0,
        protocol: str = "1.0",
        external_labels: Optional[Dict[str, str]] = None,
        headers: Optional[Dict[str, str]] = None,
        basic_auth: Optional[Tuple[str, str]] = None,
        bearer_token: Optional[str] = None,
        timeout: float = 30.0,
        max_samples_per_send: int = 2000,
        max_pending_samples: int = 100000,
        max_pending_bytes: int = 67108864,
        batch_send_deadline: float = 5.0,
        shards: int = 4,
        min_backoff: float = 0.03,
        max_backoff: float = 5.0,
        native_histograms: bool = True,
        exemplars: bool = False,
        stale_on_close: bool = True,
        shutdown_timeout: float = 5.0,
        tls_ca_file: Optional[str] = None,
        tls_cert_file: Optional[str] = None,
        tls_key_file: Optional[str] = None,
    ) -> Self: ...
    def start(self) -> None: ...
    def flush(self, timeout: float = 30.0) -> bool: ...
    def close(self) -> None: ...
    def stats(self) -> Dict[str, Any]: ...

@final
class RemoteWriteMetrics:
    def __new__(cls) -> Self: ...
    def add(self, writer: RemoteWriter) -> None: ...
    def remove(self, writer: RemoteWriter) -> bool: ...

@final
class StatsdClient:
    def __new__(
        cls,
        host: str = "localhost",
        port: int = 8125,
        *,
        prefix: str = "",
        tags: Optional[Dict[str, str]] = None,
        dogstatsd: bool = True,
        max_packet_size: int = 1432,
        flush_interval: float = 1.0,
    ) -> Self: ...
    def count(self, name: str, value: float = 1.0, tags: Optional[Dict[str, str]] = None, sample_rate: float = 1.0) -> None: ...
    def gauge(self, name: str, value: float, tags: Optional[Dict[str, str]] = None, min_interval: Optional[float] = None) -> None: ...
    def observe(self, name: str, value: float, tags: Optional[Dict[str, str]] = None) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
    @property
    def dropped(self) -> int: ...
    @property
    def packets(self) -> int: ...

@disjoint_base
class Histogram(_Metric):
    def __new__(
        cls,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = ...,
        namespace: str = ...,
        subsystem: str = ...,
        unit: str = ...,
        registry: Optional[Any] = None,
        _labelvalues: Optional[Sequence[str]] = None,
        _parent: Optional[Any] = None,
        buckets: Optional[Sequence[Any]] = ...,
        native_histogram_bucket_factor: Optional[float] = ...,
        native_histogram_zero_threshold: Optional[float] = ...,
        native_histogram_max_buckets: Optional[int] = ...,
        native_histogram_min_reset_duration: Optional[float] = ...,
        native_histogram_max_zero_threshold: Optional[float] = ...,
    ) -> Self: ...
    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = ...,
        namespace: str = ...,
        subsystem: str = ...,
        unit: str = ...,
        registry: Optional[Any] = ...,
        _labelvalues: Optional[Sequence[str]] = ...,
        _parent: Optional[Any] = ...,
        buckets: Optional[Sequence[Any]] = ...,
        native_histogram_bucket_factor: Optional[float] = ...,
        native_histogram_zero_threshold: Optional[float] = ...,
        native_histogram_max_buckets: Optional[int] = ...,
        native_histogram_min_reset_duration: Optional[float] = ...,
        native_histogram_max_zero_threshold: Optional[float] = ...,
    ) -> None: ...
    DEFAULT_BUCKETS: Tuple[float, ...]
    def observe(self, amount: float, exemplar: Optional[Dict[str, str]] = None) -> None: ...
    def time(self) -> Timer: ...
    @property
    def _upper_bounds(self) -> List[float]: ...

@disjoint_base
class Info(_Metric):
    def info(self, val: Dict[str, str]) -> None: ...

@disjoint_base
class Enum(_Metric):
    def __new__(
        cls,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = ...,
        namespace: str = ...,
        subsystem: str = ...,
        unit: str = ...,
        registry: Optional[Any] = None,
        _labelvalues: Optional[Sequence[str]] = None,
        _parent: Optional[Any] = None,
        states: Optional[Sequence[str]] = ...,
    ) -> Self: ...
    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = ...,
        namespace: str = ...,
        subsystem: str = ...,
        unit: str = ...,
        registry: Optional[Any] = ...,
        _labelvalues: Optional[Sequence[str]] = ...,
        _parent: Optional[Any] = ...,
        states: Optional[Sequence[str]] = ...,
    ) -> None: ...
    def state(self, state: str) -> None: ...

@disjoint_base
class CollectorRegistry:
    def __new__(
        cls,
        auto_describe: bool = False,
        target_info: Optional[Dict[str, str]] = None,
        support_collectors_without_names: bool = False,
        *,
        max_series_per_family: Optional[int] = None,
    ) -> Self: ...
    def register(self, collector: Any) -> None: ...
    def unregister(self, collector: Any) -> None: ...
    @property
    def _collector_to_names(self) -> Dict[Any, List[str]]: ...
    @property
    def _names_to_collectors(self) -> Dict[str, Any]: ...
    def collect(self) -> Iterator[Metric]: ...
    def _collect_restricted(self, names: Set[str]) -> Iterator[Metric]: ...
    def set_target_info(self, labels: Optional[Dict[str, str]]) -> None: ...
    def get_target_info(self) -> Optional[Dict[str, str]]: ...
    def get_sample_value(self, name: str, labels: Optional[Dict[str, str]] = None) -> Optional[float]: ...
    def _generate_graphite(self, prefix: str = "", tags: bool = False, timestamp: int = 0) -> bytes: ...
    def _generate_text(self, escaping_name: str = "underscores", names: Optional[Set[str]] = None) -> bytes: ...
    def _generate_openmetrics(
        self, escaping_name: str = "underscores", names: Optional[Set[str]] = None, version: str = "1.0.0"
    ) -> bytes: ...

_hot_path_missing: List[str]

@final
class LayerWrite:
    """One write method of a registry-layer collector, served by its native metric."""

    def __new__(cls, metric: Any, operation: str, fallback: Any) -> Self: ...
    def write(self, *args: Any, **kwargs: Any) -> Any: ...

@disjoint_base
class MultiProcessCollector:
    def __new__(cls, registry: Optional[Any] = None, path: Optional[str] = None) -> Self: ...
    def collect(self) -> List[Metric]: ...
    def reap(self) -> int: ...
    @property
    def _problems(self) -> List[str]: ...

@final
class MetricsServer:
    def __new__(
        cls,
        registry: CollectorRegistry,
        addr: str = "0.0.0.0",
        port: int = 0,
        disable_compression: bool = False,
        certfile: Optional[str] = None,
        keyfile: Optional[str] = None,
        client_cafiles: Sequence[str] = ...,
        client_auth_required: bool = False,
        tls_min_version: Optional[str] = None,
        tls_max_version: Optional[str] = None,
        max_connections: int = 64,
        idle_timeout: float = 2.0,
        header_timeout: float = 10.0,
        connection_timeout: float = 120.0,
    ) -> Self: ...
    def serve_forever(self) -> None: ...
    def shutdown(self) -> None: ...
    def server_close(self) -> None: ...
    @property
    def server_address(self) -> Tuple[str, int]: ...
    @property
    def server_port(self) -> int: ...

@final
class Timer:
    @property
    def duration(self) -> Optional[float]: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, _exc_type: Any = None, _exc_value: Any = None, _traceback: Any = None) -> None: ...
    def labels(self, *args: Any, **kwargs: Any) -> None: ...
    def _fresh(self) -> "Timer": ...
    def __call__(self, function: Any) -> Any: ...

@final
class Value:
    def get(self) -> float: ...
    def set(self, value: float) -> None: ...
    def inc(self, amount: float) -> None: ...

def set_default_registry(registry: Any) -> None: ...
def disable_created_metrics() -> None: ...
def enable_created_metrics() -> None: ...
def created_enabled() -> bool: ...
def set_legacy_validation(legacy: bool) -> None: ...
def retire_process(identifier: str, path: Optional[str] = None) -> bool: ...
def generate_graphite(metrics: Iterable[Metric], prefix: str = "", tags: bool = False, timestamp: int = 0) -> bytes: ...
def generate_text(metrics: Iterable[Metric], escaping_name: str = "underscores") -> bytes: ...
def generate_openmetrics(
    metrics: Iterable[Metric], escaping_name: str = "underscores", version: str = "1.0.0"
) -> bytes: ...
def negotiate(accept: Optional[str]) -> Tuple[str, Optional[str], str, str]: ...
def parse_text(text: str) -> List[Metric]: ...
def graphite_send(addresses: List[Tuple[Any, ...]], timeout: Optional[float], data: bytes) -> None: ...
def pushgateway_url(gateway: str, job: str, grouping_key: List[Tuple[str, str]]) -> str: ...
def pushgateway_segments(key: str, value: str) -> Tuple[str, str]: ...
def gzip_body(data: bytes) -> bytes: ...
def write_textfile(path: Any, staged: Any, data: bytes) -> None: ...
def parse_openmetrics(text: str) -> List[Metric]: ...

@final
class PushSchedule:
    def __new__(cls, interval: float) -> Self: ...
    def wait(self) -> bool: ...
    def stop(self) -> None: ...
