"""target_info: set from the constructor or set_target_info(), read back, scraped, and the name it holds."""

import pytest
from _registry_compat import (
    _assert_alike, _assert_scraped_alike, _core, _DescribedCollector, _differs, _number, _outcome, _scrape,
)


def test_target_info_from_the_constructor_scrapes_identically(both):
    def build(lib):
        registry = lib.CollectorRegistry(target_info={"env": "prod", "host": 'a"b\\c\nd'})
        lib.Gauge("level", "Level.", registry=registry).set(1)
        return registry

    _assert_scraped_alike(both, build)


def test_target_info_reads_back_through_get_sample_value_and_get_target_info(both):
    def read(lib):
        registry = lib.CollectorRegistry(target_info={"env": "prod"})
        return (registry.get_target_info(), _number(registry.get_sample_value("target_info", {"env": "prod"})),
                registry.get_sample_value("target_info"))

    _assert_alike(both, read)


_EMPTY_TARGET_INFO = _differs("set_target_info({}) (or target_info={}) reads back as None in ours; upstream's "
                              "get_target_info() returns the {} it was given")


@pytest.mark.parametrize(
    "labels",
    [None, pytest.param({}, marks=_EMPTY_TARGET_INFO), pytest.param({"env": "dev"}),
     pytest.param({"a": "1", "b": "2"})],
)
def test_set_target_info_replaces_and_clears_alike(both, labels):
    def steps(lib):
        registry = lib.CollectorRegistry(target_info={"env": "prod"})
        lib.Gauge("level", "Level.", registry=registry).set(1)
        registry.set_target_info(labels)
        return registry.get_target_info(), _scrape(lib, registry)

    _assert_alike(both, steps)


@_EMPTY_TARGET_INFO
def test_an_empty_target_info_reads_back_as_given(both):
    def read(lib):
        registry = lib.CollectorRegistry(target_info={})
        return registry.get_target_info(), _scrape(lib, registry)

    _assert_alike(both, read)


@_differs("ours leaves 'target_info' out of _names_to_collectors; upstream holds it there (with a placeholder "
          "collector) while target_info is set")
def test_target_info_occupies_its_name_in_names_to_collectors(both):
    def names(lib):
        registry = lib.CollectorRegistry(target_info={"env": "prod"})
        held = ["target_info" in registry._names_to_collectors]
        registry.set_target_info(None)
        held.append("target_info" in registry._names_to_collectors)
        registry.set_target_info({"a": "b"})
        held.append("target_info" in registry._names_to_collectors)
        return held, len(registry._collector_to_names)

    _assert_alike(both, names)


def test_target_info_name_is_taken_while_target_info_is_set(both):
    def steps(lib):
        registry = lib.CollectorRegistry(target_info={"env": "prod"})
        taken = _outcome(lambda: lib.Gauge("target_info", "Clash.", registry=registry))
        registry.set_target_info(None)
        lib.Gauge("target_info", "Now free.", registry=registry).set(2)
        return taken, _scrape(lib, registry)

    _assert_alike(both, steps)


@pytest.mark.parametrize(
    "occupant",
    [
        lambda lib, r: lib.Gauge("target_info", "G.", registry=r),
        lambda lib, r: lib.Info("target", "I.", registry=r),
        lambda lib, r: r.register(
            _DescribedCollector(lib, lambda lib: [_core(lib).InfoMetricFamily("target", "I.", value={"a": "b"})])),
    ],
    ids=["gauge", "info", "custom-info"],
)
def test_set_target_info_fails_when_a_target_info_metric_exists(both, occupant):
    def steps(lib):
        registry = lib.CollectorRegistry()
        occupant(lib, registry)
        failed = _outcome(lambda: registry.set_target_info({"env": "prod"}))
        return failed, registry.get_target_info(), _scrape(lib, registry)

    _assert_alike(both, steps)


def test_set_target_info_again_does_not_clash_with_itself(both):
    def steps(lib):
        registry = lib.CollectorRegistry()
        registry.set_target_info({"a": "1"})
        registry.set_target_info({"b": "2"})
        return registry.get_target_info(), _scrape(lib, registry)

    _assert_alike(both, steps)
