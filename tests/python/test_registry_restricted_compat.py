"""restricted_registry(): which families and samples a restriction keeps."""

import pytest
from _registry_compat import (
    _assert_scraped_alike, _Collector, _DescribedCollector, _differs, _gauges, _histograms, _summaries,
)


_UNIT_KEPT = _differs("restricted_registry keeps the unit in ours; upstream's _restricted_metric rebuilds the "
                      "family without it, so no # UNIT line and unit ''")


def _mixed_registry(lib, **kwargs):
    registry = lib.CollectorRegistry(**kwargs)
    c = lib.Counter("hits", "Hits.", ["path"], unit="requests", registry=registry)
    c.labels("/").inc(2)
    lib.Gauge("level", "Level.", registry=registry).set(3)
    h = lib.Histogram("took", "Took.", buckets=[1, 2], registry=registry)
    h.observe(1.5)
    lib.Info("about", "About.", registry=registry).info({"v": "1"})
    registry.register(_DescribedCollector(lib, _histograms, tag="described"))
    registry.register(_Collector(lib, _gauges, tag="nameless"))
    return registry


# The families with a unit: a restriction that reaches them differs (see _UNIT_KEPT).
_UNIT_FAMILIES = {"hits_requests", "size_bytes", "temperature_celsius"}
# The collector without names is reached only with support_collectors_without_names.
_NAMELESS_FAMILIES = {"temperature_celsius", "plain"}
_FAMILY_OF = {
    "hits_requests_total": "hits_requests", "hits_requests": "hits_requests", "size_bytes_bucket": "size_bytes",
    "temperature_celsius": "temperature_celsius", "plain": "plain",
}


def _restrictions():
    for support in [False, True]:
        for names in [
            ["hits_requests_total"], ["hits_requests"], ["level"], ["took_bucket"], ["took_count", "took_sum"],
            ["took_created"], ["about_info"], ["size_bytes_bucket"], ["offsets_bucket", "offsets_count"],
            ["temperature_celsius"], ["plain", "level"], ["target_info"], ["nothing"], [],
        ]:
            families = {_FAMILY_OF[n] for n in names if n in _FAMILY_OF}
            if not support:
                families -= _NAMELESS_FAMILIES
            if names == ["hits_requests"]:
                # The family name of a counter picks its collector but matches none of its samples.
                families.clear()
            marks = [_UNIT_KEPT] if families & _UNIT_FAMILIES else []
            yield pytest.param(names, support, marks=marks, id=f"{'+'.join(names) or 'none'}-support={support}")


@pytest.mark.parametrize(("names", "support"), list(_restrictions()))
def test_restricted_registry_scrapes_identically(both, names, support):
    # With several collectors chosen, upstream yields them in the order of a set of collectors: unspecified.
    def build(lib):
        return _mixed_registry(lib, support_collectors_without_names=support).restricted_registry(names)

    _assert_scraped_alike(both, build, unordered=True)


@_UNIT_KEPT
@pytest.mark.parametrize("support", [False, True])
def test_restricted_registry_over_several_collectors_yields_the_same_families(both, support):
    names = ["hits_requests_total", "level", "took_bucket", "about_info", "size_bytes_count", "plain"]

    def build(lib):
        return _mixed_registry(lib, support_collectors_without_names=support).restricted_registry(names)

    _assert_scraped_alike(both, build, unordered=True)


@pytest.mark.parametrize("support", [False, True])
def test_restricted_registry_over_several_unitless_collectors_yields_the_same_families(both, support):
    names = ["level", "took_bucket", "took_count", "about_info", "offsets_bucket", "plain", "nothing"]

    def build(lib):
        return _mixed_registry(lib, support_collectors_without_names=support).restricted_registry(names)

    _assert_scraped_alike(both, build, unordered=True)


@pytest.mark.parametrize(
    "names",
    [pytest.param(["target_info"]), pytest.param(["target_info", "level"]),
     ["level"], ["target"]],
)
def test_restricted_registry_with_target_info_scrapes_identically(both, names):
    def build(lib):
        registry = lib.CollectorRegistry(target_info={"env": "prod", "region": "eu"})
        lib.Gauge("level", "Level.", registry=registry).set(3)
        return registry.restricted_registry(names)

    _assert_scraped_alike(both, build)


def test_restricted_registry_sees_later_changes(both):
    def build(lib):
        registry = lib.CollectorRegistry()
        restricted = registry.restricted_registry(["late"])
        lib.Gauge("late", "Late.", registry=registry).set(9)
        return restricted

    _assert_scraped_alike(both, build)


@_UNIT_KEPT
def test_restricted_registry_drops_the_unit_of_a_custom_family(both):
    def build(lib):
        registry = lib.CollectorRegistry()
        registry.register(_DescribedCollector(lib, _summaries))
        return registry.restricted_registry(["latency_seconds_count"])

    _assert_scraped_alike(both, build)
