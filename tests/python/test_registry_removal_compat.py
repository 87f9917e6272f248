"""remove(), remove_by_labels() and clear() on labelled metrics, unlabelled metrics and children."""

import pytest
from _registry_compat import _assert_alike, _assert_scraped_alike, _differs, _outcome, _scrape


def _removal_registry(lib):
    registry = lib.CollectorRegistry()
    c = lib.Counter("c", "C.", ["a", "b"], registry=registry)
    for a in ["x", "y"]:
        for b in ["1", "2"]:
            c.labels(a, b).inc()
    return registry, c


@pytest.mark.parametrize(
    "remove",
    [
        lambda c: c.remove("x", "1"),
        lambda c: c.remove("x", 1),
        lambda c: c.remove("nope", "1"),
        lambda c: c.remove("x"),
        pytest.param(lambda c: c.remove(a="x", b="1"),
                     marks=_differs("the TypeError names 'Counter.remove()' in ours; upstream's names "
                                    "'MetricWrapperBase.remove()'")),
        lambda c: c.clear(),
        lambda c: c.remove_by_labels({"a": "x"}),
        lambda c: c.remove_by_labels({"b": 2}),
        lambda c: c.remove_by_labels({"a": "y", "b": "1"}),
        lambda c: c.remove_by_labels({}),
        lambda c: c.remove_by_labels({"z": "x"}),
        lambda c: c.remove_by_labels({"a": "x", "z": "x", "q": "1"}),
        lambda c: c.remove_by_labels([("a", "x")]),
        lambda c: c.remove_by_labels(None),
    ],
    ids=["remove", "remove-int", "remove-absent", "remove-short", "remove-kwargs", "clear", "by-labels-one",
         "by-labels-int", "by-labels-both", "by-labels-empty", "by-labels-unknown", "by-labels-unknowns",
         "by-labels-list", "by-labels-none"],
)
def test_removal_from_a_labelled_metric_acts_alike(both, remove):
    def steps(lib):
        registry, c = _removal_registry(lib)
        done = _outcome(lambda: remove(c))
        return done, _scrape(lib, registry)

    _assert_alike(both, steps)


@pytest.mark.parametrize(
    "remove",
    [lambda m: m.remove(), lambda m: m.remove("x"), lambda m: m.clear(), lambda m: m.remove_by_labels({"a": "x"}),
     lambda m: m.remove_by_labels({})],
    ids=["remove", "remove-value", "clear", "by-labels", "by-labels-empty"],
)
@pytest.mark.parametrize(
    "make",
    [lambda lib, r: lib.Counter("c", "C.", registry=r), lambda lib, r: lib.Histogram("h", "H.", registry=r),
     pytest.param(lambda lib, r: lib.Enum("e", "E.", states=["a"], registry=r))],
    ids=["counter", "histogram", "enum"],
)
def test_removal_from_an_unlabelled_metric_acts_alike(both, make, remove):
    def steps(lib):
        registry = lib.CollectorRegistry()
        metric = make(lib, registry)
        done = _outcome(lambda: remove(metric))
        return done, _scrape(lib, registry)

    _assert_alike(both, steps)


def test_a_removed_child_starts_afresh_when_labelled_again(both):
    def build(lib):
        registry, c = _removal_registry(lib)
        old = c.labels("x", "1")
        c.remove("x", "1")
        old.inc(100)
        c.labels("x", "1").inc(7)
        c.remove_by_labels({"a": "y"})
        c.labels("y", "3").inc(2)
        return registry

    _assert_scraped_alike(both, build)


@_differs("on a child, remove()/clear()/remove_by_labels() fail in upstream with AttributeError \"'Counter' "
          "object has no attribute '_lock'\" and change nothing; ours raises ValueError 'No label names were set "
          "when constructing counter:c' for remove(), clear() and remove_by_labels()")
def test_removal_from_a_child_raises_alike(both):
    def steps(lib):
        registry, c = _removal_registry(lib)
        child = c.labels("x", "1")
        return (_outcome(lambda: child.remove("x", "1")), _outcome(lambda: child.clear()),
                _outcome(lambda: child.remove_by_labels({"a": "x"})), _scrape(lib, registry))

    _assert_alike(both, steps)


def test_clearing_a_child_leaves_its_siblings(lib):
    registry, c = _removal_registry(lib)
    before = _scrape(lib, registry)
    child = c.labels("x", "1")
    try:
        child.clear()
    except (AttributeError, ValueError):
        pass
    assert _scrape(lib, registry) == before
