"""The metric set vLLM (v1 engine, 0.11-0.12) exposes, with its exact names, types, labels and
buckets, declared on a :class:`~pyrometer.prometheus_registry.MetricsRegistry`.

Names are as vLLM declares them: counters without ``_total``, which exposition appends. Labels
are ``model_name`` and ``engine`` unless noted. Gauges that vLLM marks
``multiprocess_mode="mostrecent"`` keep that mode, so the set works across API server
processes. As in vLLM, some metrics exist only with a feature on (the constructor's flags), and
the deprecated names (``vllm:gpu_cache_usage_perc``, ``vllm:gpu_prefix_cache_queries``,
``vllm:gpu_prefix_cache_hits``, ``vllm:time_per_output_token_seconds``) only with
``show_hidden_metrics``. ``vllm:cache_config_info`` is a gauge set to 1 whose labels are the
cache configuration's fields and ``engine``, declared when the configuration is published
(:meth:`VLLMMetrics.set_cache_config`), as vLLM emulates an info metric.

Differences from vLLM (``docs/compat.md``): ``vllm:lora_requests_info``, whose value is the
time of the last update, merges across processes by ``mostrecent`` where vLLM sums it (a sum of
timestamps is meaningless; with one process the two agree); a label set's series is made when it
is first written, where vLLM makes every engine's series at start; and newer vLLM releases add
metrics this set does not declare (``vllm:prompt_tokens_by_source``,
``vllm:prompt_tokens_cached``, NIXL and MFU metrics...).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Iterable, List, Mapping, Optional, Sequence

from .prometheus_registry import Counter, Gauge, Histogram, MetricsRegistry, MetricSpec, MetricType

__all__ = ("VLLMMetrics", "get_metrics", "build_1_2_5_buckets")

LABELS = ("model_name", "engine")

ITERATION_TOKENS_BUCKETS = (1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
REQUEST_N_BUCKETS = (1, 2, 5, 10, 20)
TIME_TO_FIRST_TOKEN_BUCKETS = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
    160.0, 640.0, 2560.0,
)  # fmt: skip
TOKEN_LATENCY_BUCKETS = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
)  # fmt: skip
REQUEST_LATENCY_BUCKETS = (
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0,
    1920.0, 7680.0,
)  # fmt: skip
KV_BLOCK_BUCKETS = (
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0,
    600.0, 1200.0, 1800.0,
)  # fmt: skip
SLEEP_STATES = ("awake", "weights_offloaded", "discard_all")


def build_1_2_5_buckets(max_value: int) -> List[int]:
    """1, 2, 5, 10, 20, 50, ... up to ``max_value``, as vLLM builds its token-count buckets."""
    buckets: List[int] = []
    exponent = 0
    while True:
        for mantissa in (1, 2, 5):
            value = mantissa * 10**exponent
            if value > max_value:
                return buckets
            buckets.append(value)
        exponent += 1


class VLLMMetrics:
    """vLLM's metrics. Each attribute is a collector; pass labels as vLLM does, for instance
    ``metrics.prompt_tokens.increment(12, {"model_name": "m", "engine": "0"})``.

    ``max_model_len`` bounds the token-count buckets. The flags add what vLLM adds under the
    same conditions: ``kv_cache_metrics`` (``--kv-cache-metrics``), ``compute_nans_in_logits``
    (``VLLM_COMPUTE_NANS_IN_LOGITS``), ``speculative_decoding`` (a speculative config),
    ``lora`` (a LoRA config), ``fault_tolerance`` (``--enable-fault-tolerance``) and
    ``show_hidden_metrics`` (``--show-hidden-metrics-for-version``, the deprecated names).
    Metrics left out are ``None``.
    """

    def __init__(
        self,
        registry: Optional[MetricsRegistry] = None,
        *,
        max_model_len: int = 8192,
        kv_cache_metrics: bool = False,
        compute_nans_in_logits: bool = False,
        speculative_decoding: bool = False,
        lora: bool = False,
        fault_tolerance: bool = False,
        show_hidden_metrics: bool = False,
    ) -> None:
        self.registry = registry or MetricsRegistry.get_instance()
        r = self.registry

        def gauge(name: str, doc: str, labels: Sequence[str] = LABELS) -> Gauge:
            spec = MetricSpec(name, doc, tuple(labels), metric_type=MetricType.GAUGE, multiprocess_mode="mostrecent")
            return r.register(spec)  # type: ignore[return-value]

        def counter(name: str, doc: str, extra: Sequence[str] = ()) -> Counter:
            return r.counter(name, doc, LABELS + tuple(extra))

        def histogram(name: str, doc: str, buckets: Sequence[float]) -> Histogram:
            return r.histogram(name, doc, LABELS, buckets=buckets)

        # Scheduler and cache state.
        self.num_requests_running = gauge("vllm:num_requests_running", "Number of requests in model execution batches.")
        self.num_requests_waiting = gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.")
        self.kv_cache_usage_perc = gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.")
        self.engine_sleep_state = gauge(
            "vllm:engine_sleep_state",
            "Engine sleep state; awake = 0 means engine is sleeping.",
            LABELS + ("sleep_state",),
        )
        #: ``vllm:cache_config_info``, declared by :meth:`set_cache_config`.
        self.cache_config_info: Optional[Gauge] = None
        self.lora_requests_info: Optional[Gauge] = None
        if lora:
            self.lora_requests_info = gauge(
                "vllm:lora_requests_info",
                "Running stats on lora requests.",
                ("max_lora", "waiting_lora_adapters", "running_lora_adapters"),
            )
        self.engine_healthy: Optional[Gauge] = None
        if fault_tolerance:
            self.engine_healthy = gauge(
                "vllm:engine_healthy", "Whether the engine reports healthy under fault tolerance.", ("engine",)
            )

        # Counters.
        self.prefix_cache_queries = counter(
            "vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens."
        )
        self.prefix_cache_hits = counter("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.")
        self.external_prefix_cache_queries = counter(
            "vllm:external_prefix_cache_queries", "External prefix cache queries from KV connector, in tokens."
        )
        self.external_prefix_cache_hits = counter(
            "vllm:external_prefix_cache_hits", "External prefix cache hits from KV connector, in tokens."
        )
        self.mm_cache_queries = counter("vllm:mm_cache_queries", "Multi-modal cache queries, in terms of number of queried items.")
        self.mm_cache_hits = counter("vllm:mm_cache_hits", "Multi-modal cache hits, in terms of number of cached items.")
        self.num_preemptions = counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.")
        self.prompt_tokens = counter("vllm:prompt_tokens", "Number of prefill tokens processed.")
        self.generation_tokens = counter("vllm:generation_tokens", "Number of generation tokens processed.")
        self.request_success = counter(
            "vllm:request_success", "Count of successfully processed requests.", ("finished_reason",)
        )
        self.corrupted_requests: Optional[Counter] = None
        if compute_nans_in_logits:
            self.corrupted_requests = counter(
                "vllm:corrupted_requests", "Corrupted requests, in terms of total number of requests with NaNs in logits."
            )
        self.spec_decode_num_drafts: Optional[Counter] = None
        self.spec_decode_num_draft_tokens: Optional[Counter] = None
        self.spec_decode_num_accepted_tokens: Optional[Counter] = None
        self.spec_decode_num_accepted_tokens_per_pos: Optional[Counter] = None
        if speculative_decoding:
            self.spec_decode_num_drafts = counter("vllm:spec_decode_num_drafts", "Number of spec decoding drafts.")
            self.spec_decode_num_draft_tokens = counter("vllm:spec_decode_num_draft_tokens", "Number of draft tokens.")
            self.spec_decode_num_accepted_tokens = counter(
                "vllm:spec_decode_num_accepted_tokens", "Number of accepted tokens."
            )
            self.spec_decode_num_accepted_tokens_per_pos = counter(
                "vllm:spec_decode_num_accepted_tokens_per_pos", "Accepted tokens per draft position.", ("position",)
            )

        # Histograms.
        token_buckets = build_1_2_5_buckets(max_model_len)
        self.request_prompt_tokens = histogram("vllm:request_prompt_tokens", "Number of prefill tokens processed.", token_buckets)
        self.request_generation_tokens = histogram(
            "vllm:request_generation_tokens", "Number of generation tokens processed.", token_buckets
        )
        self.request_max_num_generation_tokens = histogram(
            "vllm:request_max_num_generation_tokens", "Histogram of maximum number of requested generation tokens.", token_buckets
        )
        self.request_params_max_tokens = histogram(
            "vllm:request_params_max_tokens", "Histogram of the max_tokens request parameter.", token_buckets
        )
        self.iteration_tokens_total = histogram(
            "vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.", ITERATION_TOKENS_BUCKETS
        )
        self.request_params_n = histogram("vllm:request_params_n", "Histogram of the n request parameter.", REQUEST_N_BUCKETS)
        self.time_to_first_token_seconds = histogram(
            "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", TIME_TO_FIRST_TOKEN_BUCKETS
        )
        self.inter_token_latency_seconds = histogram(
            "vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", TOKEN_LATENCY_BUCKETS
        )
        self.request_time_per_output_token_seconds = histogram(
            "vllm:request_time_per_output_token_seconds",
            "Histogram of time_per_output_token_seconds per request.",
            TOKEN_LATENCY_BUCKETS,
        )
        self.e2e_request_latency_seconds = histogram(
            "vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", REQUEST_LATENCY_BUCKETS
        )
        self.request_queue_time_seconds = histogram(
            "vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", REQUEST_LATENCY_BUCKETS
        )
        self.request_inference_time_seconds = histogram(
            "vllm:request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.", REQUEST_LATENCY_BUCKETS
        )
        self.request_prefill_time_seconds = histogram(
            "vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", REQUEST_LATENCY_BUCKETS
        )
        self.request_decode_time_seconds = histogram(
            "vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", REQUEST_LATENCY_BUCKETS
        )
        self.kv_block_lifetime_seconds: Optional[Histogram] = None
        self.kv_block_idle_before_evict_seconds: Optional[Histogram] = None
        self.kv_block_reuse_gap_seconds: Optional[Histogram] = None
        if kv_cache_metrics:
            self.kv_block_lifetime_seconds = histogram(
                "vllm:kv_block_lifetime_seconds", "KV cache block lifetime from allocation to eviction.", KV_BLOCK_BUCKETS
            )
            self.kv_block_idle_before_evict_seconds = histogram(
                "vllm:kv_block_idle_before_evict_seconds", "Idle time before KV cache block eviction.", KV_BLOCK_BUCKETS
            )
            self.kv_block_reuse_gap_seconds = histogram(
                "vllm:kv_block_reuse_gap_seconds", "Time gaps between consecutive KV cache block accesses.", KV_BLOCK_BUCKETS
            )

        # Deprecated names, shown only when asked for, as vLLM hides them.
        self.gpu_cache_usage_perc: Optional[Gauge] = None
        self.gpu_prefix_cache_queries: Optional[Counter] = None
        self.gpu_prefix_cache_hits: Optional[Counter] = None
        self.time_per_output_token_seconds: Optional[Histogram] = None
        if show_hidden_metrics:
            self.gpu_cache_usage_perc = gauge(
                "vllm:gpu_cache_usage_perc",
                "GPU KV-cache usage. 1 means 100 percent usage. DEPRECATED: use vllm:kv_cache_usage_perc.",
            )
            self.gpu_prefix_cache_queries = counter(
                "vllm:gpu_prefix_cache_queries",
                "GPU prefix cache queries, in terms of number of queried tokens. DEPRECATED: use vllm:prefix_cache_queries.",
            )
            self.gpu_prefix_cache_hits = counter(
                "vllm:gpu_prefix_cache_hits",
                "GPU prefix cache hits, in terms of number of cached tokens. DEPRECATED: use vllm:prefix_cache_hits.",
            )
            self.time_per_output_token_seconds = histogram(
                "vllm:time_per_output_token_seconds",
                "Histogram of time per output token in seconds. DEPRECATED: use vllm:inter_token_latency_seconds.",
                TOKEN_LATENCY_BUCKETS,
            )

    def set_cache_config(self, config: Mapping[str, object], engine: object = "0") -> Gauge:
        """Publishes the cache configuration as ``vllm:cache_config_info{<fields>, engine} 1``,
        each field's value as text, declaring the gauge on first call. Later calls (another
        engine) must give the same fields."""
        labels = {str(key): str(value) for key, value in config.items() if key != "engine"}
        labels["engine"] = str(engine)
        spec = MetricSpec(
            "vllm:cache_config_info",
            "Information of the LLMEngine CacheConfig",
            tuple(labels),
            metric_type=MetricType.GAUGE,
            multiprocess_mode="mostrecent",
        )
        gauge: Gauge = self.registry.register(spec)  # type: ignore[assignment]
        gauge.set(1.0, labels)
        self.cache_config_info = gauge
        return gauge

    def set_sleep_state(self, state: str, model_name: str, engine: str = "0") -> None:
        """Sets ``vllm:engine_sleep_state`` to 1 for ``state`` and 0 for the others."""
        if state not in SLEEP_STATES:
            raise ValueError(f"unknown sleep state {state!r}; expected one of {SLEEP_STATES}")
        for name in SLEEP_STATES:
            labels = {"model_name": model_name, "engine": engine, "sleep_state": name}
            self.engine_sleep_state.set(1.0 if name == state else 0.0, labels)

    def set_lora_requests(self, max_lora: int, waiting: Iterable[str], running: Iterable[str]) -> None:
        """Sets ``vllm:lora_requests_info`` for these adapters (names joined by commas) to the
        current time, as vLLM does; needs ``lora=True``."""
        if self.lora_requests_info is None:
            raise ValueError("vllm:lora_requests_info is declared with lora=True")
        labels = {
            "max_lora": str(max_lora),
            "waiting_lora_adapters": ",".join(waiting),
            "running_lora_adapters": ",".join(running),
        }
        self.lora_requests_info.set(time.time(), labels)


_metrics: Optional[VLLMMetrics] = None
_metrics_lock = threading.Lock()


def get_metrics() -> VLLMMetrics:
    """The process's :class:`VLLMMetrics` (vLLM's default set), on the process's
    :class:`MetricsRegistry`: made on first call, and again after
    :meth:`MetricsRegistry.reset_instance`; a forked child keeps its parent's."""
    global _metrics
    registry = MetricsRegistry.get_instance()
    with _metrics_lock:
        if _metrics is None or _metrics.registry is not registry:
            _metrics = VLLMMetrics(registry)
        return _metrics


def _after_fork_in_child() -> None:
    # The lock may have been held by another thread of the parent at the fork.
    global _metrics_lock
    _metrics_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)
