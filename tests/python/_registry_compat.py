"""What the registry's differential tests share: scenarios scraped with both libraries and compared."""

# Each scenario is built once with each library; what a scrape sees of it is then compared: the text
# and OpenMetrics exposition bytes, the ``collect()`` object model, sample values read back, and the
# class and message of any exception. Times taken from the clock (``_created`` samples, exemplar
# timestamps) differ between two runs and are replaced by a placeholder before comparing.

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
