"""Real receivers store what ``pyrometer.remote_write.RemoteWriter`` writes, and answer queries on
it: Debian's Prometheus (``--web.enable-remote-write-receiver``, native histograms on) and
VictoriaMetrics. Values, labels (the external ones too), classic and native histograms and
staleness are queried back through their HTTP APIs; a receiver stopped for a while and started
again gets what was queued meanwhile, within the bound, the rest counted as dropped; a sample a
receiver refuses with a 400 is given up at once, not retried.
"""

import json
import math
import time
import urllib.parse
import urllib.request

import pytest

import pyrometer
from pyrometer.metrics_core import GaugeMetricFamily
from pyrometer.remote_write import RemoteWriter

from . import peers

TIMEOUT = 30.0
PROMETHEUS_FLAGS = ("--web.enable-remote-write-receiver", "--enable-feature=native-histograms")


def _query(base, expr, at=None):
    params = {"query": expr}
    if at is not None:
        params["time"] = f"{at:.3f}"
    with urllib.request.urlopen(f"{base}/api/v1/query?" + urllib.parse.urlencode(params), timeout=5) as answer:
        body = json.load(answer)
    assert body["status"] == "success", body
    return body["data"]["result"]


def _eventually(base, expr, check, at=None):
    """The query's result once `check(result)` holds; fails with the last answer after TIMEOUT
    (VictoriaMetrics makes what it got searchable within a second or so)."""
    deadline = time.monotonic() + TIMEOUT
    result = None
    while time.monotonic() < deadline:
        result = _query(base, expr, at)
        if check(result):
            return result
        time.sleep(0.25)
    pytest.fail(f"{expr}: last answer {result}")


def _by(result, label):
    return {s["metric"].get(label, ""): float(s["value"][1]) for s in result}


def _registry():
    registry = pyrometer.CollectorRegistry()
    requests = pyrometer.Counter("requests", "Requests.", ["code"], registry=registry)
    requests.labels("200").inc(7)
    requests.labels("500").inc(2)
    queue = pyrometer.Gauge("queue_items", "Queue.", registry=registry)
    queue.set(-2.5)
    latency = pyrometer.Histogram("latency_seconds", "Latency.", buckets=[0.1, 1.0], registry=registry)
    native = pyrometer.Histogram("native_seconds", "Latency.", registry=registry, native_histogram_bucket_factor=1.1)
    for v in (0.05, 0.5, 0.7, 5.0):
        latency.observe(v)
        native.observe(v)
    return registry, requests, queue


def test_prometheus_stores_values_labels_histograms_and_staleness(tmp_path):
    registry, requests, _ = _registry()
    with peers.prometheus(tmp_path, {}, PROMETHEUS_FLAGS) as base:
        writer = RemoteWriter(f"{base}/api/v1/write", registry, external_labels={"cluster": "eu-1"})
        assert writer.flush(10)
        assert _by(_eventually(base, "requests_total", lambda r: len(r) == 2), "code") == {"200": 7.0, "500": 2.0}
        [queue] = _query(base, "queue_items")
        assert queue["metric"] == {"__name__": "queue_items", "cluster": "eu-1"}
        assert float(queue["value"][1]) == -2.5
        assert _by(_query(base, "latency_seconds_bucket"), "le") == {"0.1": 1.0, "1.0": 3.0, "+Inf": 4.0}
        assert float(_query(base, "histogram_count(native_seconds)")[0]["value"][1]) == 4.0
        assert math.isclose(float(_query(base, "histogram_sum(native_seconds)")[0]["value"][1]), 6.25)
        # The native histogram came alone: no classic series beside it.
        assert _query(base, '{__name__=~"native_seconds_.+"}') == []
        # The writer's own counts are metrics of the registry it writes.
        sent = _query(base, "pyrometer_remote_write_samples_sent_total")
        assert sent and sent[0]["metric"]["url"] == f"{base}/api/v1/write"

        # A series removed from the registry is marked stale: gone from instant queries.
        requests.remove("500")
        assert writer.flush(10)
        assert _by(_query(base, "requests_total"), "code") == {"200": 7.0}
        stats = writer.stats()
        assert stats["samples_failed"] == stats["samples_dropped"] == 0
        assert stats["samples_sent"] > 0 and stats["samples_pending"] == 0

        # Closing marks every series stale, as for a target that went away.
        writer.close()
        time.sleep(0.01)
        assert _query(base, "queue_items") == []
        assert _query(base, "requests_total") == []


def test_prometheus_down_for_a_while_gets_the_queued_samples_once_back(tmp_path):
    registry, requests, _ = _registry()
    port = peers.free_port()
    with peers.prometheus(tmp_path, {}, PROMETHEUS_FLAGS, port=port) as base:
        writer = RemoteWriter(f"{base}/api/v1/write", registry, max_backoff=0.2)
        assert writer.flush(10)
    written = []
    for _ in range(3):
        requests.labels("200").inc()
        written.append(time.time())
        assert not writer.flush(0.3)
        time.sleep(0.05)
    stats = writer.stats()
    assert stats["samples_pending"] > 0 and stats["samples_retried"] > 0 and stats["last_error"]
    with peers.prometheus(tmp_path, {}, PROMETHEUS_FLAGS, port=port) as base:
        assert writer.flush(20)
        # Every value written while Prometheus was down is stored, at its time.
        [series] = _query(base, 'requests_total{code="200"}[1m]')
        values = [float(v) for _, v in series["values"]]
        assert values == [7.0, 8.0, 9.0, 10.0, 10.0]
        assert writer.stats()["samples_dropped"] == 0
        writer.close()


def test_a_sample_prometheus_refuses_is_given_up_not_retried(tmp_path):
    registry = pyrometer.CollectorRegistry()
    pyrometer.Gauge("now", "A current sample.", registry=registry).set(1)

    class Ancient:
        def collect(self):
            family = GaugeMetricFamily("ancient", "A sample from 2001.")
            family.add_metric([], 1.0, timestamp=1_000_000_000)
            yield family

    with peers.prometheus(tmp_path, {}, PROMETHEUS_FLAGS) as base:
        writer = RemoteWriter(f"{base}/api/v1/write", registry, shards=1, self_metrics=False, stale_on_close=False)
        # Once Prometheus holds a current sample, one from 2001 is out of its bounds: a 400.
        assert writer.flush(10)
        assert writer.stats()["samples_sent"] == 1
        registry.register(Ancient())
        started = time.monotonic()
        assert writer.flush(10)
        assert time.monotonic() - started < 5
        stats = writer.stats()
        assert (stats["samples_sent"], stats["samples_retried"], stats["samples_failed"]) == (1, 0, 2), stats
        assert "400" in stats["last_error"] and "out of bounds" in stats["last_error"], stats
        writer.close()


def test_victoria_metrics_stores_values_labels_and_classic_buckets(tmp_path):
    registry, requests, _ = _registry()
    with peers.victoria_metrics(tmp_path) as base:
        # VictoriaMetrics keeps no native histograms: their classic form is sent instead.
        writer = RemoteWriter(f"{base}/api/v1/write", registry, external_labels={"cluster": "eu-1"},
                              native_histograms=False)
        assert writer.flush(10)
        result = _eventually(base, "requests_total", lambda r: len(r) == 2)
        assert _by(result, "code") == {"200": 7.0, "500": 2.0}
        assert all(s["metric"]["cluster"] == "eu-1" for s in result)
        buckets = _eventually(base, "latency_seconds_bucket", lambda r: len(r) == 3)
        assert _by(buckets, "le") == {"0.1": 1.0, "1.0": 3.0, "+Inf": 4.0}
        [count] = _eventually(base, "native_seconds_count", lambda r: len(r) == 1)
        assert float(count["value"][1]) == 4.0
        [queue] = _eventually(base, "queue_items", lambda r: len(r) == 1)
        assert float(queue["value"][1]) == -2.5
        writer.close()


def test_victoria_metrics_down_gets_the_newest_samples_within_the_bound(tmp_path):
    registry = pyrometer.CollectorRegistry()
    ticks = pyrometer.Counter("ticks", "Ticks.", registry=registry)
    port = peers.free_port()
    with peers.victoria_metrics(tmp_path, port=port) as base:
        writer = RemoteWriter(f"{base}/api/v1/write", registry, max_pending_samples=2, shards=1,
                              max_backoff=0.2, self_metrics=False)
        ticks.inc()
        assert writer.flush(10)
        _eventually(base, "ticks_total", lambda r: len(r) == 1)
    # Five collections while it is down, of which the queue keeps the newest two (and the
    # batch in flight when it went down).
    for _ in range(5):
        ticks.inc()
        writer.flush(0.3)
    stats = writer.stats()
    assert stats["samples_dropped"] >= 2, stats
    with peers.victoria_metrics(tmp_path, port=port) as base:
        assert writer.flush(20)
        [series] = _eventually(base, "ticks_total[5m]", lambda r: r and float(r[0]["values"][-1][1]) == 6.0)
        values = [float(v) for _, v in series["values"]]
        # The flush collected once more (6 again): the queue kept that and the newest before it;
        # the older ones were dropped, but for the batch in flight when VictoriaMetrics went down.
        assert values[0] == 1.0 and values[-2:] == [6.0, 6.0] and 5.0 not in values, values
        stats = writer.stats()
        # Every sample of the seven collections is accounted for: sent or dropped.
        assert stats["samples_sent"] + stats["samples_dropped"] == 7 and stats["samples_failed"] == 0, stats
        assert len(values) == stats["samples_sent"], (values, stats)
        writer.close()
