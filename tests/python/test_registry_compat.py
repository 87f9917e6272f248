"""The registry behaves as prometheus_client's does, scenario by scenario.

Each scenario is built once with each library; what a scrape sees of it is then compared: the text
and OpenMetrics exposition bytes, the ``collect()`` object model, sample values read back, and the
class and message of any exception. Times taken from the clock (``_created`` samples, exemplar
timestamps) differ between two runs and are replaced by a placeholder before comparing.
"""

import asyncio
import importlib
import math
import re
import time

import pytest

# A custom collector's fixed timestamps lie far from now, so that only clock readings are masked.
T0 = 1600000000.5


def _differs(reason):
    """Marks a test that fails because the libraries differ; the test stays as it is until they agree."""
    return pytest.mark.xfail(strict=True, reason=reason)


_UNIT_KEPT = _differs("restricted_registry keeps the unit in ours; upstream's _restricted_metric rebuilds the "
                      "family without it, so no # UNIT line and unit ''")
_NO_METRIC_IN_ARGS = _differs("an exposition error in upstream carries the failing Metric as an extra argument, "
                              "so str() is a tuple with its repr; ours raises the bare message")
_ASYNC = _differs("upstream's decorators wrap only the call that creates the coroutine: nothing is counted or "
                  "tracked while it is awaited, and the result is not a coroutine function; ours wraps the await")


def _module(lib, name):
    return importlib.import_module(f"{lib.__name__}.{name}")


def _core(lib):
    return _module(lib, "metrics_core")


def _om(lib):
    return _module(lib, "openmetrics.exposition")


def _recent(number):
    return abs(number - time.time()) < 86400


_CLOCK = re.compile(rb"\d\.\d+e\+09|\d{10}(?:\.\d+)?")


def _mask_clock(data: bytes) -> bytes:
    """Exposition bytes with each clock reading (a number within a day of now) replaced by ``<now>``."""
    return _CLOCK.sub(lambda m: b"<now>" if _recent(float(m.group())) else m.group(), data)


def _number(value):
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and _recent(value):
        return "<now>"
    return (type(value).__name__, value)


def _stamp(timestamp):
    if timestamp is None:
        return None
    if type(timestamp).__name__ == "Timestamp":
        return ("Timestamp", str(timestamp))
    return _number(timestamp)


def _exemplar(exemplar):
    if exemplar is None:
        return None
    return (type(exemplar).__name__, dict(exemplar.labels), _number(exemplar.value), _stamp(exemplar.timestamp))


def _shape(metrics):
    """Everything ``collect()`` yields, as plain data comparable across the two libraries."""
    return [
        (type(m).__name__, m.name, m.documentation, m.type, m.unit,
         [(type(s).__name__, s.name, dict(s.labels), _number(s.value), _stamp(s.timestamp), _exemplar(s.exemplar),
           s.native_histogram) for s in m.samples])
        for m in metrics
    ]


def _outcome(action):
    """What `action()` returns, or the class and message of what it raises."""
    try:
        return action()
    except Exception as error:  # noqa: BLE001 - any exception is part of the comparison
        return ("raised", type(error).__name__, str(error))


def _blocks(data: bytes):
    """Exposition bytes as a sorted list of families, for scrapes whose family order is unspecified."""
    return sorted(b"# HELP" + block for block in data.replace(b"# EOF\n", b"").split(b"# HELP")[1:])


def _scrape(lib, registry, unordered=False):
    """Text, OpenMetrics and ``collect()`` of `registry`, clock readings masked."""
    text = _outcome(lambda: _mask_clock(lib.generate_latest(registry)))
    om = _outcome(lambda: _mask_clock(_om(lib).generate_latest(registry)))
    model = _outcome(lambda: _shape(registry.collect()))
    if unordered:
        text = _blocks(text) if isinstance(text, bytes) else text
        om = _blocks(om) if isinstance(om, bytes) else om
        model = sorted(model, key=repr) if isinstance(model, list) else model
    return {"text": text, "openmetrics": om, "collect": model}


def _assert_scraped_alike(both, build, unordered=False):
    upstream, ours = (_scrape(lib, build(lib), unordered) for lib in both)
    assert ours["text"] == upstream["text"]
    assert ours["openmetrics"] == upstream["openmetrics"]
    assert ours["collect"] == upstream["collect"]


def _assert_alike(both, action):
    """`action(lib)` returns, or raises, the same with both libraries."""
    upstream, ours = (_outcome(lambda lib=lib: action(lib)) for lib in both)
    assert ours == upstream


class _Collector:
    """A custom collector with no ``describe()``: yields what `families(lib)` builds, afresh each time."""

    def __init__(self, lib, families, tag="collector"):
        self._lib = lib
        self._families = families
        self.tag = tag

    def collect(self):
        return self._families(self._lib)

    def __repr__(self):
        return f"<collector {self.tag}>"


class _DescribedCollector(_Collector):
    """A custom collector whose ``describe()`` yields the families' names and types, without samples."""

    def describe(self):
        return [_core(self._lib).Metric(m.name, m.documentation, m.type, m.unit) for m in self._families(self._lib)]


class _FailingCollector(_Collector):
    def collect(self):
        raise RuntimeError("collector is broken")


# Custom collector families.


def _counters(lib):
    core = _core(lib)
    labelled = core.CounterMetricFamily("requests_total", "Requests served.", labels=["path"])
    labelled.add_metric(["/"], 3, created=1500000000.25, timestamp=T0,
                        exemplar=core.Exemplar({"trace": "t1"}, 1.0, 1600000000.0))
    labelled.add_metric(["/x"], 1.5, timestamp=core.Timestamp(1600000000, 5))
    plain = core.CounterMetricFamily("sent", "Bytes sent.", value=10, unit="bytes", created=1500000000.0,
                                     exemplar=core.Exemplar({"a": "b"}, 2))
    return [labelled, plain]


def _gauges(lib):
    core = _core(lib)
    labelled = core.GaugeMetricFamily("temperature", "Temperature.", labels=["room"], unit="celsius")
    labelled.add_metric(["kitchen"], 21.5, timestamp=core.Timestamp(1600000000, 123456789))
    labelled.add_metric(["hall"], -3)
    return [labelled, core.GaugeMetricFamily("plain", "Plain.", value=7)]


def _summaries(lib):
    core = _core(lib)
    labelled = core.SummaryMetricFamily("latency", "Latency.", labels=["op"], unit="seconds")
    labelled.add_metric(["read"], 4, 1.25, timestamp=T0)
    return [labelled, core.SummaryMetricFamily("s2", "S2.", count_value=2, sum_value=0.5)]


def _histograms(lib):
    core = _core(lib)
    labelled = core.HistogramMetricFamily("size", "Size.", labels=["kind"], unit="bytes")
    labelled.add_metric(
        ["a"],
        [("1.0", 1, core.Exemplar({"id": "1"}, 0.5, core.Timestamp(1600000000, 1))), ("5.0", 3),
         ("+Inf", 4, core.Exemplar({"id": "2"}, 9.0))],
        12.5,
        timestamp=T0,
    )
    negative = core.HistogramMetricFamily("offsets", "Offsets.", buckets=[("-1.0", 0), ("+Inf", 2)], sum_value=3)
    no_sum = core.HistogramMetricFamily("nosum", "No sum.", buckets=[("1.0", 1), ("+Inf", 2)])
    return [labelled, negative, no_sum]


def _gauge_histograms(lib):
    core = _core(lib)
    labelled = core.GaugeHistogramMetricFamily("queue", "Queue.", labels=["q"])
    labelled.add_metric(["q1"], [("1.0", 2), ("+Inf", 5)], 7.5, timestamp=T0)
    return [labelled, core.GaugeHistogramMetricFamily("backlog", "Backlog.", buckets=[("+Inf", 1)], gsum_value=2)]


def _infos(lib):
    core = _core(lib)
    labelled = core.InfoMetricFamily("build", "Build.", labels=["host"])
    labelled.add_metric(["h1"], {"version": "1.0", "commit": "abc"}, timestamp=T0)
    return [labelled, core.InfoMetricFamily("single", "Single.", value={"a": "b"})]


def _statesets(lib):
    core = _core(lib)
    labelled = core.StateSetMetricFamily("mode", "Mode.", labels=["unit"])
    labelled.add_metric(["u1"], {"on": True, "off": False})
    return [labelled, core.StateSetMetricFamily("flag", "Flag.", value={"x": False})]


def _unknowns(lib):
    core = _core(lib)
    labelled = core.UnknownMetricFamily("mystery", "Mystery.", labels=["k"], unit="meters")
    labelled.add_metric(["v"], 1e-5, timestamp=1600000000.123)
    return [labelled, core.UnknownMetricFamily("raw", "Raw.", value=float("inf")),
            core.UntypedMetricFamily("older", "Older name.", value=2)]


_FAMILIES = {
    "counter": _counters,
    "gauge": _gauges,
    "summary": _summaries,
    "histogram": _histograms,
    "gaugehistogram": _gauge_histograms,
    "info": _infos,
    "stateset": _statesets,
    "unknown": _unknowns,
}


def _every_family(lib):
    return [m for build in _FAMILIES.values() for m in build(lib)]


# Custom collectors.


@pytest.mark.parametrize("kind", list(_FAMILIES))
@pytest.mark.parametrize("collector", [_Collector, _DescribedCollector])
@pytest.mark.parametrize("auto_describe", [False, True])
def test_custom_collector_families_scrape_identically(both, kind, collector, auto_describe):
    def build(lib):
        registry = lib.CollectorRegistry(auto_describe=auto_describe)
        registry.register(collector(lib, _FAMILIES[kind]))
        return registry

    _assert_scraped_alike(both, build)


def test_every_family_from_one_collector_next_to_native_metrics_scrapes_identically(both):
    def build(lib):
        registry = lib.CollectorRegistry(auto_describe=True)
        lib.Counter("native_hits", "Hits.", ["a"], registry=registry).labels("x").inc(2)
        registry.register(_DescribedCollector(lib, _every_family))
        lib.Gauge("native_level", "Level.", registry=registry).set(4)
        return registry

    _assert_scraped_alike(both, build)


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        pytest.param("requests_total", {"path": "/"}),
        ("requests_created", {"path": "/"}),
        pytest.param("sent_bytes_total", {}),
        pytest.param("latency_seconds_count", {"op": "read"}),
        ("summary_count", {}),
        pytest.param("s2_count", {}),
        pytest.param("size_bytes_bucket", {"kind": "a", "le": "5.0"}),
        ("offsets_count", {}),
        ("queue_gsum", {"q": "q1"}),
        pytest.param("build_info", {"host": "h1", "version": "1.0", "commit": "abc"}),
        pytest.param("mode", {"unit": "u1", "mode": "off"}),
        ("raw", {}),
        pytest.param("older", {}),
        ("temperature_celsius", {"room": "kitchen"}),
        ("temperature_celsius", {"room": "kitchen", "extra": "no"}),
        ("temperature_celsius", None),
    ],
)
def test_get_sample_value_reads_custom_collector_samples_alike(both, name, labels):
    def read(lib):
        registry = lib.CollectorRegistry()
        registry.register(_Collector(lib, _every_family))
        return _number(registry.get_sample_value(name, labels))

    _assert_alike(both, read)


@pytest.mark.parametrize("auto_describe", [False, True])
@pytest.mark.parametrize("collector", [_Collector, _DescribedCollector])
def test_registered_names_per_collector_are_the_same(both, auto_describe, collector):
    def names(lib):
        registry = lib.CollectorRegistry(auto_describe=auto_describe)
        custom = collector(lib, _every_family)
        counter = lib.Counter("hits", "Hits.", registry=registry)
        histogram = lib.Histogram("took", "Took.", ["a"], unit="seconds", registry=registry)
        info = lib.Info("about", "About.", registry=registry)
        enum = lib.Enum("phase", "Phase.", states=["a", "b"], registry=registry)
        summary = lib.Summary("sz", "Sz.", registry=registry)
        registry.register(custom)
        tags = {id(counter): "counter", id(histogram): "histogram", id(info): "info", id(enum): "enum",
                id(summary): "summary", id(custom): "custom"}
        to_names = registry._collector_to_names
        to_collectors = registry._names_to_collectors
        # The keys are the registered objects themselves.
        return ({id(k) for k in to_names} == set(tags),
                {tags.get(id(k), "?"): sorted(v) for k, v in to_names.items()},
                {name: tags.get(id(c), type(c).__name__) for name, c in to_collectors.items()})

    upstream, ours = (names(lib) for lib in both)
    assert upstream[0] and ours[0]
    assert ours == upstream


def test_failing_collect_raises_the_same_from_every_entry_point(both):
    def attempts(lib):
        registry = lib.CollectorRegistry()
        lib.Gauge("before", "Before.", registry=registry).set(1)
        registry.register(_FailingCollector(lib, _gauges))
        return [
            _outcome(lambda: lib.generate_latest(registry)),
            _outcome(lambda: _om(lib).generate_latest(registry)),
            _outcome(lambda: list(registry.collect())),
            _outcome(lambda: registry.get_sample_value("before")),
            _outcome(lambda: lib.generate_latest(registry.restricted_registry(["before"]))),
        ]

    _assert_alike(both, attempts)


@_differs("ours' registry.collect() collects everything before returning a list iterator, so a failing "
          "collector raises from the call itself; upstream's is a generator that first yields target_info and the "
          "families of the collectors registered before the failing one")
def test_collect_is_lazy_and_yields_what_comes_before_a_failing_collector(both):
    def iterate(lib):
        registry = lib.CollectorRegistry(target_info={"env": "prod"})
        lib.Gauge("before", "Before.", registry=registry).set(1)
        registry.register(_FailingCollector(lib, _gauges))
        seen = []
        try:
            for metric in registry.collect():
                seen.append(metric.name)
        except RuntimeError as error:
            seen.append(str(error))
        return seen

    _assert_alike(both, iterate)


def test_failing_collect_escapes_generate_latest_as_the_very_exception(lib):
    registry = lib.CollectorRegistry()
    registry.register(_FailingCollector(lib, _gauges))
    with pytest.raises(RuntimeError, match="^collector is broken$"):
        lib.generate_latest(registry)
    with pytest.raises(RuntimeError, match="^collector is broken$"):
        _om(lib).generate_latest(registry)
    with pytest.raises(RuntimeError, match="^collector is broken$"):
        list(registry.collect())


def test_failing_collect_fails_registration_only_with_auto_describe(both):
    def register(lib):
        quiet = lib.CollectorRegistry()
        quiet.register(_FailingCollector(lib, _gauges))
        loud = lib.CollectorRegistry(auto_describe=True)
        return _outcome(lambda: loud.register(_FailingCollector(lib, _gauges)))

    _assert_alike(both, register)


def test_a_failing_describe_fails_registration_alike(both):
    class Broken(_Collector):
        def describe(self):
            raise LookupError("cannot describe")

    _assert_alike(both, lambda lib: lib.CollectorRegistry().register(Broken(lib, _gauges)))


def test_collector_with_names_registered_twice_raises_duplicate_timeseries(both):
    def twice(lib):
        registry = lib.CollectorRegistry()
        collector = _DescribedCollector(lib, lambda lib: [_core(lib).GaugeMetricFamily("only", "Only.", value=1)])
        registry.register(collector)
        registry.register(collector)

    _assert_alike(both, twice)


@_differs("ours keeps both registrations of a collector without names, so it is collected twice and one "
          "unregister leaves it in place; upstream keys registrations by the collector, keeping one")
def test_collector_without_names_registered_twice_is_collected_once(both):
    def twice(lib):
        registry = lib.CollectorRegistry()
        collector = _Collector(lib, _gauges)
        registry.register(collector)
        registry.register(collector)
        first = _scrape(lib, registry)
        registry.unregister(collector)
        return first, _scrape(lib, registry), len(registry._collector_to_names)

    _assert_alike(both, twice)


@pytest.mark.parametrize("native_first", [True, False])
@pytest.mark.parametrize(
    ("native", "custom"),
    [
        (lambda lib, r: lib.Counter("x", "X.", registry=r), lambda core: core.GaugeMetricFamily("x_total", "G.")),
        (lambda lib, r: lib.Gauge("x_total", "X.", registry=r), lambda core: core.CounterMetricFamily("x", "C.")),
        (lambda lib, r: lib.Histogram("x", "X.", registry=r), lambda core: core.GaugeMetricFamily("x_bucket", "G.")),
        (lambda lib, r: lib.Info("x", "X.", registry=r), lambda core: core.GaugeMetricFamily("x_info", "G.")),
        (lambda lib, r: lib.Summary("x", "X.", registry=r), lambda core: core.SummaryMetricFamily("x", "S.")),
        (lambda lib, r: lib.Gauge("x_gsum", "X.", registry=r),
         lambda core: core.GaugeHistogramMetricFamily("x", "G.")),
        (lambda lib, r: lib.Enum("x", "X.", states=["a"], registry=r),
         lambda core: core.StateSetMetricFamily("x", "S.")),
    ],
    ids=["counter-total", "gauge-vs-counter", "histogram-bucket", "info", "summary", "gaugehistogram", "enum"],
)
def test_clash_between_custom_collector_and_native_metric_raises_alike(both, native, custom, native_first):
    def clash(lib):
        registry = lib.CollectorRegistry()
        collector = _DescribedCollector(lib, lambda lib: [custom(_core(lib))])
        try:
            if native_first:
                native(lib, registry)
                registry.register(collector)
            else:
                registry.register(collector)
                native(lib, registry)
        except ValueError as error:
            return type(error).__name__, _names_in_order(str(error))
        return None

    _assert_alike(both, clash)


def _names_in_order(message):
    """The message with the names of a set literal sorted: the set's own order follows string hashing."""
    return re.sub(r"\{(.*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", message)


def test_duplicate_timeseries_is_the_registry_modules_value_error(lib):
    registry = lib.CollectorRegistry()
    lib.Gauge("x", "X.", registry=registry)
    with pytest.raises(_module(lib, "registry").DuplicateTimeseries) as raised:
        lib.Gauge("x", "X.", registry=registry)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value) == "Duplicated timeseries in CollectorRegistry: {'x'}"


@_differs("ours' DuplicateTimeseries has no `duplicates` attribute (upstream: the set of clashing names)")
def test_duplicate_timeseries_lists_every_clashing_name(both):
    def clash(lib):
        registry = lib.CollectorRegistry()
        lib.Histogram("x", "X.", registry=registry)
        try:
            lib.Summary("x", "X.", registry=registry)
        except ValueError as error:
            registry_module = _module(lib, "registry")
            return (type(error).__name__, isinstance(error, registry_module.DuplicateTimeseries),
                    sorted(error.duplicates))
        return None

    _assert_alike(both, clash)


def test_unregister_then_register_again_scrapes_identically(both):
    def build(lib):
        registry = lib.CollectorRegistry(auto_describe=True)
        custom = _Collector(lib, _counters)
        counter = lib.Counter("hits", "Hits.", registry=registry)
        counter.inc(3)
        registry.register(custom)
        registry.unregister(counter)
        registry.unregister(custom)
        registry.register(custom)
        registry.register(counter)
        counter.inc()
        return registry

    _assert_scraped_alike(both, build)


def test_a_name_freed_by_unregister_can_be_taken_by_another_collector(both):
    def build(lib):
        registry = lib.CollectorRegistry()
        counter = lib.Counter("hits", "Hits.", registry=registry)
        registry.unregister(counter)
        registry.register(_DescribedCollector(lib, lambda lib: [_core(lib).GaugeMetricFamily("hits_total", "G.", 5)]))
        return registry

    _assert_scraped_alike(both, build)


@pytest.mark.parametrize(
    "stranger",
    [
        lambda lib: _Collector(lib, _gauges, tag="stranger"),
        lambda lib: lib.Gauge("stranger", "Never registered.", registry=None),
    ],
    ids=["custom", "native"],
)
def test_unregistering_what_was_never_registered_raises_key_error(both, stranger):
    def unregister(lib):
        registry = lib.CollectorRegistry()
        try:
            registry.unregister(stranger(lib))
        except KeyError as error:
            return "KeyError", str(error).replace(lib.__name__, "<lib>")
        return None

    _assert_alike(both, unregister)


def test_unregistering_twice_raises_key_error(both):
    def unregister(lib):
        registry = lib.CollectorRegistry()
        collector = _Collector(lib, _gauges, tag="twice")
        registry.register(collector)
        registry.unregister(collector)
        registry.unregister(collector)

    _assert_alike(both, unregister)


# restricted_registry.


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


# target_info.


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


# Exemplars.


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


# _created samples.


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


# Escapes, Unicode and special values.


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


# Removal.


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


# A metric's own collect() and describe().


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


# Decorators on async functions.


def test_histogram_time_decorates_an_async_function(lib):
    registry = lib.CollectorRegistry()
    h = lib.Histogram("h", "H.", registry=registry)
    s = lib.Summary("s", "S.", registry=registry)
    g = lib.Gauge("g", "G.", registry=registry)

    @h.time()
    @s.time()
    @g.time()
    async def work(x, y=1):
        await asyncio.sleep(0)
        return x + y

    assert asyncio.run(work(1)) == 2
    assert asyncio.run(work(2, y=3)) == 5
    assert work.__name__ == "work"
    assert registry.get_sample_value("h_count") == 2.0
    assert registry.get_sample_value("s_count") == 2.0
    assert registry.get_sample_value("h_bucket", {"le": "+Inf"}) == 2.0


@_ASYNC
def test_async_timing_counts_the_same(both):
    def count(lib):
        registry = lib.CollectorRegistry()
        h = lib.Histogram("h", "H.", ["op"], registry=registry)

        @h.labels("read").time()
        async def work():
            await asyncio.sleep(0)

        async def main():
            await asyncio.gather(work(), work(), work())

        asyncio.run(main())
        return registry.get_sample_value("h_count", {"op": "read"}), asyncio.iscoroutinefunction(work)

    _assert_alike(both, count)


@_ASYNC
def test_count_exceptions_on_an_async_function_counts_alike(both):
    def count(lib):
        registry = lib.CollectorRegistry()
        c = lib.Counter("failures", "Failures.", registry=registry)

        @c.count_exceptions(ValueError)
        async def fail(kind):
            await asyncio.sleep(0)
            raise kind("no")

        raised = []
        for kind in [ValueError, KeyError, ValueError]:
            try:
                asyncio.run(fail(kind))
            except Exception as error:  # noqa: BLE001
                raised.append(type(error).__name__)
        return raised, registry.get_sample_value("failures_total")

    _assert_alike(both, count)


@_ASYNC
def test_track_inprogress_on_an_async_function_reads_alike(both):
    def track(lib):
        registry = lib.CollectorRegistry()
        g = lib.Gauge("running", "Running.", registry=registry)
        seen = []

        @g.track_inprogress()
        async def work():
            await asyncio.sleep(0)
            seen.append(registry.get_sample_value("running"))

        async def main():
            await asyncio.gather(work(), work())

        asyncio.run(main())
        return seen, registry.get_sample_value("running")

    _assert_alike(both, track)


def test_clearing_a_child_leaves_its_siblings(lib):
    registry, c = _removal_registry(lib)
    before = _scrape(lib, registry)
    child = c.labels("x", "1")
    try:
        child.clear()
    except (AttributeError, ValueError):
        pass
    assert _scrape(lib, registry) == before


def test_the_empty_collector_collects_nothing(lib):
    registry_module = importlib.import_module(lib.__name__ + ".registry")
    registry = lib.CollectorRegistry()
    collector = registry_module._EmptyCollector()
    assert list(collector.collect()) == []
    registry.register(collector)
    assert list(registry.collect()) == []
