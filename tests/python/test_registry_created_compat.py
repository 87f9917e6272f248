"""_created samples, with enable_created_metrics() and disable_created_metrics()."""

import pytest
from _registry_compat import _assert_alike, _assert_scraped_alike, _Collector, _counters, _number, _scrape


@pytest.fixture
def created_off(both):
    """Turns ``_created`` samples off in both libraries for one test, and back on afterwards."""
    for lib in both:
        lib.disable_created_metrics()
    try:
        yield
    finally:
        for lib in both:
            lib.enable_created_metrics()


def _created_registry(lib):
    registry = lib.CollectorRegistry()
    lib.Counter("c", "C.", ["l"], registry=registry).labels("x").inc()
    lib.Counter("plain", "P.", registry=registry).inc()
    lib.Histogram("h", "H.", buckets=[1], registry=registry).observe(0.5)
    lib.Summary("s", "S.", registry=registry).observe(2)
    lib.Gauge("g", "G.", registry=registry).set(1)
    registry.register(_Collector(lib, _counters))
    return registry


def test_created_samples_scrape_identically_when_enabled(both):
    _assert_scraped_alike(both, _created_registry)


def test_disabling_created_metrics_drops_native_created_samples_alike(both, created_off):
    _assert_scraped_alike(both, _created_registry)


def test_created_samples_return_once_enabled_again(both, created_off):
    registries = [_created_registry(lib) for lib in both]
    for lib in both:
        lib.enable_created_metrics()
    upstream, ours = (_scrape(lib, r) for lib, r in zip(both, registries))
    assert ours == upstream
    assert b"c_created{" in upstream["openmetrics"]


def test_get_sample_value_of_created_follows_the_switch(both, created_off):
    def read(lib):
        registry = lib.CollectorRegistry()
        lib.Counter("c", "C.", registry=registry)
        hidden = registry.get_sample_value("c_created")
        lib.enable_created_metrics()
        try:
            shown = registry.get_sample_value("c_created")
        finally:
            lib.disable_created_metrics()
        return hidden, _number(shown)

    _assert_alike(both, read)
