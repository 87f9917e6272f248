"""pyrometer.remote_write.RemoteWriter against a receiver stand-in on loopback, its requests read
by the protobuf runtime with the messages protoc compiles from proto/ (1.0 and 2.0); its Python
API (arguments, context manager, self-metrics, forked children) and the registry layer's
remote-write backend."""

import os
import struct
import time

import pytest

import pyrometer
from _remote_write_sink import STALE_NAN_BITS, RemoteWriteSink
from _registry_layer import fresh, run_script
from pyrometer import MetricsBackend
from pyrometer.remote_write import RemoteWriter


@pytest.fixture
def sink():
    receiver = RemoteWriteSink()
    yield receiver
    receiver.close()


def _registry():
    registry = pyrometer.CollectorRegistry()
    requests = pyrometer.Counter("requests", "Requests.", ["code"], registry=registry)
    requests.labels("200").inc(3)
    pyrometer.Gauge("queue_items", "Queue.", registry=registry).set(-2.5)
    native = pyrometer.Histogram("native_seconds", "Latency.", registry=registry, native_histogram_bucket_factor=1.1)
    for v in (0.5, 1.0, 3.0):
        native.observe(v)
    return registry, requests


def _is_stale(value):
    return struct.unpack("<Q", struct.pack("<d", value))[0] == STALE_NAN_BITS


def test_version_1_requests_hold_every_series_with_the_external_labels(sink):
    registry, _ = _registry()
    writer = RemoteWriter(sink.url, registry, external_labels={"cluster": "eu-1"}, self_metrics=False, shards=1)
    assert writer.flush(5)
    headers, _ = sink.requests[0]
    assert headers["content-encoding"] == "snappy"
    assert headers["x-prometheus-remote-write-version"] == "0.1.0"
    series = {labels["__name__"]: (labels, values, histograms) for labels, values, histograms in sink.series()}
    assert series["requests_total"][:2] == ({"__name__": "requests_total", "code": "200", "cluster": "eu-1"}, [3.0])
    assert series["queue_items"][1] == [-2.5]
    [histogram] = series["native_seconds"][2]
    assert (histogram.count_int, histogram.sum, histogram.schema) == (3, 4.5, 3)
    assert "requests_created" not in series
    assert writer.stats()["samples_sent"] == len(series)
    writer.close()


def test_version_2_requests_carry_symbols_metadata_and_start_times(sink):
    registry, _ = _registry()
    writer = RemoteWriter(sink.url, registry, protocol="2.0", self_metrics=False, shards=1)
    assert writer.flush(5)
    headers, request = sink.requests[0]
    assert headers["content-type"] == "application/x-protobuf;proto=io.prometheus.write.v2.Request"
    assert headers["x-prometheus-remote-write-version"] == "2.0.0"
    symbols = list(request.symbols)
    assert symbols[0] == "" and len(set(symbols)) == len(symbols)
    by_name = {}
    for ts in request.timeseries:
        labels = dict(zip([symbols[i] for i in ts.labels_refs[::2]], [symbols[i] for i in ts.labels_refs[1::2]]))
        by_name[labels["__name__"]] = ts
    total = by_name["requests_total"]
    assert total.metadata.type == 1  # METRIC_TYPE_COUNTER
    assert symbols[total.metadata.help_ref] == "Requests."
    assert 0 < total.samples[0].start_timestamp <= total.samples[0].timestamp
    assert by_name["native_seconds"].histograms[0].count_int == 3
    assert by_name["native_seconds"].metadata.type == 3  # METRIC_TYPE_HISTOGRAM
    writer.close()


def test_a_context_manager_writes_on_the_interval_and_marks_everything_stale_at_exit(sink):
    registry, _ = _registry()
    with RemoteWriter(sink.url, registry, interval=0.05, batch_send_deadline=0.01, self_metrics=False) as writer:
        sink.wait_for(3)
    last = [values[0] for labels, values, _ in sink.series() if labels["__name__"] == "queue_items"]
    assert len(last) >= 3 and _is_stale(last[-1]) and last[-2] == -2.5
    assert writer.flush(0.1) is False, "a closed writer writes no more"


def test_self_metrics_are_in_the_written_registry_until_close(sink):
    registry, _ = _registry()
    writer = RemoteWriter(sink.url, registry)
    assert writer.flush(5)
    assert registry.get_sample_value("pyrometer_remote_write_samples_sent_total", {"url": sink.url}) == 3 + 6
    with pytest.raises(ValueError, match="self_metrics=False"):
        RemoteWriter(sink.url, registry)  # a second writer to the same receiver
    # Writers to other receivers report in the same families.
    other = RemoteWriter(sink.url + "?tenant=b", registry)
    assert registry.get_sample_value("pyrometer_remote_write_samples_sent_total", {"url": other.url}) == 0
    writer.close()
    assert registry.get_sample_value("pyrometer_remote_write_samples_sent_total", {"url": sink.url}) is None
    assert registry.get_sample_value("pyrometer_remote_write_samples_pending", {"url": other.url}) == 0
    other.close()
    assert "pyrometer_remote_write" not in pyrometer.generate_latest(registry).decode()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"protocol": "3.0"}, "protocol must be '1.0' or '2.0'"),
        ({"basic_auth": ("u", "p"), "bearer_token": "t"}, "not both"),
        ({"interval": 0}, "interval must be positive"),
        ({"external_labels": {"__reserved": "x"}}, "invalid external label name"),
        ({"headers": {"bad header": "x"}}, "invalid header name"),
        ({"tls_cert_file": "c.pem", "tls_key_file": "k.pem"}, "needs tls_ca_file"),
        ({"max_pending_samples": 0}, "max_pending_samples must be at least 1"),
        ({"shards": -1}, "shards must be at least 1, got -1"),
        ({"interval": 86401}, "interval must be at most a day"),
    ],
)
def test_bad_settings_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RemoteWriter("http://127.0.0.1:1/api/v1/write", pyrometer.CollectorRegistry(), **kwargs)


def test_a_bad_url_raises_value_error():
    with pytest.raises(ValueError, match="invalid remote write URL"):
        RemoteWriter("ftp://example/write", pyrometer.CollectorRegistry())


def test_an_unreachable_receiver_is_waited_for_no_longer_than_asked():
    registry, _ = _registry()
    with pyrometer_port_nobody_listens_on() as url:
        writer = RemoteWriter(url, registry, shutdown_timeout=0.3, self_metrics=False)
        started = time.monotonic()
        assert writer.flush(0.2) is False
        writer.close()
        assert time.monotonic() - started < 3
        stats = writer.stats()
        assert stats["samples_sent"] == 0 and stats["samples_failed"] > 0 and stats["samples_pending"] == 0
        assert "closed with" in stats["last_error"] and "samples unsent" in stats["last_error"]


class pyrometer_port_nobody_listens_on:
    def __enter__(self):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return f"http://127.0.0.1:{s.getsockname()[1]}/api/v1/write"

    def __exit__(self, *exc):
        return False


def test_a_forked_childs_copy_sends_nothing_and_the_parent_goes_on(sink):
    registry, requests = _registry()
    writer = RemoteWriter(sink.url, registry, self_metrics=False, shards=1)
    assert writer.flush(5)
    pid = os.fork()
    if pid == 0:
        # The copy has no thread: it neither flushes nor waits at close. (os._exit: this child
        # must not run the rest of the suite; the layer's test below exits with sys.exit.)
        ok = writer.flush(1) is False
        started = time.monotonic()
        writer.close()
        os._exit(0 if ok and time.monotonic() - started < 0.5 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    requests.labels("200").inc()
    before = len(sink.requests)
    assert writer.flush(5)
    assert len(sink.requests) == before + 1
    writer.close()


def test_the_layers_remote_write_backend_writes_its_metrics(sink):
    layer = fresh(backend=MetricsBackend.REMOTE_WRITE, remote_write_url=sink.url,
                  remote_write_options={"external_labels": {"app": "checkout"}, "self_metrics": False})
    layer.counter("orders", "Orders.", ["country"]).increment(3, {"country": "fr"})
    assert layer.flush(5)
    [(labels, values, _)] = [s for s in sink.series() if s[0]["__name__"] == "orders_total"]
    assert labels == {"__name__": "orders_total", "country": "fr", "app": "checkout"} and values == [3.0]
    layer.close()
    assert _is_stale([s for s in sink.series() if s[0]["__name__"] == "orders_total"][-1][1][0])


def test_the_remote_write_backend_needs_a_url(monkeypatch):
    monkeypatch.delenv("PYROMETER_REMOTE_WRITE_URL", raising=False)
    with pytest.raises(ValueError, match="remote_write_url"):
        fresh(backend=MetricsBackend.REMOTE_WRITE)


def test_a_forked_child_of_the_layer_writes_its_own_registry_labelled_with_its_pid(tmp_path, sink):
    out = run_script(
        tmp_path,
        f"""
        import os, sys
        from pyrometer import CollectorRegistry, MetricsBackend, MetricsRegistry
        layer = MetricsRegistry(MetricsBackend.REMOTE_WRITE, registry=CollectorRegistry(),
                                remote_write_url={sink.url!r}, remote_write_options={{"self_metrics": False}})
        hits = layer.counter("hits", "Hits.")
        hits.increment(1)
        pid = os.fork()
        if pid == 0:
            hits.increment(10)
            layer.flush(5)
            sys.exit(0)
        os.waitpid(pid, 0)
        layer.flush(5)
        print("child", pid)
        """,
    )
    child = out.split("child")[1].split()[0]
    written = {(labels.get("pid"), values[0]) for labels, values, _ in sink.series()
               if labels["__name__"] == "hits_total" and not _is_stale(values[0])}
    assert written == {(child, 11.0), (None, 1.0)}


def test_a_writer_left_open_writes_its_last_values_at_exit(tmp_path, sink):
    run_script(
        tmp_path,
        f"""
        import pyrometer
        from pyrometer.remote_write import RemoteWriter
        registry = pyrometer.CollectorRegistry()
        pyrometer.Gauge("last", "Last.", registry=registry).set(42)
        RemoteWriter({sink.url!r}, registry, interval=3600).start()  # never closed, not even kept
        """,
    )
    values = [values[0] for labels, values, _ in sink.series() if labels["__name__"] == "last"]
    assert values[0] == 42 and _is_stale(values[-1])


def test_an_enormous_flush_timeout_is_only_long(sink):
    registry, _ = _registry()
    writer = RemoteWriter(sink.url, registry, self_metrics=False)
    assert writer.flush(1e19)
    writer.close()
