"""Native metrics and registries take part in Python's cycle collection: a cycle through a gauge's
function, a registry and the collectors it holds is freed once nothing outside it refers to it."""

import gc
import weakref

import pyrometer


def _collected(make):
    """Whether the object `make()` returns is freed once dropped and a collection has run."""
    ref = weakref.ref(make())
    gc.collect()
    return ref() is None


def test_a_gauge_whose_function_refers_back_to_it_is_collected():
    def make():
        registry = pyrometer.CollectorRegistry()
        g = pyrometer.Gauge("g", "G.", registry=registry)
        g.set_function(lambda: len(registry._names_to_collectors) + (g is not None))
        assert pyrometer.generate_latest(registry).startswith(b"# HELP g G.")
        return g

    assert _collected(make)


def test_a_labelled_gauge_whose_child_function_refers_to_the_parent_is_collected():
    def make():
        g = pyrometer.Gauge("g", "G.", ["a"], registry=None)
        g.labels("x").set_function(lambda: float(g is not None))
        return g

    assert _collected(make)


def test_a_function_keeps_working_while_the_gauge_lives():
    g = pyrometer.Gauge("g", "G.", registry=None)
    box = [3]
    g.set_function(lambda: box[0])
    gc.collect()
    box[0] = 4
    assert [s.value for m in g.collect() for s in m.samples] == [4.0]


def test_a_registry_and_a_python_collector_that_refers_to_it_are_collected():
    class Collector:
        def __init__(self, registry):
            self.registry = registry

        def collect(self):
            return []

    def make():
        registry = pyrometer.CollectorRegistry()
        registry.register(Collector(registry))
        return registry

    assert _collected(make)
