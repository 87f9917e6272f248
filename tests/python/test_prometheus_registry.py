"""The MetricsRegistry layer: specs, collectors, guards and backends (StatsD over UDP and OTLP
over HTTP, both received on loopback and decoded)."""

import importlib
import math
import random
import socket
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import prometheus_client
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from prometheus_client.parser import text_string_to_metric_families

import pyrometer
from pyrometer import CollectorRegistry, MetricsBackend, MetricSpec, MetricsRegistry, MetricType
from pyrometer import prometheus_registry as pr


def fresh(**kwargs):
    return MetricsRegistry(registry=CollectorRegistry(), **kwargs)


def scraped(registry):
    """Sample values by (name, sorted labels), read back by prometheus_client's own parser."""
    text = registry.generate_latest().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_the_layer_is_reachable_from_the_package_without_changing_its_star_export():
    assert pyrometer.MetricsRegistry is pr.MetricsRegistry
    assert pyrometer.VLLMMetrics is pr.VLLMMetrics
    assert "MetricsRegistry" not in pyrometer.__all__
    assert pyrometer.Counter is not pr.Counter, "pyrometer.Counter stays prometheus_client's Counter"


def test_spec_full_name_and_value_semantics():
    spec = MetricSpec("requests", "Requests.", ["method"], namespace="app", subsystem="http")
    assert spec.full_name() == "app_http_requests"
    assert MetricSpec("x").full_name() == "x"
    assert spec.labels == ("method",)
    assert spec == MetricSpec("requests", "Requests.", ("method",), namespace="app", subsystem="http")
    assert hash(spec) == hash(MetricSpec("requests", "Requests.", ("method",), namespace="app", subsystem="http"))


def test_registering_the_same_spec_again_returns_the_same_collector_and_a_clash_names_both():
    r = fresh()
    c = r.counter("requests", "Requests.", ["method"], namespace="app")
    assert r.counter("requests", "Requests.", ["method"], namespace="app") is c
    assert r.get("app_requests") is c
    with pytest.raises(ValueError) as info:
        r.counter("requests", "Other help.", ["method"], namespace="app")
    message = str(info.value)
    assert "'app_requests'" in message and "Requests." in message and "Other help." in message
    with pytest.raises(ValueError, match="Gauge"):
        r.gauge("requests", "Requests.", ["method"], namespace="app")


def test_a_module_that_declares_metrics_at_import_can_be_imported_again(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    # The registry outlives the module, as the default REGISTRY does.
    (tmp_path / "declares_upstream.py").write_text(
        "import builtins, prometheus_client\n"
        "R = builtins.__dict__.setdefault('_upstream_registry', prometheus_client.CollectorRegistry())\n"
        "requests = prometheus_client.Counter('reimported', 'R.', registry=R)\n"
    )
    (tmp_path / "declares_layer.py").write_text(
        "import builtins\n"
        "from pyrometer import CollectorRegistry, MetricsRegistry\n"
        "R = builtins.__dict__.setdefault('_layer_registry', MetricsRegistry(registry=CollectorRegistry()))\n"
        "requests = R.counter('reimported', 'R.', ['route'])\n"
    )
    # prometheus_client's way fails on the second import...
    upstream = importlib.import_module("declares_upstream")
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        importlib.reload(upstream)
    # ...the registry layer's does not, and keeps counting in the same series.
    first = importlib.import_module("declares_layer")
    counter = first.requests
    counter.increment(1, {"route": "/"})
    second = importlib.reload(first)
    assert second.requests is counter
    assert counter.get({"route": "/"}) == 1


def test_counter_and_gauge_collectors():
    r = fresh()
    c = r.counter("jobs", "Jobs.", ["queue"])
    c.increment(labels={"queue": "a"})
    c.increment(2.5, {"queue": "b"})
    c.observe(1, {"queue": "a"})
    c.set(10, {"queue": "a"})
    assert c.get({"queue": "a"}) == 10
    with pytest.raises(ValueError, match="cannot go down"):
        c.set(1, {"queue": "a"})
    with pytest.raises(ValueError, match="Counters can only be incremented by non-negative amounts"):
        c.increment(-1, {"queue": "a"})
    assert c.get_all() == {("a",): 10.0, ("b",): 2.5}
    with pytest.raises(ValueError, match="needs labels"):
        c.increment()

    g = r.gauge("depth", "Depth.")
    g.set(5)
    g.increment(2)
    g.decrement(0.5)
    assert g.get() == 6.5
    with pytest.raises(ValueError, match="has no labels"):
        g.set(1, {"x": "y"})
    assert scraped(r)[("jobs_total", (("queue", "b"),))] == 2.5
    assert scraped(r)[("depth", ())] == 6.5


def test_histogram_sum_and_buckets_match_the_observations():
    r = fresh()
    h = r.histogram("latency_seconds", "Latency.", ["route"], buckets=[0.1, 0.5, 1])
    values = [random.uniform(0, 2) for _ in range(1000)]
    for v in values:
        h.observe(v, {"route": "/"})
    labels = {"route": "/"}
    assert h.get(labels) == 1000
    assert h.get_sum(labels) == pytest.approx(sum(values))
    buckets = h.get_buckets(labels)
    assert [b.upper_bound for b in buckets] == [0.1, 0.5, 1.0, math.inf]
    assert [b.count for b in buckets] == [sum(v <= le for v in values) for le in (0.1, 0.5, 1.0, math.inf)]
    with pytest.raises(TypeError):
        h.set(1, labels)
    assert h.get_all() == {("/",): 1000}


def exact_quantile(values, q):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summary_quantiles_are_within_the_stated_relative_error(seed):
    rng = random.Random(seed)
    r = fresh()
    s = r.summary("size_bytes", "Size.", quantiles=(0.5, 0.9, 0.99))
    assert s.get_quantile(0.5) is None, "an empty window has no quantile"
    values = [rng.lognormvariate(8, 2) for _ in range(20_000)]
    for v in values:
        s.observe(v)
    for q in (0.5, 0.9, 0.99):
        exact = exact_quantile(values, q)
        assert abs(s.get_quantile(q) - exact) <= 0.01 * exact, q
    assert s.get() == 20_000 and s.get_sum() == pytest.approx(sum(values))
    exposed = scraped(r)
    assert exposed[("size_bytes", (("quantile", "0.5"),))] == pytest.approx(s.get_quantile(0.5))


def test_summary_window_forgets_old_observations():
    r = fresh()
    s = r.summary("recent", "Recent.", max_age_seconds=0.3, quantiles=(0.5,))
    s.observe(100)
    assert s.get_quantile(0.5) == pytest.approx(100, rel=0.01)
    time.sleep(0.7)
    assert s.get_quantile(0.5) is None
    assert s.get() == 1, "count and sum are cumulative"


def test_the_native_summary_takes_quantiles_when_asked():
    registry = CollectorRegistry()
    s = pyrometer.Summary("rpc", "RPC.", registry=registry, quantiles=[0.5], max_age_seconds=60)
    for v in range(1, 101):
        s.observe(v)
    assert registry.get_sample_value("rpc", {"quantile": "0.5"}) == pytest.approx(50, rel=0.01)
    assert s.quantile(0.5) == registry.get_sample_value("rpc", {"quantile": "0.5"})
    with pytest.raises(ValueError):
        pyrometer.Summary("bad", "B.", registry=None, quantiles=[1.5])
    with pytest.raises(ValueError):
        pyrometer.Summary("bad", "B.", registry=None, quantiles=[0.5], max_age_seconds=-1)


def test_a_series_limit_folds_new_label_sets_and_counts_them():
    r = fresh(default_max_series=3)
    paths = r.counter("hits", "Hits.", ["path"])
    own = r.counter("own", "Own.", ["k"], max_series=5)
    for i in range(10_000):
        paths.increment(labels={"path": f"/{i}"})
    for i in range(10):
        own.increment(labels={"k": str(i)})
    all_paths = paths.get_all()
    assert len(all_paths) == 4, "three series and the overflow series"
    assert all_paths[("__overflow__",)] == 9_997
    assert len(own.get_all()) == 6
    exposed = scraped(r)
    assert exposed[("pyrometer_series_overflow_total", (("family", "hits"),))] == 9_997
    assert exposed[("pyrometer_series_overflow_total", (("family", "own"),))] == 5
    # The existing series keep counting.
    paths.increment(labels={"path": "/0"})
    assert paths.get({"path": "/0"}) == 2


def test_a_registry_wide_default_through_the_drop_in_api():
    registry = CollectorRegistry(max_series_per_family=2)
    c = pyrometer.Counter("calls", "Calls.", ["user"], registry=registry)
    children = {c.labels(str(i)) for i in range(100)}
    assert len(children) == 3, "the overflow child is shared, so the Python cache stays bounded"
    for child in children:
        child.inc()
    assert registry.get_sample_value("calls_total", {"user": "__overflow__"}) == 1
    assert registry.get_sample_value("pyrometer_series_overflow_total", {"family": "calls"}) == 98
    with pytest.raises(ValueError):
        CollectorRegistry(max_series_per_family=0)
    with pytest.raises(ValueError):
        c.set_series_limit(0)


def test_sampled_counter_is_unbiased():
    r = fresh()
    c = r.sampled_counter(MetricSpec("events", "Events."), sample_rate=0.1)
    n = 200_000
    for _ in range(n):
        c.increment()
    sd = math.sqrt(n * 0.9 / 0.1)
    assert abs(c.get() - n) < 5 * sd, c.get()
    assert r.sampled_counter(MetricSpec("events", "Events."), sample_rate=0.1) is c
    with pytest.raises(ValueError, match="sample_rate: 0.1 != 0.5"):
        r.sampled_counter(MetricSpec("events", "Events."), sample_rate=0.5)
    with pytest.raises(ValueError, match="Sample rate"):
        pr.SampledCounter(MetricSpec("bad"), sample_rate=0)


class UdpSink:
    """A StatsD server stand-in: the lines it received."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.3)
        self.port = self.socket.getsockname()[1]

    def lines(self):
        out = []
        while True:
            try:
                out.extend(self.socket.recv(65536).decode().splitlines())
            except socket.timeout:
                return out


def test_statsd_backend_sends_each_update_as_a_line():
    sink = UdpSink()
    r = fresh(backend=MetricsBackend.STATSD, statsd_port=sink.port, statsd_host="127.0.0.1", statsd_tags={"env": "t"})
    c = r.counter("requests", "R.", ["method"], namespace="app")
    g = r.gauge("depth", "D.")
    h = r.histogram("latency", "L.", buckets=[1])
    c.increment(2, {"method": "GET"})
    g.set(3)
    g.increment()
    h.observe(0.25)
    r.flush()
    assert sink.lines() == [
        "app_requests:2|c|#method:GET,env:t",
        "depth:3|g|#env:t",
        "depth:4|g|#env:t",
        "latency:0.25|h|#env:t",
    ]
    assert c.get({"method": "GET"}) == 2, "the values are kept in process too"
    assert r.statsd_dropped == 0
    r.close()


def test_rate_limited_gauge_sends_at_most_once_per_interval_and_keeps_the_last_value():
    sink = UdpSink()
    r = fresh(backend=MetricsBackend.STATSD, statsd_port=sink.port, statsd_host="127.0.0.1", flush_interval=0.02)
    g = r.rate_limited_gauge(MetricSpec("kv_usage", "KV."), min_interval=0.1)
    started = time.monotonic()
    value = 0
    while time.monotonic() - started < 0.35:
        value += 1
        g.set(value)
    elapsed = time.monotonic() - started
    assert g.get() == value, "a scrape always reads the latest value"
    r.close()
    lines = sink.lines()
    assert value > 100
    assert 2 <= len(lines) <= int(elapsed / 0.1) + 2, lines
    assert lines[-1] == f"kv_usage:{value}|g", "the last value went out at close"


def test_sampled_counter_lines_carry_the_rate():
    sink = UdpSink()
    r = fresh(backend=[MetricsBackend.STATSD], statsd_port=sink.port, statsd_host="127.0.0.1", max_packet_size=65000)
    c = r.sampled_counter(MetricSpec("hits", "H."), sample_rate=0.25)
    for _ in range(4000):
        c.increment()
    r.close()
    lines = sink.lines()
    assert set(lines) == {"hits:1|c|@0.25"}
    assert abs(len(lines) * 4 - 4000) < 5 * math.sqrt(4000 * 0.75 / 0.25)


class OtlpSink:
    """An OTLP/HTTP collector stand-in: the decoded requests it received."""

    def __init__(self):
        self.requests = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportMetricsServiceRequest()
                request.ParseFromString(body)
                sink.requests.append((self.path, self.headers["Content-Type"], request))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1/metrics"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_opentelemetry_backend_exports_what_the_official_messages_decode():
    sink = OtlpSink()
    try:
        r = fresh(
            backend=MetricsBackend.OPENTELEMETRY,
            otlp_endpoint=sink.url,
            export_interval=3600,
            resource_attributes={"service.name": "checkout"},
        )
        r.counter("orders", "Orders.", ["country"]).increment(3, {"country": "fr"})
        r.gauge("queue", "Queue.").set(7)
        h = r.histogram("latency", "Latency.", buckets=[0.1, 1])
        for v in (0.05, 0.5, 0.7, 3):
            h.observe(v)
        s = r.summary("sizes", "Sizes.", quantiles=(0.5,))
        for v in range(1, 100):
            s.observe(v)
        r.flush()
        path, content_type, request = sink.requests[-1]
        assert (path, content_type) == ("/v1/metrics", "application/x-protobuf")
        resource = request.resource_metrics[0].resource
        assert [(a.key, a.value.string_value) for a in resource.attributes] == [("service.name", "checkout")]
        metrics = {m.name: m for m in request.resource_metrics[0].scope_metrics[0].metrics}
        orders = metrics["orders"].sum
        assert orders.is_monotonic and orders.aggregation_temporality == 2  # cumulative
        assert orders.data_points[0].as_double == 3
        assert [(a.key, a.value.string_value) for a in orders.data_points[0].attributes] == [("country", "fr")]
        assert metrics["queue"].gauge.data_points[0].as_double == 7
        point = metrics["latency"].histogram.data_points[0]
        assert list(point.explicit_bounds) == [0.1, 1.0]
        assert list(point.bucket_counts) == [1, 2, 1]
        assert (point.count, point.sum) == (4, pytest.approx(4.25))
        summary = metrics["sizes"].summary.data_points[0]
        assert summary.count == 99
        assert summary.quantile_values[0].quantile == 0.5
        assert summary.quantile_values[0].value == pytest.approx(50, rel=0.01)
        before = len(sink.requests)
        r.close()
        assert len(sink.requests) == before + 1, "closing exports a last time"
    finally:
        sink.close()


def test_several_backends_at_once():
    udp, http = UdpSink(), OtlpSink()
    try:
        r = fresh(
            backend={MetricsBackend.PROMETHEUS, MetricsBackend.STATSD, MetricsBackend.OPENTELEMETRY},
            statsd_host="127.0.0.1",
            statsd_port=udp.port,
            otlp_endpoint=http.url,
            export_interval=3600,
        )
        r.counter("both", "Both.").increment(5)
        r.close()
        assert scraped(r)[("both_total", ())] == 5
        assert udp.lines() == ["both:5|c"]
        metrics = http.requests[-1][2].resource_metrics[0].scope_metrics[0].metrics
        assert [m.sum.data_points[0].as_double for m in metrics if m.name == "both"] == [5]
    finally:
        http.close()


def test_get_instance_is_one_per_process():
    first = MetricsRegistry.get_instance()
    assert MetricsRegistry.get_instance() is first
    assert MetricsRegistry.get_instance(MetricsBackend.PROMETHEUS) is first
    with pytest.raises(ValueError, match="already exists"):
        MetricsRegistry.get_instance(MetricsBackend.STATSD)
    assert pyrometer.get_metrics() is pyrometer.get_metrics()
    with pytest.raises(ValueError):
        MetricsRegistry(backend=[])


def run_python(code, env=None):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_setup_multiprocess_merges_forked_workers():
    out = run_python(
        """
        import os
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        from pyrometer import MetricsRegistry, CollectorRegistry
        r = MetricsRegistry(registry=CollectorRegistry())
        path = r.setup_multiprocess()
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == path and os.path.isdir(path)
        children = []
        for worker in range(3):
            pid = os.fork()
            if pid == 0:
                c = r.counter("work", "Work.", ["kind"])
                c.increment(worker + 1, {"kind": "a"})
                r.gauge("last", "Last.", multiprocess_mode="mostrecent").set(worker)
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.waitpid(pid, 0)
        print(r.generate_latest().decode())
        """
    )
    assert 'work_total{kind="a"} 6.0' in out
    assert "last " in out


def test_vllm_metrics_have_vllms_names_types_labels_and_buckets():
    r = fresh()
    m = pr.VLLMMetrics(r, max_model_len=1000, kv_cache_metrics=True)
    labels = {"model_name": "llama", "engine": "0"}
    m.prompt_tokens.increment(12, labels)
    m.request_success.increment(labels={**labels, "finished_reason": "stop"})
    m.num_requests_running.set(3, labels)
    m.time_to_first_token_seconds.observe(0.03, labels)
    m.request_prompt_tokens.observe(300, labels)
    m.set_cache_config({"block_size": 16, "cache_dtype": "auto"})
    m.set_sleep_state("awake", "llama")
    registry = r.registry
    text = pyrometer.generate_latest(registry).decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["vllm:prompt_tokens"].type == "counter"
    assert families["vllm:num_requests_running"].type == "gauge"
    assert families["vllm:time_to_first_token_seconds"].type == "histogram"
    assert registry.get_sample_value("vllm:prompt_tokens_total", labels) == 12
    assert registry.get_sample_value("vllm:request_success_total", {**labels, "finished_reason": "stop"}) == 1
    ttft = [
        float(s.labels["le"]) for s in families["vllm:time_to_first_token_seconds"].samples if s.name.endswith("_bucket")
    ]
    assert ttft[:-1] == list(pr.VLLMMetrics.__init__.__globals__["TIME_TO_FIRST_TOKEN_BUCKETS"])
    prompt = [float(s.labels["le"]) for s in families["vllm:request_prompt_tokens"].samples if s.name.endswith("_bucket")]
    assert prompt[:-1] == [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    assert registry.get_sample_value(
        "vllm:cache_config_info", {"engine": "0", "block_size": "16", "cache_dtype": "auto"}
    ) == 1
    om = pyrometer.openmetrics.exposition.generate_latest(registry).decode()
    assert "# TYPE vllm:cache_config info" in om, "a real Info, not a gauge"
    assert registry.get_sample_value("vllm:engine_sleep_state", {**labels, "sleep_state": "awake"}) == 1
    assert families["vllm:kv_block_lifetime_seconds"].type == "histogram"
    assert "vllm:corrupted_requests" not in text
    # Every histogram's label names are vLLM's.
    for name, family in families.items():
        if family.type == "histogram" and family.samples:
            assert {k for s in family.samples for k in s.labels} == {"model_name", "engine", "le"}, name
    # prometheus_client accepts the same declarations (names and buckets are valid upstream).
    upstream = prometheus_client.CollectorRegistry()
    prometheus_client.Histogram(
        "vllm:time_to_first_token_seconds", "T.", ["model_name", "engine"], registry=upstream,
        buckets=pr.VLLMMetrics.__init__.__globals__["TIME_TO_FIRST_TOKEN_BUCKETS"],
    )  # fmt: skip


def test_vllm_metrics_work_across_processes():
    out = run_python(
        """
        import os
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        from pyrometer import MetricsRegistry, CollectorRegistry, VLLMMetrics
        r = MetricsRegistry(registry=CollectorRegistry())
        r.setup_multiprocess()
        children = []
        for worker in range(2):
            pid = os.fork()
            if pid == 0:
                m = VLLMMetrics(r)
                labels = {"model_name": "m", "engine": str(worker)}
                m.prompt_tokens.increment(10, labels)
                m.e2e_request_latency_seconds.observe(1.2, labels)
                m.num_requests_waiting.set(worker + 5, labels)
                m.set_cache_config({"block_size": 16}, engine=str(worker))
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.waitpid(pid, 0)
        print(r.generate_latest().decode())
        """
    )
    assert 'vllm:prompt_tokens_total{engine="0",model_name="m"} 10.0' in out
    assert 'vllm:prompt_tokens_total{engine="1",model_name="m"} 10.0' in out
    assert 'vllm:num_requests_waiting{engine="1",model_name="m"} 6.0' in out
    assert 'vllm:e2e_request_latency_seconds_count{engine="0",model_name="m"} 1.0' in out


def test_summary_quantiles_merge_across_live_processes():
    out = run_python(
        """
        import os, random
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        from pyrometer import MetricsRegistry, CollectorRegistry
        r = MetricsRegistry(registry=CollectorRegistry())
        r.setup_multiprocess()
        values = [random.Random(7).lognormvariate(3, 1) for _ in range(6000)]
        done_r, done_w = os.pipe()
        go_r, go_w = os.pipe()
        children = []
        for worker in range(2):
            pid = os.fork()
            if pid == 0:
                s = r.summary("latency_ms", "Latency.", ["route"], quantiles=(0.5, 0.99))
                for v in values[worker::2]:
                    s.observe(v, {"route": "/"})
                os.write(done_w, b"x")
                os.read(go_r, 1)  # stay alive until the parent has scraped
                os._exit(0)
            children.append(pid)
        os.read(done_r, 1); os.read(done_r, 1)
        print(r.generate_latest().decode())
        ordered = sorted(values)
        print("exact", ordered[int(0.5 * 5999)], ordered[int(0.99 * 5999)])
        os.write(go_w, b"xx")
        for pid in children:
            os.waitpid(pid, 0)
        """
    )
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(out.split("exact")[0])
        for s in family.samples
    }
    exact_median, exact_p99 = map(float, out.split("exact")[1].split())
    median = samples[("latency_ms", (("quantile", "0.5"), ("route", "/")))]
    p99 = samples[("latency_ms", (("quantile", "0.99"), ("route", "/")))]
    assert abs(median - exact_median) <= 0.01 * exact_median
    assert abs(p99 - exact_p99) <= 0.01 * exact_p99
    assert samples[("latency_ms_count", (("route", "/"),))] == 6000


def test_statsd_lines_of_folded_label_sets_are_folded_too():
    sink = UdpSink()
    r = fresh(backend=MetricsBackend.STATSD, statsd_port=sink.port, statsd_host="127.0.0.1", max_packet_size=65000)
    c = r.counter("hits", "H.", ["user"], max_series=1)
    for user in ("a", "b", "c"):
        c.increment(labels={"user": user})
    r.close()
    assert sink.lines() == ["hits:1|c|#user:a", "hits:1|c|#user:__overflow__", "hits:1|c|#user:__overflow__"]
