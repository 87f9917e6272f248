"""Escaped and Unicode names and label values, and NaN and infinite values, scraped and read back."""

import pytest
from _registry_compat import (
    _assert_alike, _assert_scraped_alike, _Collector, _core, _mask_clock, _number, _om, _outcome, _shape,
)


def _escapes_registry(lib):
    registry = lib.CollectorRegistry()
    c = lib.Counter("escapes", 'Help with \\ backslash, "quotes" and\nnewline.', ["v"], registry=registry)
    for value in ["back\\slash", 'dou"ble', "new\nline", "all \\ \" \n three", "Grüße, 世界 🎉", "", "\t tab"]:
        c.labels(value).inc()
    g = lib.Gauge("température_°C", "Ünïcödé name.", ["ключ", "ok", "with.dot"], registry=registry)
    g.labels("значение", "x", "y").set(1)
    lib.Gauge("metric.with.dots", "Dots.", registry=registry).set(2)
    lib.Gauge("1starts_with_digit", "Digit.", registry=registry).set(3)
    lib.Info("über", "Info with Unicode.", registry=registry).info({"schlüssel": "wért", "q": '"'})
    lib.Enum("zustand", "Enum.", ["größe"], states=["ä", "b\"c"], registry=registry).labels("x").state("b\"c")
    registry.register(_Collector(lib, lambda lib: [
        _core(lib).GaugeMetricFamily("custom.ünï", "Custom \\ help\n.", labels=["lä bel"])]))
    return registry


@pytest.mark.parametrize("escaping", ["underscores", "allow-utf-8", "dots", "values"])
def test_escaped_and_unicode_names_and_values_expose_identically(both, escaping):
    def expose(lib):
        registry = _escapes_registry(lib)
        return (_outcome(lambda: _mask_clock(lib.generate_latest(registry, escaping))),
                _outcome(lambda: _mask_clock(_om(lib).generate_latest(registry, escaping))))

    (upstream_text, upstream_om), (our_text, our_om) = (expose(lib) for lib in both)
    assert our_text == upstream_text
    assert our_om == upstream_om


@pytest.mark.parametrize(
    "family",
    ["escapes", "température_°C", "metric.with.dots", "1starts_with_digit", "über",
     pytest.param("zustand"), "custom.ünï"],
)
def test_escaped_and_unicode_names_and_values_collect_identically(both, family):
    def collect(lib):
        return [m for m in _shape(_escapes_registry(lib).collect()) if m[1] == family]

    _assert_alike(both, collect)


def test_escaped_and_unicode_registry_yields_the_same_family_names(both):
    _assert_alike(both, lambda lib: [(m.name, m.type) for m in _escapes_registry(lib).collect()])


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        ("escapes_total", {"v": "new\nline"}),
        ("escapes_total", {"v": 'dou"ble'}),
        ("escapes_total", {"v": "Grüße, 世界 🎉"}),
        ("température_°C", {"ключ": "значение", "ok": "x", "with.dot": "y"}),
        ("über_info", {"schlüssel": "wért", "q": '"'}),
        pytest.param("zustand", {"größe": "x", "zustand": "b\"c"}),
    ],
)
def test_escaped_and_unicode_samples_read_back_alike(both, name, labels):
    _assert_alike(both, lambda lib: _number(_escapes_registry(lib).get_sample_value(name, labels)))


def _special_values_registry(lib):
    registry = lib.CollectorRegistry()
    g = lib.Gauge("level", "Level.", ["kind"], registry=registry)
    g.labels("nan").set(float("nan"))
    g.labels("inf").set(float("inf"))
    g.labels("-inf").set(float("-inf"))
    g.labels("tiny").set(5e-324)
    g.labels("huge").set(1.7976931348623157e308)
    g.labels("negzero").set(-0.0)
    g.labels("big").set(123456789.0)
    h = lib.Histogram("spread", "Spread.", buckets=[float("-inf"), -1, 0, 1e-9, 0.25, 1e9, float("inf")],
                      registry=registry)
    for value in [float("-inf"), -5, 0, 0.1, 2e9, float("inf"), float("nan")]:
        h.observe(value)
    s = lib.Summary("sm", "Sm.", registry=registry)
    s.observe(float("-inf"))
    s.observe(float("nan"))
    c = lib.Counter("ct", "Ct.", registry=registry)
    c.inc(float("inf"))
    registry.register(_Collector(lib, lambda lib: [
        _core(lib).GaugeMetricFamily("custom_nan", "NaN.", value=float("nan")),
        _core(lib).HistogramMetricFamily("custom_h", "H.", buckets=[("-Inf", 0), ("NaN", 1), ("+Inf", float("nan"))],
                                         sum_value=float("-inf")),
        _core(lib).CounterMetricFamily("custom_c", "C.", value=float("inf"), created=float("nan")),
    ]))
    return registry


def test_nan_and_infinite_values_and_buckets_scrape_identically(both):
    _assert_scraped_alike(both, _special_values_registry)


@pytest.mark.parametrize(
    ("name", "labels"),
    [("level", {"kind": "nan"}), ("level", {"kind": "-inf"}), ("spread_bucket", {"le": "-Inf"}),
     ("spread_bucket", {"le": "1e-09"}), ("spread_bucket", {"le": "1e+09"}), ("spread_sum", None),
     ("spread_count", None), ("sm_sum", None)],
)
def test_nan_and_infinite_samples_read_back_alike(both, name, labels):
    _assert_alike(both, lambda lib: _number(_special_values_registry(lib).get_sample_value(name, labels)))
