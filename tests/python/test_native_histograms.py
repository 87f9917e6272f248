"""Native histograms from Python: ``Histogram(..., native_histogram_bucket_factor=...)``.

An addition to prometheus_client's API (docs/compat.md): the keyword names follow client_golang's
options. OpenMetrics 2.0 output is read back with the OpenMetrics parser and compared with the
buckets computed here from the definition. prometheus_client's parser cannot serve: its pattern
for spans has no sign, so it drops the spans of any histogram with buckets below 1.
"""

import math
import os
import subprocess
import sys
import textwrap

import prometheus_client.openmetrics.parser as upstream_parser
import pytest

import pyrometer
from pyrometer import MetricSpec, MetricsRegistry, _native
from pyrometer.prometheus_registry import MetricType
from pyrometer.openmetrics import parser
from pyrometer.openmetrics.exposition import generate_latest as openmetrics_latest

VALUES = [0.0013, 0.21, 0.26, 0.27, 3.3, 3.4, 150.0, -2.5]


def _index(value, schema):
    return math.ceil(math.log2(abs(value)) * 2**schema)


def _expected(values, schema):
    positive, negative = {}, {}
    for v in values:
        side = positive if v > 0 else negative
        side[_index(v, schema)] = side.get(_index(v, schema), 0) + 1
    return positive, negative


def _counts(spans, deltas):
    counts, index, count, deltas = {}, None, 0, iter(deltas)
    for span in spans:
        index = span.offset if index is None else index + 1 + span.offset
        for i in range(span.length):
            count += next(deltas)
            if count:
                counts[index + i] = count
        index += span.length - 1
    return counts


def _native_values(registry):
    text = openmetrics_latest(registry, version="2.0.0").decode()
    out = {}
    for family in parser.text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.native_histogram is not None:
                out[(family.name, tuple(sorted((sample.labels or {}).items())))] = sample.native_histogram
    return out


def test_observations_land_in_the_buckets_of_the_definition():
    registry = pyrometer.CollectorRegistry()
    h = pyrometer.Histogram("latency_seconds", "Latency.", ["route"], registry=registry,
                            native_histogram_bucket_factor=1.1)
    for v in VALUES:
        h.labels(route="/").observe(v)
    native = _native_values(registry)[("latency_seconds", (("route", "/"),))]
    assert native.schema == 3  # the largest factor 2^(2^-s) not above 1.1
    assert native.count_value == len(VALUES)
    assert native.sum_value == pytest.approx(sum(VALUES))
    positive, negative = _expected(VALUES, 3)
    assert _counts(native.pos_spans, native.pos_deltas) == positive
    assert _counts(native.neg_spans, native.neg_deltas) == negative


def test_text_formats_show_the_classic_form():
    registry = pyrometer.CollectorRegistry(auto_describe=True)
    registry._created = False if hasattr(registry, "_created") else None
    h = pyrometer.Histogram("alone", "Native only.", registry=registry, native_histogram_bucket_factor=2)
    both = pyrometer.Histogram("both", "Both.", registry=registry, buckets=[1, 10],
                               native_histogram_bucket_factor=2)
    for v in (0.5, 5, 50):
        h.observe(v)
        both.observe(v)
    text = pyrometer.generate_latest(registry).decode()
    assert 'alone_bucket{le="+Inf"} 3.0\nalone_count 3.0\nalone_sum 55.5\n' in text
    assert 'both_bucket{le="1.0"} 1.0\nboth_bucket{le="10.0"} 2.0\nboth_bucket{le="+Inf"} 3.0\n' in text
    assert "{count:" not in text
    assert "{count:" not in openmetrics_latest(registry).decode()  # OpenMetrics 1.0 has no native samples
    assert h._upper_bounds == [math.inf] and both._upper_bounds == [1.0, 10.0, math.inf]


def test_the_bucket_limit_lowers_the_resolution():
    registry = pyrometer.CollectorRegistry()
    h = pyrometer.Histogram("wide", "Wide.", registry=registry, native_histogram_bucket_factor=1.01,
                            native_histogram_max_buckets=10)
    values = [1.5**i for i in range(-20, 40)]
    for v in values:
        h.observe(v)
    native = _native_values(registry)[("wide", ())]
    assert native.schema < 7
    positive, _ = _expected(values, native.schema)
    assert _counts(native.pos_spans, native.pos_deltas) == positive
    assert len(positive) <= 10


def test_zero_threshold_and_the_zero_bucket():
    registry = pyrometer.CollectorRegistry()
    h = pyrometer.Histogram("z", "Z.", registry=registry, native_histogram_zero_threshold=0.01)
    for v in (0.0, 0.005, -0.009, 0.5):
        h.observe(v)
    native = _native_values(registry)[("z", ())]
    assert native.zero_threshold == 0.01
    assert native.zero_count == 3
    assert native.count_value == 4


@pytest.mark.parametrize("kwargs", [
    {"native_histogram_bucket_factor": 1.0},
    {"native_histogram_bucket_factor": float("nan")},
    {"native_histogram_zero_threshold": -1},
    {"native_histogram_min_reset_duration": -5},
    {"native_histogram_max_zero_threshold": float("nan")},
])
def test_options_out_of_range_are_value_errors(kwargs):
    with pytest.raises(ValueError, match="native_histogram_"):
        pyrometer.Histogram("bad", "Bad.", registry=None, **kwargs)


def test_time_and_exemplars_and_the_fast_path():
    registry = pyrometer.CollectorRegistry()
    h = pyrometer.Histogram("t", "T.", registry=registry, native_histogram_bucket_factor=1.1)
    with h.time():
        pass
    h.observe(0.5, exemplar={"trace_id": "abc"})
    native = _native_values(registry)[("t", ())]
    assert native.count_value == 2
    assert [e.labels for e in native.nh_exemplars] == [{"trace_id": "abc"}]
    assert _native._hot_path_missing == []


WORKER = """
import os, sys
import pyrometer
h = pyrometer.Histogram("mp_latency_seconds", "Latency.", ["route"], native_histogram_bucket_factor=float(sys.argv[1]),
                        buckets=[1.0] if sys.argv[2] == "classic" else None)
for v in map(float, sys.argv[3].split(",")):
    h.labels(route="/").observe(v)
if sys.argv[2] == "exit":
    sys.exit(0)
os._exit(0)
"""


def test_multiprocess_mode_merges_native_histograms_of_live_and_dead_processes(tmp_path):
    """Three workers, two schemas (factor 1.1 is schema 3, factor 2 schema 0): the merged
    histogram holds every observation at the lowest schema, whichever way the workers ended."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    runs = [("1.1", "exit", VALUES[:3]), ("2", "os_exit", VALUES[3:6]), ("1.1", "exit", VALUES[6:])]
    for factor, how, values in runs:
        subprocess.run([sys.executable, "-c", WORKER, factor, how, ",".join(map(repr, values))], env=env,
                       check=True, timeout=60)
    from pyrometer.multiprocess import MultiProcessCollector

    registry = pyrometer.CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    native = _native_values(registry)[("mp_latency_seconds", (("route", "/"),))]
    assert native.schema == 0
    assert native.count_value == len(VALUES)
    assert native.sum_value == pytest.approx(sum(VALUES))
    positive, negative = _expected(VALUES, 0)
    assert _counts(native.pos_spans, native.pos_deltas) == positive
    assert _counts(native.neg_spans, native.neg_deltas) == negative
    text = pyrometer.generate_latest(registry).decode()
    assert f'mp_latency_seconds_bucket{{le="+Inf",route="/"}} {float(len(VALUES))}' in text
    assert f'mp_latency_seconds_count{{route="/"}} {float(len(VALUES))}' in text


def test_multiprocess_native_histograms_keep_classic_buckets_beside(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", WORKER, "1.1", "classic", ",".join(map(repr, VALUES))], env=env,
                   check=True, timeout=60)
    from pyrometer.multiprocess import MultiProcessCollector

    registry = pyrometer.CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    assert _native_values(registry)[("mp_latency_seconds", (("route", "/"),))].count_value == len(VALUES)
    text = pyrometer.generate_latest(registry).decode()
    below = float(sum(v <= 1.0 for v in VALUES))
    assert f'mp_latency_seconds_bucket{{le="1.0",route="/"}} {below}' in text


def test_negative_span_offsets_are_read_where_upstream_drops_the_spans():
    text = ("# TYPE a histogram\n"
            "a {count:1,sum:0.3,schema:3,zero_threshold:0.0,zero_count:0,positive_spans:[-14:1],positive_deltas:[1]}\n"
            "# EOF\n")
    ours = next(iter(parser.text_string_to_metric_families(text))).samples[0].native_histogram
    theirs = next(iter(upstream_parser.text_string_to_metric_families(text))).samples[0].native_histogram
    assert _counts(ours.pos_spans, ours.pos_deltas) == {-14: 1}
    assert theirs.pos_spans is None and theirs.pos_deltas == (1,)


def test_the_registry_layer_makes_native_histograms():
    registry = pyrometer.CollectorRegistry()
    layer = MetricsRegistry(registry=registry)
    h = layer.histogram("layer_latency_seconds", "Latency.", ["route"], native_histogram_bucket_factor=1.1,
                        native_histogram_max_buckets=50)
    both = layer.register(MetricSpec("layer_both_seconds", "Latency.", buckets=(0.1, 1.0),
                                     metric_type=MetricType.HISTOGRAM, native_histogram_bucket_factor=2.0))
    for v in VALUES[:-1]:
        h.observe(v, labels={"route": "/"})
        both.observe(v)
    natives = _native_values(registry)
    native = natives[("layer_latency_seconds", (("route", "/"),))]
    assert native.schema == 3 and native.count_value == len(VALUES) - 1
    assert _counts(native.pos_spans, native.pos_deltas) == _expected(VALUES[:-1], 3)[0]
    assert natives[("layer_both_seconds", ())].schema == 0
    assert [b.upper_bound for b in both.get_buckets()] == [0.1, 1.0, math.inf]
    assert both.get_buckets()[-1].count == len(VALUES) - 1

