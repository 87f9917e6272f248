"""A metric's and a child's own collect() and describe()."""

import pytest
from _registry_compat import _assert_alike, _differs, _shape


_METRICS = {
    "counter": lambda lib: lib.Counter("c_total", "C.", ["a"], unit="bytes", registry=None),
    "gauge": lambda lib: lib.Gauge("g", "G.", ["a"], namespace="ns", subsystem="sub", registry=None),
    "summary": lambda lib: lib.Summary("s", "S.", ["a"], registry=None),
    "histogram": lambda lib: lib.Histogram("h", "H.", ["a"], buckets=[1, 5], unit="seconds", registry=None),
    "info": lambda lib: lib.Info("i", "I.", ["a"], registry=None),
    "enum": lambda lib: lib.Enum("e", "E.", ["a"], states=["on", "off"], registry=None),
    "plain-counter": lambda lib: lib.Counter("pc", "PC.", registry=None),
    "plain-histogram": lambda lib: lib.Histogram("ph", "PH.", buckets=[2], registry=None),
}


def _use(metric, value):
    kind = metric._type
    if kind == "counter":
        metric.inc(value)
    elif kind == "gauge":
        metric.set(value)
    elif kind in ("summary", "histogram"):
        metric.observe(value)
    elif kind == "info":
        metric.info({"v": str(value)})
    elif kind == "stateset":
        metric.state("off")


@pytest.mark.parametrize("kind", _METRICS)
def test_a_metrics_own_collect_and_describe_match(both, kind):
    def look(lib):
        metric = _METRICS[kind](lib)
        if metric._labelnames:
            _use(metric.labels("x"), 3)
            _use(metric.labels(a="y"), 0.5)
        else:
            _use(metric, 1.5)
        collected, described = metric.collect(), metric.describe()
        return type(collected).__name__, _shape(collected), type(described).__name__, _shape(described)

    _assert_alike(both, look)


@_differs("a child's own collect() gives samples with the parent's labels in ours; upstream's child samples "
          "carry only their own labels ({} for a counter, {'le': ...} for a bucket)")
@pytest.mark.parametrize("kind", [k for k in _METRICS if not k.startswith("plain")])
def test_a_childs_own_collect_and_describe_match(both, kind):
    def look(lib):
        child = _METRICS[kind](lib).labels("x")
        _use(child, 2)
        return _shape(child.collect()), _shape(child.describe())

    _assert_alike(both, look)
