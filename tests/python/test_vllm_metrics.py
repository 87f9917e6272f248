"""The vLLM set: every metric vLLM 0.11-0.12 exports, with its name, type, labels, buckets and
multiprocess mode, the ones vLLM adds under a flag, and the deprecated ones behind
show_hidden_metrics."""

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families

import pyrometer
from _registry_layer import fresh
from pyrometer import vllm_metrics

LABELS = ("model_name", "engine")
TOKENS_1000 = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
TTFT = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640,
        2560)  # fmt: skip
TPOT = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80)
LATENCY = (0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680)
ITERATION = (1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
KV_BLOCK = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800)

# name: (type, labels, buckets or a gauge's multiprocess mode), with max_model_len=1000.
DEFAULT_SET = {
    "vllm:num_requests_running": ("gauge", LABELS, "mostrecent"),
    "vllm:num_requests_waiting": ("gauge", LABELS, "mostrecent"),
    "vllm:kv_cache_usage_perc": ("gauge", LABELS, "mostrecent"),
    "vllm:engine_sleep_state": ("gauge", LABELS + ("sleep_state",), "mostrecent"),
    "vllm:prefix_cache_queries": ("counter", LABELS, None),
    "vllm:prefix_cache_hits": ("counter", LABELS, None),
    "vllm:external_prefix_cache_queries": ("counter", LABELS, None),
    "vllm:external_prefix_cache_hits": ("counter", LABELS, None),
    "vllm:mm_cache_queries": ("counter", LABELS, None),
    "vllm:mm_cache_hits": ("counter", LABELS, None),
    "vllm:num_preemptions": ("counter", LABELS, None),
    "vllm:prompt_tokens": ("counter", LABELS, None),
    "vllm:generation_tokens": ("counter", LABELS, None),
    "vllm:request_success": ("counter", LABELS + ("finished_reason",), None),
    "vllm:request_prompt_tokens": ("histogram", LABELS, TOKENS_1000),
    "vllm:request_generation_tokens": ("histogram", LABELS, TOKENS_1000),
    "vllm:request_max_num_generation_tokens": ("histogram", LABELS, TOKENS_1000),
    "vllm:request_params_max_tokens": ("histogram", LABELS, TOKENS_1000),
    "vllm:iteration_tokens_total": ("histogram", LABELS, ITERATION),
    "vllm:request_params_n": ("histogram", LABELS, (1, 2, 5, 10, 20)),
    "vllm:time_to_first_token_seconds": ("histogram", LABELS, TTFT),
    "vllm:inter_token_latency_seconds": ("histogram", LABELS, TPOT),
    "vllm:request_time_per_output_token_seconds": ("histogram", LABELS, TPOT),
    "vllm:e2e_request_latency_seconds": ("histogram", LABELS, LATENCY),
    "vllm:request_queue_time_seconds": ("histogram", LABELS, LATENCY),
    "vllm:request_inference_time_seconds": ("histogram", LABELS, LATENCY),
    "vllm:request_prefill_time_seconds": ("histogram", LABELS, LATENCY),
    "vllm:request_decode_time_seconds": ("histogram", LABELS, LATENCY),
}

BY_FLAG = {
    "kv_cache_metrics": {
        "vllm:kv_block_lifetime_seconds": ("histogram", LABELS, KV_BLOCK),
        "vllm:kv_block_idle_before_evict_seconds": ("histogram", LABELS, KV_BLOCK),
        "vllm:kv_block_reuse_gap_seconds": ("histogram", LABELS, KV_BLOCK),
    },
    "compute_nans_in_logits": {"vllm:corrupted_requests": ("counter", LABELS, None)},
    "speculative_decoding": {
        "vllm:spec_decode_num_drafts": ("counter", LABELS, None),
        "vllm:spec_decode_num_draft_tokens": ("counter", LABELS, None),
        "vllm:spec_decode_num_accepted_tokens": ("counter", LABELS, None),
        "vllm:spec_decode_num_accepted_tokens_per_pos": ("counter", LABELS + ("position",), None),
    },
    # Summed across processes by vLLM: see the module's documented difference.
    "lora": {
        "vllm:lora_requests_info": (
            "gauge", ("max_lora", "waiting_lora_adapters", "running_lora_adapters"), "mostrecent"
        ),
    },
    "fault_tolerance": {"vllm:engine_healthy": ("gauge", ("engine",), "mostrecent")},
    "show_hidden_metrics": {
        "vllm:gpu_cache_usage_perc": ("gauge", LABELS, "mostrecent"),
        "vllm:gpu_prefix_cache_queries": ("counter", LABELS, None),
        "vllm:gpu_prefix_cache_hits": ("counter", LABELS, None),
        "vllm:time_per_output_token_seconds": ("histogram", LABELS, TPOT),
    },
}


def declared(layer):
    """What the layer's scrape declares (names and types, from `# TYPE` lines), with each
    metric's labels and buckets or mode from its spec."""
    text = layer.generate_latest().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        spec = layer.get(family.name).spec
        extra = {"histogram": spec.buckets, "gauge": spec.multiprocess_mode}.get(family.type)
        out[family.name] = (family.type, spec.labels, extra)
    return out


def test_the_default_set_is_vllms():
    layer = fresh()
    vllm_metrics.VLLMMetrics(layer, max_model_len=1000)
    assert declared(layer) == DEFAULT_SET


@pytest.mark.parametrize("flag", sorted(BY_FLAG))
def test_each_flag_adds_what_vllm_adds_under_it(flag):
    layer = fresh()
    metrics = vllm_metrics.VLLMMetrics(layer, max_model_len=1000, **{flag: True})
    assert declared(layer) == {**DEFAULT_SET, **BY_FLAG[flag]}
    for name in BY_FLAG[flag]:
        attribute = name.split(":")[1]
        assert getattr(metrics, attribute) is layer.get(name)
    for other in set(BY_FLAG) - {flag}:
        for name in BY_FLAG[other]:
            assert getattr(metrics, name.split(":")[1]) is None


def test_prometheus_client_accepts_every_declaration():
    layer = fresh()
    vllm_metrics.VLLMMetrics(layer, max_model_len=1000, **dict.fromkeys(BY_FLAG, True))
    upstream = prometheus_client.CollectorRegistry()
    classes = {
        "counter": prometheus_client.Counter,
        "gauge": prometheus_client.Gauge,
        "histogram": prometheus_client.Histogram,
    }
    for name, (kind, labels, extra) in declared(layer).items():
        options = {"buckets": extra} if kind == "histogram" else {"multiprocess_mode": extra} if kind == "gauge" else {}
        classes[kind](name, "Help.", labels, registry=upstream, **options)


def test_cache_config_info_is_a_gauge_set_to_one_with_the_config_as_labels():
    layer = fresh()
    metrics = vllm_metrics.VLLMMetrics(layer)
    assert metrics.cache_config_info is None
    gauge = metrics.set_cache_config({"block_size": 16, "cache_dtype": "auto", "enable_prefix_caching": True})
    metrics.set_cache_config({"block_size": 16, "cache_dtype": "auto", "enable_prefix_caching": True}, engine=1)
    assert metrics.cache_config_info is gauge
    assert gauge.spec.labels == ("block_size", "cache_dtype", "enable_prefix_caching", "engine")
    assert gauge.spec.multiprocess_mode == "mostrecent"
    registry = layer.registry
    for engine in ("0", "1"):
        labels = {"block_size": "16", "cache_dtype": "auto", "enable_prefix_caching": "True", "engine": engine}
        assert registry.get_sample_value("vllm:cache_config_info", labels) == 1
    om = pyrometer.openmetrics.exposition.generate_latest(registry).decode()
    assert "# TYPE vllm:cache_config_info gauge" in om
    with pytest.raises(ValueError, match="vllm:cache_config_info"):
        metrics.set_cache_config({"block_size": 32})


def test_the_set_takes_values_as_vllm_records_them():
    layer = fresh()
    m = vllm_metrics.VLLMMetrics(layer, max_model_len=1000, lora=True)
    labels = {"model_name": "llama", "engine": "0"}
    m.prompt_tokens.increment(12, labels)
    m.request_success.increment(labels={**labels, "finished_reason": "stop"})
    m.num_requests_running.set(3, labels)
    m.time_to_first_token_seconds.observe(0.03, labels)
    m.request_prompt_tokens.observe(300, labels)
    m.set_sleep_state("awake", "llama")
    m.set_lora_requests(4, ["a"], ["b", "c"])
    registry = layer.registry
    assert registry.get_sample_value("vllm:prompt_tokens_total", labels) == 12
    assert registry.get_sample_value("vllm:request_success_total", {**labels, "finished_reason": "stop"}) == 1
    assert registry.get_sample_value("vllm:num_requests_running", labels) == 3
    assert registry.get_sample_value("vllm:time_to_first_token_seconds_bucket", {**labels, "le": "0.04"}) == 1
    assert registry.get_sample_value("vllm:request_prompt_tokens_bucket", {**labels, "le": "500.0"}) == 1
    assert registry.get_sample_value("vllm:engine_sleep_state", {**labels, "sleep_state": "awake"}) == 1
    assert registry.get_sample_value("vllm:engine_sleep_state", {**labels, "sleep_state": "discard_all"}) == 0
    lora = {"max_lora": "4", "waiting_lora_adapters": "a", "running_lora_adapters": "b,c"}
    assert registry.get_sample_value("vllm:lora_requests_info", lora) > 1e9, "the time of the update"
    with pytest.raises(ValueError, match="lora=True"):
        vllm_metrics.VLLMMetrics(fresh()).set_lora_requests(1, [], [])
