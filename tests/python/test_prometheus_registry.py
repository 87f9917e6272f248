"""The MetricsRegistry layer: specs, collectors and their guards, reads that create nothing,
errors, and a layer's isolation (its own registry, the process's layer reset, metrics
unregistered under it). Backends are in test_prometheus_registry_backends.py, processes in
test_prometheus_registry_processes.py, the vLLM set in test_vllm_metrics.py."""

import importlib
import math
import random
import time

import pytest

import pyrometer
from _registry_layer import fresh, scraped
from pyrometer import CollectorRegistry, MetricSpec, MetricsRegistry
from pyrometer import prometheus_registry as pr
from pyrometer.registry import DuplicateTimeseries

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


NATIVE_LOOKUP = hasattr(pyrometer.Counter, "_existing_child")


def test_reads_of_a_label_set_never_written_create_nothing():
    r = fresh()
    c = r.counter("calls", "Calls.", ["user"], max_series=1)
    g = r.gauge("depth", "Depth.", ["queue"])
    h = r.histogram("latency", "Latency.", ["route"], buckets=[0.5, 1])
    s = r.summary("size", "Size.", ["route"], quantiles=(0.5,))
    i = r.info("build", "Build.", ["component"])
    before = r.generate_latest()
    for n in range(5):
        assert c.get({"user": f"u{n}"}) == 0
    assert g.get({"queue": "q"}) == 0
    assert (h.get({"route": "/"}), h.get_sum({"route": "/"})) == (0, 0)
    assert h.get_buckets({"route": "/"}) == [
        pr.HistogramBucket(0.5, 0), pr.HistogramBucket(1.0, 0), pr.HistogramBucket(math.inf, 0)
    ]
    assert s.get_quantile(0.5, {"route": "/"}) is None
    assert (s.get({"route": "/"}), s.get_sum({"route": "/"})) == (0, 0)
    assert i.get({"component": "api"}) == 0
    assert r.generate_latest() == before, "no series appeared in the scrape"
    assert c.get_all() == {} and h.get_all() == {}
    # The reads used none of the series limit: the first label set written gets its own series.
    c.increment(labels={"user": "first"})
    assert c.get_all() == {("first",): 1}
    c.increment(labels={"user": "second"})
    assert c.get({"user": "second"}) == 0, "folded into the overflow series, which is not its own"
    assert c.get_all() == {("first",): 1, ("__overflow__",): 1}
    # Written label sets read back.
    h.observe(0.7, {"route": "/"})
    s.observe(3, {"route": "/"})
    assert h.get_buckets({"route": "/"})[1] == pr.HistogramBucket(1.0, 1)
    assert s.get_quantile(0.5, {"route": "/"}) == pytest.approx(3, rel=0.01)


@pytest.mark.skipif(not NATIVE_LOOKUP, reason="needs metric._existing_child from the next native build")
def test_the_native_lookup_finds_only_children_that_were_made():
    for cls, kwargs in [
        (pyrometer.Counter, {}),
        (pyrometer.Gauge, {}),
        (pyrometer.Histogram, {}),
        (pyrometer.Summary, {}),
        (pyrometer.Info, {}),
        (pyrometer.Enum, {"states": ["a", "b"]}),
        (pyrometer._native.SampledCounter, {"sample_rate": 0.5}),
    ]:
        registry = CollectorRegistry()
        metric = cls("m", "M.", ["a", "b"], registry=registry, **kwargs)
        assert metric._existing_child("x", "y") is None, cls
        assert list(registry.collect())[0].samples == [], cls
        child = metric.labels("x", "y")
        assert metric._existing_child("x", "y") is child, cls
        with pytest.raises(ValueError, match="Incorrect label count"):
            metric._existing_child("x")


def test_reads_and_writes_tell_missing_labels_alike():
    r = fresh()
    c = r.counter("c", "C.", ["route"])
    h = r.histogram("h", "H.", ["route"])
    s = r.summary("s", "S.", ["route"])
    g = r.gauge("g", "G.", ["route"])
    needs = r"needs labels \['route'\]"
    reads = (c.get, g.get, h.get, h.get_sum, h.get_buckets, s.get, s.get_sum, lambda labels: s.get_quantile(0.5, labels))
    for read in reads:
        for labels in (None, {}, {"path": "/"}, {"route": "/", "extra": "x"}):
            with pytest.raises(ValueError, match=needs):
                read(labels)
    for write in (c.increment, g.set, h.observe, s.observe):
        for labels in (None, {"path": "/"}):
            with pytest.raises(ValueError, match=needs):
                write(1, labels)
    plain = r.counter("plain", "P.")
    with pytest.raises(ValueError, match="has no labels"):
        plain.get({"route": "/"})


def test_collect_all_is_what_a_scrape_shows():
    r = fresh()
    r.counter("jobs", "Jobs.", ["queue"]).increment(2, {"queue": "a"})
    h = r.histogram("latency", "Latency.", buckets=[1])
    h.observe(0.5)
    r.info("build", "Build.").info({"version": "1"})
    values = r.collect_all()
    shown = {key: value for key, value in scraped(r).items() if not key[0].endswith("_created")}
    collected = {(v.name, tuple(sorted(v.labels.items()))): v.value for v in values}
    assert {key: value for key, value in collected.items() if not key[0].endswith("_created")} == shown
    types = {v.name: v.metric_type for v in values}
    assert types["jobs_total"] is pr.MetricType.COUNTER
    assert types["latency_bucket"] is pr.MetricType.HISTOGRAM
    assert types["build_info"] is pr.MetricType.INFO


@pytest.fixture
def layer():
    """The process's layer, on a registry of its own, forgotten after the test (the fixture the
    README shows)."""
    MetricsRegistry.reset_instance()
    yield MetricsRegistry.get_instance(registry=CollectorRegistry())
    MetricsRegistry.reset_instance()


def test_get_instance_is_one_per_process_and_can_be_reset(layer):
    assert MetricsRegistry.get_instance() is layer
    assert MetricsRegistry.get_instance(pr.MetricsBackend.PROMETHEUS) is layer
    with pytest.raises(ValueError, match="already exists"):
        MetricsRegistry.get_instance(pr.MetricsBackend.STATSD)
    with pytest.raises(ValueError, match="another CollectorRegistry"):
        MetricsRegistry.get_instance(registry=CollectorRegistry())
    metrics = pyrometer.get_metrics()
    assert pyrometer.get_metrics() is metrics and metrics.registry is layer
    metrics.prompt_tokens.increment(1, {"model_name": "m", "engine": "0"})
    assert layer.registry.get_sample_value("vllm:prompt_tokens_total", {"model_name": "m", "engine": "0"}) == 1
    MetricsRegistry.reset_instance()
    assert layer.registry.get_sample_value("vllm:prompt_tokens_total", {"model_name": "m", "engine": "0"}) is None
    with pytest.raises(ValueError, match="unregistered from its MetricsRegistry"):
        metrics.prompt_tokens.increment(1, {"model_name": "m", "engine": "0"})
    again = MetricsRegistry.get_instance(registry=CollectorRegistry())
    assert again is not layer and pyrometer.get_metrics() is not metrics
    with pytest.raises(ValueError):
        MetricsRegistry(backend=[])


def test_metrics_unregistered_under_the_layer_are_registered_again():
    r = fresh()
    c = r.counter("jobs", "Jobs.")
    c.increment()
    for collector in list(r.registry._collector_to_names):
        r.registry.unregister(collector)  # as vLLM clears its names before declaring them again
    # Declaring the spec again brings it back, with what it counted.
    assert r.counter("jobs", "Jobs.") is c
    assert r.registry.get_sample_value("jobs_total") == 1
    # So does a scrape through the layer...
    r.registry.unregister(c._metric)
    assert scraped(r)[("jobs_total", ())] == 1
    # ...and the next write, for scrapes of the registry itself.
    r.registry.unregister(c._metric)
    c.increment()
    assert r.registry.get_sample_value("jobs_total") == 2
    # A name taken since fails loudly.
    r.registry.unregister(c._metric)
    pyrometer.Counter("jobs", "Someone else's.", registry=r.registry)
    with pytest.raises(DuplicateTimeseries):
        c.increment()
    # A collector the layer gave up fails every write.
    g = r.gauge("depth", "Depth.")
    r.unregister("depth")
    with pytest.raises(ValueError, match="'depth' was unregistered"):
        g.set(1)


def test_writes_check_registration_only_after_an_unregistration():
    r = fresh()
    c = r.counter("hot", "Hot.", ["route"])
    c.increment(labels={"route": "/"})
    checks = []
    original = r._ensure_registered
    r._ensure_registered = lambda: (checks.append(1), original())
    for _ in range(1000):
        c.increment(labels={"route": "/"})
    assert checks == []
    r.registry.unregister(c._metric)
    for _ in range(1000):
        c.increment(labels={"route": "/"})
    assert checks == [1]
    assert r.registry.get_sample_value("hot_total", {"route": "/"}) == 2001


def native(method):
    """Whether a collector's bound write method is served by its native metric."""
    return type(method).__name__ == "builtin_function_or_method"


def test_writes_are_native_while_registered_and_unobserved():
    r = fresh()
    c = r.counter("jobs", "Jobs.", ["queue"])
    g = r.gauge("depth", "Depth.", ["queue"])
    h = r.histogram("wait_seconds", "Wait.", ["queue"], buckets=[1, 2])
    s = r.summary("size_bytes", "Size.")
    sampled = r.sampled_counter(MetricSpec("sampled", labels=("queue",)), sample_rate=1.0)
    assert all(native(m) for m in (c.increment, c.observe, g.increment, g.decrement, g.set, h.observe, s.observe))
    assert not native(sampled.increment) and not native(c.get)
    # Positional, keyword, default value, int values: all land as the Python methods would.
    labels = {"queue": "a"}
    c.increment(labels=labels)  # a new series: the Python method makes it
    c.increment(2, labels)
    c.increment(value=3, labels=labels)
    c.increment(labels={"queue": 7})  # a non-str value: converted as labels() converts it
    g.set(5, labels)
    g.decrement(labels=labels)
    g.increment(0.5, labels=labels)
    h.observe(1.5, labels)
    s.observe(10)
    assert c.get(labels) == 6 and c.get({"queue": "7"}) == 1
    assert g.get(labels) == 4.5
    assert [b.count for b in h.get_buckets(labels)] == [0, 1, 1] and s.get() == 1
    # Errors are the layer's own, whichever path the call takes.
    with pytest.raises(ValueError, match=r"jobs needs labels \['queue'\], got \['other'\]"):
        c.increment(labels={"other": "a"})
    with pytest.raises(ValueError, match="needs labels"):
        c.increment()
    with pytest.raises(ValueError, match="non-negative"):
        c.increment(-1, labels)
    with pytest.raises(TypeError):
        g.set(labels=labels)
    with pytest.raises(TypeError):
        c.increment(1, labels, value=2)
    assert c.get(labels) == 6
    # Unregistered under the layer: Python methods until the next write registers it again.
    r.registry.unregister(c._metric)
    assert not native(c.increment)
    c.increment(labels=labels)
    assert native(c.increment) and r.registry.get_sample_value("jobs_total", labels) == 7
    r.unregister("depth")
    assert not native(g.set)


def test_a_subclass_override_and_a_statsd_backend_keep_python_writes():
    class Audited(pr.Counter):
        def increment(self, value=1.0, labels=None):
            self.calls = getattr(self, "calls", 0) + 1
            super().increment(value, labels)

    r = fresh()
    audited = r.register(MetricSpec("audited"), Audited)
    audited.increment()
    audited.increment(2)
    assert audited.calls == 2 and audited.get() == 3
    assert native(audited.observe)  # not overridden: served natively, still counted
    audited.observe(1)
    assert audited.get() == 4
    with_statsd = MetricsRegistry(pr.MetricsBackend.STATSD, registry=CollectorRegistry(), statsd_port=9)
    try:
        assert not native(with_statsd.counter("shipped", "Shipped.").increment)
    finally:
        with_statsd.close()
