"""Exposition scenarios, written with prometheus_client: the reference output pyrometer must match.

Each scenario builds a registry with prometheus_client. `write_goldens()` stores what
prometheus_client prints for it under crates/pyrometer-expo/tests/golden/, where the Rust test
`golden.rs` builds the same scenario with pyrometer and compares bytes. `test_golden.py` checks
that the stored files still equal prometheus_client's output and that its parsers read them back.
"""

from pathlib import Path
from typing import Callable, Dict, List, Tuple

from prometheus_client import (
    CollectorRegistry, Counter, Enum, Gauge, Histogram, Info, Summary, metrics,
)
from prometheus_client.core import (
    CounterMetricFamily, GaugeHistogramMetricFamily, GaugeMetricFamily, HistogramMetricFamily,
    InfoMetricFamily, Metric, StateSetMetricFamily, SummaryMetricFamily, UnknownMetricFamily,
)
from prometheus_client.samples import Exemplar, Timestamp

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "crates" / "pyrometer-expo" / "tests" / "golden"

ESCAPINGS = ("allow-utf-8", "underscores", "dots", "values")


def counters(r: CollectorRegistry) -> None:
    c = Counter("http_requests_total", "Requests served.", ["method", "code"], registry=r)
    c.labels("GET", "200").inc()
    c.labels("GET", "200").inc(2)
    c.labels(method="POST", code="500").inc(0.25)
    c.labels("PUT", "201")
    Counter("plain", "No labels.", registry=r).inc(7)


def gauges_and_escapes(r: CollectorRegistry) -> None:
    g = Gauge("temperature", 'Help with \\ backslash,\nnewline and "quotes".', ["room", "note"], registry=r)
    g.labels("kitchen", 'quote " backslash \\ newline \n end').set(21.5)
    g.labels("zürich", "ünïcödé ✓ 日本").set(-3)
    g.labels("b", "").dec(1.5)


def special_values(r: CollectorRegistry) -> None:
    g = Gauge("values", "Special values.", ["case"], registry=r)
    cases = {
        "nan": float("nan"), "inf": float("inf"), "neg_inf": float("-inf"), "neg_zero": -0.0,
        "tiny": 1e-05, "million": 1e6, "big": 123456789.0, "huge": 1.5e16, "neg_big": -1e6,
        "frac": 0.1 + 0.2, "int": 42, "small": 5e-324,
    }
    for name, value in cases.items():
        g.labels(name).set(value)


def histograms(r: CollectorRegistry) -> None:
    h = Histogram("latency_seconds", "Latency.", ["route"], registry=r)
    for v in (0.001, 0.02, 0.3, 0.3, 4.0, 11.0, float("nan")):
        h.labels("/").observe(v)
    h.labels("/empty")
    custom = Histogram("sizes", "Sizes.", buckets=(1, 1000, 1e6, float("inf")), registry=r)
    for v in (0.5, 999, 2e6):
        custom.observe(v)
    negative = Histogram("deltas", "Negative first bucket: no _sum.", buckets=(-1, 0, 1), registry=r)
    negative.observe(-0.5)


def summaries_info_enum(r: CollectorRegistry) -> None:
    s = Summary("request_size_bytes", "Sizes.", ["kind"], registry=r)
    s.labels("a").observe(10)
    s.labels("a").observe(2.5)
    Info("build", "Build information.", registry=r).info({"version": "1.2.3", "commit": "abc"})
    i = Info("component", "Per component.", ["name"], registry=r)
    i.labels("db").info({"driver": "pg"})
    e = Enum("task_state", "Task state.", ["task"], states=["starting", "running", "stopped"], registry=r)
    e.labels("t1").state("running")
    e.labels("t2")


def names_and_units(r: CollectorRegistry) -> None:
    Counter("jobs", "Jobs.", namespace="app", subsystem="worker", registry=r).inc()
    Gauge("memory", "Memory.", unit="bytes", registry=r).set(1024)
    Histogram("wait", "Wait.", unit="seconds", buckets=(0.5,), registry=r).observe(0.1)
    Gauge("colon:name", "Colons are legacy-valid.", registry=r).set(1)


def utf8_names(r: CollectorRegistry) -> None:
    c = Counter("my.requests", "UTF-8 name.", ["route.path", "code"], registry=r)
    c.labels("/a", "200").inc()
    g = Gauge("temp.célsius", "Accented.", registry=r)
    g.set(3)
    Gauge("9lives", "Starts with a digit.", registry=r).set(9)


class _Custom:
    def collect(self) -> List[Metric]:
        c = CounterMetricFamily("ops", "Ops.", labels=["shard"], created=None)
        c.add_metric(["1"], 5, timestamp=1700000000.5, created=1600000000.25)
        c.add_metric(["2"], 6, exemplar=Exemplar({"trace_id": "abc"}, 1.0, 1700000000.123))
        g = GaugeMetricFamily("ts_gauge", "Timestamps.", labels=["k"])
        g.add_metric(["exact"], 1, timestamp=Timestamp(1700000000, 5))
        g.add_metric(["float"], 2, timestamp=1234.5678)
        h = HistogramMetricFamily("custom_hist", "Custom.", labels=["a"])
        h.add_metric(["x"], [("0.5", 1, Exemplar({"trace_id": "t"}, 0.3)), ("+Inf", 3)], 4.5)
        gh = GaugeHistogramMetricFamily("queue", "Gauge histogram.", buckets=[("1.0", 2), ("+Inf", 5)], gsum_value=7)
        s = SummaryMetricFamily("custom_summary", "Custom summary.", count_value=3, sum_value=1.5)
        ss = StateSetMetricFamily("feature", "Features.", {"on": True, "off": False})
        i = InfoMetricFamily("custom", "Custom info.", {"k": "v"})
        u = UnknownMetricFamily("mystery", "Unknown.", value=3)
        created = Metric("made", "Created samples.", "counter")
        created.add_sample("made_total", {}, 1.0)
        created.add_sample("made_created", {}, 1700000000.0)
        return [c, g, h, gh, s, ss, i, u, created]


def custom_collectors(r: CollectorRegistry) -> None:
    r.register(_Custom())


def target_info(r: CollectorRegistry) -> None:
    r.set_target_info({"service": "api", "env": "prod"})
    Gauge("up_gauge", "Up.", registry=r).set(1)


SCENARIOS: Dict[str, Callable[[CollectorRegistry], None]] = {
    "counters": counters,
    "gauges_and_escapes": gauges_and_escapes,
    "special_values": special_values,
    "histograms": histograms,
    "summaries_info_enum": summaries_info_enum,
    "names_and_units": names_and_units,
    "utf8_names": utf8_names,
    "custom_collectors": custom_collectors,
    "target_info": target_info,
}

# Scenarios whose output is stored for every escaping scheme, not just the default.
ALL_ESCAPINGS = {"utf8_names", "names_and_units"}


def build(name: str) -> CollectorRegistry:
    """Builds the named scenario with `_created` samples of live metrics switched off."""
    metrics.disable_created_metrics()
    try:
        registry = CollectorRegistry()
        SCENARIOS[name](registry)
        return registry
    finally:
        metrics.enable_created_metrics()


def outputs(name: str) -> List[Tuple[str, bytes]]:
    """(file name, bytes) of every golden file of a scenario."""
    from prometheus_client import generate_latest
    from prometheus_client.openmetrics.exposition import generate_latest as generate_om

    registry = build(name)
    escapings = ESCAPINGS if name in ALL_ESCAPINGS else ("underscores",)
    files = []
    for escaping in escapings:
        metrics.disable_created_metrics()
        try:
            files.append((f"{name}.{escaping}.txt", generate_latest(registry, escaping=escaping)))
            files.append((f"{name}.{escaping}.om", generate_om(registry, escaping=escaping)))
        finally:
            metrics.enable_created_metrics()
    return files


def write_goldens() -> None:
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    for name in SCENARIOS:
        for file_name, data in outputs(name):
            (GOLDEN_DIR / file_name).write_bytes(data)


if __name__ == "__main__":
    write_goldens()
