"""The registry layer's push backends: StatsD over UDP and OTLP over HTTP, both received on
loopback and decoded."""

import math
import time

import pytest

from _registry_layer import OtlpSink, UdpSink, fresh, scraped
from pyrometer import MetricsBackend, MetricSpec

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


def test_statsd_lines_of_folded_label_sets_are_folded_too():
    sink = UdpSink()
    r = fresh(backend=MetricsBackend.STATSD, statsd_port=sink.port, statsd_host="127.0.0.1", max_packet_size=65000)
    c = r.counter("hits", "H.", ["user"], max_series=1)
    for user in ("a", "b", "c"):
        c.increment(labels={"user": user})
    r.close()
    assert sink.lines() == ["hits:1|c|#user:a", "hits:1|c|#user:__overflow__", "hits:1|c|#user:__overflow__"]


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


def test_plain_statsd_names_take_the_prefix_once_and_label_values_as_safe_segments():
    sink = UdpSink()
    r = fresh(
        backend=MetricsBackend.STATSD,
        statsd_host="127.0.0.1",
        statsd_port=sink.port,
        statsd_prefix="app.",
        dogstatsd=False,
        max_packet_size=65000,
    )
    c = r.counter("vllm:requests", "R.", ["method", "path"])
    c.increment(labels={"method": "GET", "path": "/v1/chat.completions"})
    c.increment(labels={"method": "", "path": "a b|c:d#e"})
    r.histogram("latency", "L.", ["route"], buckets=[1]).observe(0.25, {"route": "x.y"})
    r.gauge("depth", "D.").set(3)
    r.close()
    assert sink.lines() == [
        "app.vllm_requests.GET._v1_chat_completions:1|c",
        "app.vllm_requests._.a_b_c_d_e:1|c",
        "app.latency.x_y:0.25|ms",
        "app.depth:3|g",
    ]
    assert c.get({"method": "GET", "path": "/v1/chat.completions"}) == 1, "the values keep their labels"
    with pytest.raises(ValueError, match="DogStatsD"):
        fresh(backend=MetricsBackend.STATSD, dogstatsd=False, statsd_tags={"env": "t"})


def test_a_dogstatsd_prefix_ending_in_a_dot_is_not_doubled():
    sink = UdpSink()
    r = fresh(backend=MetricsBackend.STATSD, statsd_host="127.0.0.1", statsd_port=sink.port, statsd_prefix="app.")
    r.counter("hits", "H.", ["path"]).increment(labels={"path": "/a.b"})
    r.close()
    assert sink.lines() == ["app.hits:1|c|#path:/a.b"], "tags keep their values as they are"


def test_flush_waits_for_the_otlp_export_at_most_the_timeout():
    sink = OtlpSink(delay=1.5)
    try:
        r = fresh(
            backend=MetricsBackend.OPENTELEMETRY,
            otlp_endpoint=sink.url,
            export_interval=3600,
            otlp_timeout=5,
            otlp_max_retries=0,
        )
        r.counter("orders", "Orders.").increment()
        started = time.monotonic()
        assert r.flush(timeout=0.2) is False
        assert time.monotonic() - started < 1.0
        time.sleep(1.6)
        assert len(sink.requests) == 1, "the export went on in the background"
        assert r.flush(timeout=5) is True
        assert len(sink.requests) == 2
    finally:
        sink.close()
