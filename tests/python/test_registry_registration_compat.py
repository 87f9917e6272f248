"""Registering and unregistering collectors: the names they hold, duplicate names and clashes."""

import re

import pytest
from _registry_compat import (
    _assert_alike, _assert_scraped_alike, _Collector, _core, _counters, _DescribedCollector, _differs,
    _every_family, _FailingCollector, _gauges, _module, _outcome, _scrape,
)


@pytest.mark.parametrize("auto_describe", [False, True])
@pytest.mark.parametrize("collector", [_Collector, _DescribedCollector])
def test_registered_names_per_collector_are_the_same(both, auto_describe, collector):
    def names(lib):
        registry = lib.CollectorRegistry(auto_describe=auto_describe)
        custom = collector(lib, _every_family)
        counter = lib.Counter("hits", "Hits.", registry=registry)
        histogram = lib.Histogram("took", "Took.", ["a"], unit="seconds", registry=registry)
        info = lib.Info("about", "About.", registry=registry)
        enum = lib.Enum("phase", "Phase.", states=["a", "b"], registry=registry)
        summary = lib.Summary("sz", "Sz.", registry=registry)
        registry.register(custom)
        tags = {id(counter): "counter", id(histogram): "histogram", id(info): "info", id(enum): "enum",
                id(summary): "summary", id(custom): "custom"}
        to_names = registry._collector_to_names
        to_collectors = registry._names_to_collectors
        # The keys are the registered objects themselves.
        return ({id(k) for k in to_names} == set(tags),
                {tags.get(id(k), "?"): sorted(v) for k, v in to_names.items()},
                {name: tags.get(id(c), type(c).__name__) for name, c in to_collectors.items()})

    upstream, ours = (names(lib) for lib in both)
    assert upstream[0] and ours[0]
    assert ours == upstream


def test_failing_collect_fails_registration_only_with_auto_describe(both):
    def register(lib):
        quiet = lib.CollectorRegistry()
        quiet.register(_FailingCollector(lib, _gauges))
        loud = lib.CollectorRegistry(auto_describe=True)
        return _outcome(lambda: loud.register(_FailingCollector(lib, _gauges)))

    _assert_alike(both, register)


def test_a_failing_describe_fails_registration_alike(both):
    class Broken(_Collector):
        def describe(self):
            raise LookupError("cannot describe")

    _assert_alike(both, lambda lib: lib.CollectorRegistry().register(Broken(lib, _gauges)))


def test_collector_with_names_registered_twice_raises_duplicate_timeseries(both):
    def twice(lib):
        registry = lib.CollectorRegistry()
        collector = _DescribedCollector(lib, lambda lib: [_core(lib).GaugeMetricFamily("only", "Only.", value=1)])
        registry.register(collector)
        registry.register(collector)

    _assert_alike(both, twice)


@_differs("ours keeps both registrations of a collector without names, so it is collected twice and one "
          "unregister leaves it in place; upstream keys registrations by the collector, keeping one")
def test_collector_without_names_registered_twice_is_collected_once(both):
    def twice(lib):
        registry = lib.CollectorRegistry()
        collector = _Collector(lib, _gauges)
        registry.register(collector)
        registry.register(collector)
        first = _scrape(lib, registry)
        registry.unregister(collector)
        return first, _scrape(lib, registry), len(registry._collector_to_names)

    _assert_alike(both, twice)


@pytest.mark.parametrize("native_first", [True, False])
@pytest.mark.parametrize(
    ("native", "custom"),
    [
        (lambda lib, r: lib.Counter("x", "X.", registry=r), lambda core: core.GaugeMetricFamily("x_total", "G.")),
        (lambda lib, r: lib.Gauge("x_total", "X.", registry=r), lambda core: core.CounterMetricFamily("x", "C.")),
        (lambda lib, r: lib.Histogram("x", "X.", registry=r), lambda core: core.GaugeMetricFamily("x_bucket", "G.")),
        (lambda lib, r: lib.Info("x", "X.", registry=r), lambda core: core.GaugeMetricFamily("x_info", "G.")),
        (lambda lib, r: lib.Summary("x", "X.", registry=r), lambda core: core.SummaryMetricFamily("x", "S.")),
        (lambda lib, r: lib.Gauge("x_gsum", "X.", registry=r),
         lambda core: core.GaugeHistogramMetricFamily("x", "G.")),
        (lambda lib, r: lib.Enum("x", "X.", states=["a"], registry=r),
         lambda core: core.StateSetMetricFamily("x", "S.")),
    ],
    ids=["counter-total", "gauge-vs-counter", "histogram-bucket", "info", "summary", "gaugehistogram", "enum"],
)
def test_clash_between_custom_collector_and_native_metric_raises_alike(both, native, custom, native_first):
    def clash(lib):
        registry = lib.CollectorRegistry()
        collector = _DescribedCollector(lib, lambda lib: [custom(_core(lib))])
        try:
            if native_first:
                native(lib, registry)
                registry.register(collector)
            else:
                registry.register(collector)
                native(lib, registry)
        except ValueError as error:
            return type(error).__name__, _names_in_order(str(error))
        return None

    _assert_alike(both, clash)


def _names_in_order(message):
    """The message with the names of a set literal sorted: the set's own order follows string hashing."""
    return re.sub(r"\{(.*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", message)


def test_duplicate_timeseries_is_the_registry_modules_value_error(lib):
    registry = lib.CollectorRegistry()
    lib.Gauge("x", "X.", registry=registry)
    with pytest.raises(_module(lib, "registry").DuplicateTimeseries) as raised:
        lib.Gauge("x", "X.", registry=registry)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value) == "Duplicated timeseries in CollectorRegistry: {'x'}"


@_differs("ours' DuplicateTimeseries has no `duplicates` attribute (upstream: the set of clashing names)")
def test_duplicate_timeseries_lists_every_clashing_name(both):
    def clash(lib):
        registry = lib.CollectorRegistry()
        lib.Histogram("x", "X.", registry=registry)
        try:
            lib.Summary("x", "X.", registry=registry)
        except ValueError as error:
            registry_module = _module(lib, "registry")
            return (type(error).__name__, isinstance(error, registry_module.DuplicateTimeseries),
                    sorted(error.duplicates))
        return None

    _assert_alike(both, clash)


def test_unregister_then_register_again_scrapes_identically(both):
    def build(lib):
        registry = lib.CollectorRegistry(auto_describe=True)
        custom = _Collector(lib, _counters)
        counter = lib.Counter("hits", "Hits.", registry=registry)
        counter.inc(3)
        registry.register(custom)
        registry.unregister(counter)
        registry.unregister(custom)
        registry.register(custom)
        registry.register(counter)
        counter.inc()
        return registry

    _assert_scraped_alike(both, build)


def test_a_name_freed_by_unregister_can_be_taken_by_another_collector(both):
    def build(lib):
        registry = lib.CollectorRegistry()
        counter = lib.Counter("hits", "Hits.", registry=registry)
        registry.unregister(counter)
        registry.register(_DescribedCollector(lib, lambda lib: [_core(lib).GaugeMetricFamily("hits_total", "G.", 5)]))
        return registry

    _assert_scraped_alike(both, build)


@pytest.mark.parametrize(
    "stranger",
    [
        lambda lib: _Collector(lib, _gauges, tag="stranger"),
        lambda lib: lib.Gauge("stranger", "Never registered.", registry=None),
    ],
    ids=["custom", "native"],
)
def test_unregistering_what_was_never_registered_raises_key_error(both, stranger):
    def unregister(lib):
        registry = lib.CollectorRegistry()
        try:
            registry.unregister(stranger(lib))
        except KeyError as error:
            return "KeyError", str(error).replace(lib.__name__, "<lib>")
        return None

    _assert_alike(both, unregister)


def test_unregistering_twice_raises_key_error(both):
    def unregister(lib):
        registry = lib.CollectorRegistry()
        collector = _Collector(lib, _gauges, tag="twice")
        registry.register(collector)
        registry.unregister(collector)
        registry.unregister(collector)

    _assert_alike(both, unregister)
