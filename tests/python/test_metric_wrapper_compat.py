"""pyrometer.metrics' base class, created-series switch and name helpers behave as
prometheus_client.metrics' do."""

import importlib
import os
import subprocess
import sys
import warnings

import pytest

METRIC_CLASSES = ("Counter", "Gauge", "Summary", "Histogram", "Info", "Enum")


@pytest.fixture
def metrics(lib):
    return importlib.import_module(lib.__name__ + ".metrics")


def test_every_metric_is_a_metric_wrapper_base(lib, metrics):
    registry = lib.CollectorRegistry()
    for name in METRIC_CLASSES:
        cls = getattr(metrics, name)
        assert issubclass(cls, metrics.MetricWrapperBase)
        extra = {"states": ["a", "b"]} if name == "Enum" else {}
        metric = cls(name.lower(), "Help.", ["l"], registry=registry, **extra)
        assert isinstance(metric, metrics.MetricWrapperBase)
        assert isinstance(metric.labels("x"), metrics.MetricWrapperBase)
    assert not isinstance(lib.CollectorRegistry(), metrics.MetricWrapperBase)


def _unchecked_counter(lib):
    """A metric type written in Python the way third-party code writes one."""
    metrics = importlib.import_module(lib.__name__ + ".metrics")
    values = importlib.import_module(lib.__name__ + ".values")

    class UncheckedCounter(metrics.MetricWrapperBase):
        _type = "counter"
        _reserved_labelnames = ("reserved",)

        def set(self, value):
            self._raise_if_not_observable()
            self._value.set(value)

        def _metric_init(self):
            self._value = values.ValueClass(
                self._type, self._name, self._name + "_total", self._labelnames, self._labelvalues, self._documentation
            )

        def _child_samples(self):
            return (metrics.Sample("_total", {}, self._value.get(), None, None),)

    return UncheckedCounter


def test_a_metric_type_written_in_python_works_as_upstreams(both):
    texts = []
    for lib in both:
        registry = lib.CollectorRegistry()
        cls = _unchecked_counter(lib)
        plain = cls("plain", "Plain.", namespace="ns", unit="bytes", registry=registry)
        plain.set(3)
        labelled = cls("jobs", "Jobs.", ["kind", "shard"], registry=registry)
        labelled.labels("a", "1").set(1)
        labelled.labels(kind="b", shard=2).set(2)
        labelled.labels("c", "3").set(3)
        assert labelled.labels("a", "1") is labelled.labels(kind="a", shard="1")
        assert (str(plain), repr(plain).rsplit(".", 1)[1]) == ("counter:ns_plain_bytes", "UncheckedCounter(ns_plain_bytes)")
        assert registry.get_sample_value("jobs_total", {"kind": "b", "shard": "2"}) == 2
        labelled.remove("c", "3")
        texts.append(lib.generate_latest(registry))
        labelled.remove_by_labels({"kind": "a"})
        assert registry.get_sample_value("jobs_total", {"kind": "a", "shard": "1"}) is None
        labelled.clear()
        assert registry.get_sample_value("jobs_total", {"kind": "b", "shard": "2"}) is None
        assert [m.name for m in plain.describe()] == ["ns_plain_bytes"]
    assert texts[0] == texts[1]


@pytest.mark.parametrize(
    "mistake",
    [
        lambda cls, r: cls("", "Empty.", registry=r),
        lambda cls, r: cls("m", "Reserved.", ["reserved"], registry=r),
        lambda cls, r: cls("m", "Reserved.", ["__x"], registry=r),
        lambda cls, r: cls("m", "No labels.", registry=r).labels("x"),
        lambda cls, r: cls("m", "Chained.", ["a"], registry=r).labels("x").labels("y"),
        lambda cls, r: cls("m", "Both.", ["a"], registry=r).labels("x", a="y"),
        lambda cls, r: cls("m", "Names.", ["a"], registry=r).labels(b="y"),
        lambda cls, r: cls("m", "Count.", ["a"], registry=r).labels("x", "y"),
        lambda cls, r: cls("m", "Parent.", ["a"], registry=r).set(1),
        lambda cls, r: cls("m", "Remove.", ["a"], registry=r).remove("x", "y"),
        lambda cls, r: cls("m", "Remove.", registry=r).remove("x"),
        lambda cls, r: cls("m", "By labels.", ["a"], registry=r).remove_by_labels(["a"]),
        lambda cls, r: cls("m", "By labels.", ["a"], registry=r).remove_by_labels({"b": "x"}),
    ],
    ids=[
        "empty-name", "reserved-by-type", "reserved-prefix", "labels-without-names", "chained-labels",
        "args-and-kwargs", "wrong-names", "wrong-count", "parent-update", "remove-count", "remove-without-names",
        "remove-by-list", "remove-by-unknown",
    ],
)
def test_mistakes_with_a_python_metric_type_raise_alike(raises_alike, mistake):
    raises_alike(lambda lib, registry: mistake(_unchecked_counter(lib), registry))


def test_removal_warns_in_multiprocess_mode(lib, monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    metric = _unchecked_counter(lib)("m", "Help.", ["a"], registry=None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metric.remove("x")
        metric.remove_by_labels({"a": "x"})
        metric.clear()
    assert [str(w.message)[:8] for w in caught] == ["Removal ", "Removal ", "Clearing"]


def test_use_created_follows_the_switch_both_ways(lib, metrics):
    registry = lib.CollectorRegistry()
    lib.Counter("c", "C.", registry=registry)
    try:
        metrics._use_created = False
        assert metrics._use_created is False
        assert registry.get_sample_value("c_created") is None
        metrics.enable_created_metrics()
        assert metrics._use_created is True
        assert registry.get_sample_value("c_created") is not None
        metrics.disable_created_metrics()
        assert metrics._use_created is False
        metrics._use_created = True
        assert registry.get_sample_value("c_created") is not None
    finally:
        metrics.enable_created_metrics()


@pytest.mark.parametrize("setting", [None, "True", "true", "1", "t", "T", "False", "0", "yes", ""])
def test_get_use_created_reads_the_environment(metrics, monkeypatch, setting):
    if setting is None:
        monkeypatch.delenv("PROMETHEUS_DISABLE_CREATED_SERIES", raising=False)
    else:
        monkeypatch.setenv("PROMETHEUS_DISABLE_CREATED_SERIES", setting)
    assert metrics._get_use_created() is (setting is None or setting.lower() not in ("true", "1", "t"))


@pytest.mark.parametrize("library", ["prometheus_client", "pyrometer"])
def test_the_environment_disables_created_series_at_import(library):
    script = (
        f"import {library} as lib\n"
        "from importlib import import_module\n"
        "r = lib.CollectorRegistry()\n"
        "lib.Counter('c', 'C.', registry=r)\n"
        f"print(r.get_sample_value('c_created'), import_module('{library}.metrics')._use_created)\n"
    )
    environment = {**os.environ, "PROMETHEUS_DISABLE_CREATED_SERIES": "true"}
    output = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True)
    assert output.stdout.split() == ["None", "False"]


@pytest.mark.parametrize(
    "arguments",
    [
        ("counter", "requests_total", "app", "http", ""),
        ("counter", "requests", "", "", "seconds"),
        ("gauge", "size", "", "", "bytes"),
        ("gauge", "size_bytes", "ns", "", "bytes"),
        ("histogram", "latency", "", "sub", "seconds"),
        ("counter", "x_total", "", "", "total"),
        ("info", "build", "", "", ""),
        ("info", "build", "", "", "seconds"),
        ("stateset", "state", "ns", "", "x"),
        ("counter", "", "ns", "", ""),
        (None, "untyped", "", "", ""),
    ],
)
def test_build_full_name_is_upstreams(both, arguments):
    outcomes = []
    for lib in both:
        build = importlib.import_module(lib.__name__ + ".metrics")._build_full_name
        try:
            outcomes.append(build(*arguments))
        except ValueError as error:
            outcomes.append(("ValueError", str(error)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize(
    "mistake",
    [
        lambda m: m._validate_metric_name(""),
        lambda m: m._validate_labelnames(m.MetricWrapperBase, ["__reserved"]),
        lambda m: m._validate_labelnames(type("H", (), {"_reserved_labelnames": ["le"]}), ["le"]),
        lambda m: m._validate_exemplar({"a" * 129: ""}),
        lambda m: m._validate_exemplar({"__a": "b"}),
    ],
)
def test_name_checks_raise_alike(both, mistake):
    raised = []
    for lib in both:
        with pytest.raises(Exception) as info:
            mistake(importlib.import_module(lib.__name__ + ".metrics"))
        raised.append((type(info.value).__name__, str(info.value)))
    assert raised[0] == raised[1]


def test_name_checks_accept_alike(metrics):
    assert metrics._validate_labelnames(metrics.MetricWrapperBase, ["a", "b"]) == ("a", "b")
    assert metrics._validate_metric_name("ok.name") is None
    assert metrics._validate_exemplar({"trace_id": "abc"}) is None


def test_the_type_variables_and_reexports_are_there(lib, metrics):
    assert metrics.T.__bound__.__forward_arg__ == "MetricWrapperBase"
    assert metrics.REGISTRY is lib.REGISTRY and metrics.CollectorRegistry is lib.CollectorRegistry
    assert metrics.floatToGoString(1e7) == "1e+07" and metrics.INF == float("inf")
    assert metrics.Sample("n", {}, 1.0) == importlib.import_module(lib.__name__ + ".samples").Sample("n", {}, 1.0)


def test_the_context_managers_are_the_modules_classes(lib, metrics):
    registry = lib.CollectorRegistry()
    assert isinstance(lib.Histogram("h", "H.", registry=registry).time(), metrics.Timer)
    assert isinstance(lib.Gauge("g", "G.", registry=registry).time(), metrics.Timer)
    assert isinstance(lib.Counter("c", "C.", registry=registry).count_exceptions(), metrics.ExceptionCounter)
    assert isinstance(lib.Gauge("i", "I.", registry=registry).track_inprogress(), metrics.InprogressTracker)


def test_native_metric_classes_are_virtual_subclasses():
    """Ours only: they inherit none of the base's methods and are not among its
    ``__subclasses__()`` (see docs/compat.md)."""
    metrics = importlib.import_module("pyrometer.metrics")
    assert issubclass(metrics.Counter, metrics.MetricWrapperBase)
    assert metrics.MetricWrapperBase not in metrics.Counter.__mro__
    assert metrics.Counter not in metrics.MetricWrapperBase.__subclasses__()
    assert not hasattr(metrics.Counter, "_is_observable")
