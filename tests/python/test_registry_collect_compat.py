"""Custom collectors as a scrape, collect() and get_sample_value() see them, and what a failing one raises."""

import importlib

import pytest
from _registry_compat import (
    _assert_alike, _assert_scraped_alike, _Collector, _DescribedCollector, _differs, _every_family,
    _FailingCollector, _FAMILIES, _gauges, _number, _om, _outcome,
)


@pytest.mark.parametrize("kind", list(_FAMILIES))
@pytest.mark.parametrize("collector", [_Collector, _DescribedCollector])
@pytest.mark.parametrize("auto_describe", [False, True])
def test_custom_collector_families_scrape_identically(both, kind, collector, auto_describe):
    def build(lib):
        registry = lib.CollectorRegistry(auto_describe=auto_describe)
        registry.register(collector(lib, _FAMILIES[kind]))
        return registry

    _assert_scraped_alike(both, build)


def test_every_family_from_one_collector_next_to_native_metrics_scrapes_identically(both):
    def build(lib):
        registry = lib.CollectorRegistry(auto_describe=True)
        lib.Counter("native_hits", "Hits.", ["a"], registry=registry).labels("x").inc(2)
        registry.register(_DescribedCollector(lib, _every_family))
        lib.Gauge("native_level", "Level.", registry=registry).set(4)
        return registry

    _assert_scraped_alike(both, build)


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        pytest.param("requests_total", {"path": "/"}),
        ("requests_created", {"path": "/"}),
        pytest.param("sent_bytes_total", {}),
        pytest.param("latency_seconds_count", {"op": "read"}),
        ("summary_count", {}),
        pytest.param("s2_count", {}),
        pytest.param("size_bytes_bucket", {"kind": "a", "le": "5.0"}),
        ("offsets_count", {}),
        ("queue_gsum", {"q": "q1"}),
        pytest.param("build_info", {"host": "h1", "version": "1.0", "commit": "abc"}),
        pytest.param("mode", {"unit": "u1", "mode": "off"}),
        ("raw", {}),
        pytest.param("older", {}),
        ("temperature_celsius", {"room": "kitchen"}),
        ("temperature_celsius", {"room": "kitchen", "extra": "no"}),
        ("temperature_celsius", None),
    ],
)
def test_get_sample_value_reads_custom_collector_samples_alike(both, name, labels):
    def read(lib):
        registry = lib.CollectorRegistry()
        registry.register(_Collector(lib, _every_family))
        return _number(registry.get_sample_value(name, labels))

    _assert_alike(both, read)


def test_failing_collect_raises_the_same_from_every_entry_point(both):
    def attempts(lib):
        registry = lib.CollectorRegistry()
        lib.Gauge("before", "Before.", registry=registry).set(1)
        registry.register(_FailingCollector(lib, _gauges))
        return [
            _outcome(lambda: lib.generate_latest(registry)),
            _outcome(lambda: _om(lib).generate_latest(registry)),
            _outcome(lambda: list(registry.collect())),
            _outcome(lambda: registry.get_sample_value("before")),
            _outcome(lambda: lib.generate_latest(registry.restricted_registry(["before"]))),
        ]

    _assert_alike(both, attempts)


@_differs("ours' registry.collect() collects everything before returning a list iterator, so a failing "
          "collector raises from the call itself; upstream's is a generator that first yields target_info and the "
          "families of the collectors registered before the failing one")
def test_collect_is_lazy_and_yields_what_comes_before_a_failing_collector(both):
    def iterate(lib):
        registry = lib.CollectorRegistry(target_info={"env": "prod"})
        lib.Gauge("before", "Before.", registry=registry).set(1)
        registry.register(_FailingCollector(lib, _gauges))
        seen = []
        try:
            for metric in registry.collect():
                seen.append(metric.name)
        except RuntimeError as error:
            seen.append(str(error))
        return seen

    _assert_alike(both, iterate)


def test_failing_collect_escapes_generate_latest_as_the_very_exception(lib):
    registry = lib.CollectorRegistry()
    registry.register(_FailingCollector(lib, _gauges))
    with pytest.raises(RuntimeError, match="^collector is broken$"):
        lib.generate_latest(registry)
    with pytest.raises(RuntimeError, match="^collector is broken$"):
        _om(lib).generate_latest(registry)
    with pytest.raises(RuntimeError, match="^collector is broken$"):
        list(registry.collect())


def test_the_empty_collector_collects_nothing(lib):
    registry_module = importlib.import_module(lib.__name__ + ".registry")
    registry = lib.CollectorRegistry()
    collector = registry_module._EmptyCollector()
    assert list(collector.collect()) == []
    registry.register(collector)
    assert list(registry.collect()) == []
