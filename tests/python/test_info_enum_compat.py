"""Info and Enum behave as prometheus_client's do."""

import importlib

import pytest


def _scenario(lib):
    registry = lib.CollectorRegistry()
    lib.Info("build", "Build information.", registry=registry).info({"version": "1.2.3", "commit": "abc"})
    component = lib.Info("component", "Per component.", ["name"], registry=registry)
    component.labels("db").info({"driver": "pg"})
    e = lib.Enum("task_state", "Task state.", ["task"], states=["starting", "running", "stopped"], registry=registry)
    e.labels("t1").state("running")
    e.labels("t2")
    return registry


def test_info_and_enum_exposition_is_byte_identical(both):
    upstream, ours = both
    want, got = _scenario(upstream), _scenario(ours)
    assert ours.generate_latest(got) == upstream.generate_latest(want)
    om_up = importlib.import_module("prometheus_client.openmetrics.exposition")
    om_ours = importlib.import_module("pyrometer.openmetrics.exposition")
    assert om_ours.generate_latest(got) == om_up.generate_latest(want)


def test_values_read_back(lib):
    registry = _scenario(lib)
    assert registry.get_sample_value("build_info", {"version": "1.2.3", "commit": "abc"}) == 1.0
    assert registry.get_sample_value("task_state", {"task": "t1", "task_state": "running"}) == 1.0
    assert registry.get_sample_value("task_state", {"task": "t2", "task_state": "starting"}) == 1.0


@pytest.mark.parametrize(
    "mistake",
    [
        lambda lib, r: lib.Info("i", "I.", ["a"], registry=r).labels("x").info({"a": "1"}),
        lambda lib, r: lib.Info("i", "I.", registry=r).info({"a": None}),
        lambda lib, r: lib.Enum("e", "E.", registry=r),
        lambda lib, r: lib.Enum("e", "E.", states=[], registry=r),
        lambda lib, r: lib.Enum("e", "E.", ["e"], states=["a"], registry=r),
        lambda lib, r: lib.Enum("e", "E.", states=["a"], registry=r).state("b"),
        lambda lib, r: lib.Info("i", "I.", unit="bytes", registry=r),
    ],
    ids=["info-overlap", "info-none", "enum-no-states", "enum-empty-states", "enum-overlap", "enum-unknown-state",
         "info-unit"],
)
def test_mistakes_raise_the_same_exception(raises_alike, mistake):
    raises_alike(mistake)
