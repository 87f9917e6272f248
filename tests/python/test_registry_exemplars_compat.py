"""Exemplars, legacy name validation, and exposition errors from a custom collector's families."""

import pytest
from _registry_compat import (
    _assert_alike, _assert_scraped_alike, _Collector, _core, _differs, _module, _outcome, _scrape, _shape,
)


_NO_METRIC_IN_ARGS = _differs("an exposition error in upstream carries the failing Metric as an extra argument, "
                              "so str() is a tuple with its repr; ours raises the bare message")


_EXEMPLAR_INT = _differs("an exemplar's value is stored as a float in ours; upstream keeps the amount as "
                         "passed, so inc(2, exemplar=...) gives Exemplar(value=2) and inc(exemplar=...) value=1")


def _exemplar_registry(lib, number):
    registry = lib.CollectorRegistry()
    c = lib.Counter("orders", "Orders.", ["shop"], registry=registry)
    c.labels("a").inc(number(2), exemplar={"trace_id": "abc", "span": 'q"\\\nz'})
    c.labels("b").inc()
    plain = lib.Counter("plain", "Plain.", registry=registry)
    plain.inc(number(1), exemplar={"trace_id": "first"})
    plain.inc(number(5), exemplar={"trace_id": "second", "ключ": "значение"})
    h = lib.Histogram("wait", "Wait.", buckets=[0.1, 1, 10], registry=registry)
    h.observe(0.05, exemplar={"trace_id": "fast"})
    h.observe(0.5)
    h.observe(number(5), exemplar={"trace_id": "slow"})
    h.observe(number(50), exemplar={})
    h.observe(0.07, exemplar={"trace_id": "faster"})
    return registry


@pytest.mark.parametrize("number", [float, pytest.param(int, marks=_EXEMPLAR_INT)])
def test_exemplars_of_counters_and_histograms_scrape_identically(both, number):
    _assert_scraped_alike(both, lambda lib: _exemplar_registry(lib, number))


@_EXEMPLAR_INT
def test_an_exemplar_keeps_the_amount_it_was_given(both):
    def record(lib):
        c = lib.Counter("c", "C.", registry=None)
        c.inc(exemplar={"a": "b"})
        return _shape(c.collect())[0][5][0][5]

    _assert_alike(both, record)


def test_exemplar_of_exactly_128_characters_is_accepted(both):
    def build(lib):
        registry = lib.CollectorRegistry()
        lib.Counter("c", "C.", registry=registry).inc(1.0, exemplar={"k": "v" * 127})
        lib.Histogram("h", "H.", registry=registry).observe(1.0, exemplar={"kk": "ü" * 126})
        return registry

    _assert_scraped_alike(both, build)


_BAD_EXEMPLARS = {
    "value-too-long": {"k": "v" * 128},
    "unicode-too-long": {"kk": "é" * 127},
    "names-count": {"a" * 64: "b" * 64, "c": ""},
    "reserved": {"__reserved": "x"},
    "reserved-second": {"ok": "1", "__x": "y"},
    "not-a-string": {"k": 1},
    "surrogate": {"\ud800": "lone surrogate"},
}


_RECORDS = {
    "counter": lambda lib, r, e: lib.Counter("c", "C.", registry=r).inc(exemplar=e),
    "child": lambda lib, r, e: lib.Counter("c", "C.", ["l"], registry=r).labels("x").inc(2, exemplar=e),
    "histogram": lambda lib, r, e: lib.Histogram("h", "H.", registry=r).observe(0.2, exemplar=e),
}


@pytest.mark.parametrize(
    "exemplar",
    [pytest.param(e, id=k, marks=[_differs("a non-str exemplar value fails with \"'int' object is not an instance "
                                           "of 'str'\" in ours; upstream: \"object of type 'int' has no len()\"")]
                  if k == "not-a-string" else []) for k, e in _BAD_EXEMPLARS.items()],
)
@pytest.mark.parametrize("record", list(_RECORDS.values()), ids=list(_RECORDS))
def test_bad_exemplars_raise_alike(both, exemplar, record):
    _assert_alike(both, lambda lib: record(lib, lib.CollectorRegistry(), exemplar))


@_differs("upstream counts the increment or observation before it checks the exemplar, then raises; ours "
          "rejects the whole call, leaving the value unchanged")
@pytest.mark.parametrize("exemplar", list(_BAD_EXEMPLARS.values()), ids=list(_BAD_EXEMPLARS))
@pytest.mark.parametrize("record", list(_RECORDS.values()), ids=list(_RECORDS))
def test_bad_exemplars_leave_the_same_values_behind(both, exemplar, record):
    def attempt(lib):
        registry = lib.CollectorRegistry()
        _outcome(lambda: record(lib, registry, exemplar))
        return _scrape(lib, registry)

    _assert_alike(both, attempt)


@pytest.fixture
def legacy_validation(both):
    """Turns legacy name validation on in both libraries for one test, and off afterwards."""
    for lib in both:
        _module(lib, "validation").enable_legacy_validation()
    try:
        yield
    finally:
        for lib in both:
            _module(lib, "validation").disable_legacy_validation()


@pytest.mark.parametrize(
    "exemplar",
    [{"bad-name": "x"}, {"1abc": "x"}, {"ok_name": "x"}],
)
def test_exemplar_label_names_under_legacy_validation_are_checked_alike(both, legacy_validation, exemplar):
    def attempt(lib):
        return lib.Counter("c", "C.", registry=lib.CollectorRegistry()).inc(1.0, exemplar=exemplar)

    _assert_alike(both, attempt)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.Gauge("bad-name", "G.", registry=None),
        lambda lib: lib.Gauge("température", "G.", registry=None),
        lambda lib: lib.Gauge("g", "G.", ["bad.label"], registry=None),
        lambda lib: lib.Counter("c", "C.", ["ключ"], registry=None),
        lambda lib: lib.Gauge("g", "G.", ["__reserved"], registry=None),
        lambda lib: lib.Gauge("ok_name:colon", "G.", ["ok_label"], registry=None).set(1),
    ],
    ids=["metric-dash", "metric-unicode", "label-dot", "label-unicode", "label-reserved", "classic"],
)
def test_names_under_legacy_validation_are_checked_alike(both, legacy_validation, make):
    _assert_alike(both, make)


@_NO_METRIC_IN_ARGS
def test_exemplar_on_a_gauge_from_a_custom_collector_fails_openmetrics_alike(both):
    def build(lib):
        core = _core(lib)
        gauge = core.GaugeMetricFamily("g", "G.")
        gauge.add_sample("g", {}, 1.0, None, core.Exemplar({"a": "b"}, 1.0))
        registry = lib.CollectorRegistry()
        registry.register(_Collector(lib, lambda lib: [gauge]))
        return registry

    _assert_scraped_alike(both, build)


@_NO_METRIC_IN_ARGS
def test_exemplar_on_a_counters_created_sample_fails_openmetrics_alike(both):
    def build(lib):
        core = _core(lib)
        counter = core.CounterMetricFamily("c", "C.")
        counter.add_sample("c_created", {}, 1500000000.0, None, core.Exemplar({"a": "b"}, 1.0))
        registry = lib.CollectorRegistry()
        registry.register(_Collector(lib, lambda lib: [counter]))
        return registry

    _assert_scraped_alike(both, build)


@_differs("a None gsum fails with 'must be real number, not NoneType' in ours; upstream: \"float() argument "
          "must be a string or a real number, not 'NoneType'\", with the Metric appended to the arguments")
def test_a_gauge_histogram_with_no_gsum_fails_exposition_alike(both):
    def build(lib):
        registry = lib.CollectorRegistry()
        registry.register(_Collector(lib, lambda lib: [
            _core(lib).GaugeHistogramMetricFamily("gh", "GH.", buckets=[("+Inf", 1)])]))
        return registry

    _assert_scraped_alike(both, build)
