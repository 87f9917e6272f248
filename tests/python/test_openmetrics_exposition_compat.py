"""``openmetrics.exposition`` matches prometheus_client's: its constants, the name escaping
functions for every scheme, ``parse_version``, and OpenMetrics 2.0 negotiation, which answers
with the same content type and the same bytes as upstream for every metric kind pyrometer
encodes. ``time.time`` is fixed while metrics are made, so ``_created`` and exemplar timestamps
agree."""

import importlib
import random
from unittest import mock

import pytest

import pyrometer.openmetrics.exposition
import pyrometer.openmetrics.parser

NAMES = [
    "",
    "ok",
    "no:escaping_required",
    "no_escaping_required",
    "__name__",
    "_",
    ":",
    "0abc",
    "a0",
    "mysystem.prod.west.cpu.load_total",
    "http.status:sum",
    "label with 😱",
    "花火",
    "label with \u0100",
    'quote"back\\slash\nnewline',
    "lone \ud800 surrogate",
]
SCHEMES = ["allow-utf-8", "underscores", "dots", "values", "unknown"]
VERSIONS = ["1.0.0", "2.0.0", "2.0", "2", "10.2.1", "1.x", "0.26.dev1", ""]

OPENMETRICS_2_ACCEPTS = [
    "application/openmetrics-text; version=2.0.0",
    "application/openmetrics-text; version=2.0.0; escaping=allow-utf-8",
    "application/openmetrics-text;version=2.0.0;escaping=values",
    "application/openmetrics-text; version=2.0.0; charset=utf-8; escaping=dots",
    "text/plain; version=0.0.4, application/openmetrics-text; version=2.0.0",
    "application/openmetrics-text; version=2.0.0; q=0.9, text/plain; version=1.0.0",
    "application/openmetrics-text; version=3.0.0",
]


def _random_names(count):
    rng = random.Random(20)
    alphabet = "abcXYZ_:.09 -\\\n\"é花😱\ud800\u0100"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) for _ in range(count)]


def _openmetrics(lib):
    return importlib.import_module(f"{lib.__name__}.openmetrics.exposition")


def test_the_constants_are_the_same(both):
    upstream, ours = (_openmetrics(lib) for lib in both)
    for name in ("CONTENT_TYPE_LATEST", "CONTENT_TYPE_LATEST_2_0", "ESCAPING_HEADER_TAG",
                 "ALLOWUTF8", "UNDERSCORES", "DOTS", "VALUES"):
        assert getattr(ours, name) == getattr(upstream, name), name


@pytest.mark.parametrize("function", ["escape_metric_name", "escape_label_name"])
def test_names_are_escaped_the_same(both, function):
    upstream, ours = (getattr(_openmetrics(lib), function) for lib in both)
    for name in NAMES + _random_names(2000):
        for scheme in SCHEMES:
            assert ours(name, scheme) == upstream(name, scheme), (name, scheme)
        assert ours(name) == upstream(name), name


def test_the_escaping_primitive_is_the_same(both):
    upstream, ours = (_openmetrics(lib) for lib in both)
    for name in NAMES + _random_names(500):
        for scheme in SCHEMES:
            for rune in ("_is_legacy_metric_rune", "_is_legacy_labelname_rune"):
                assert ours._escape(name, scheme, getattr(ours, rune)) == upstream._escape(
                    name, scheme, getattr(upstream, rune)
                ), (name, scheme, rune)
    # Upstream's text encoder passes False as the rune test for label values.
    assert ours._escape('a"b', ours.ALLOWUTF8, False) == upstream._escape('a"b', upstream.ALLOWUTF8, False)


def test_parse_version_is_the_same_wherever_it_is_imported_from(both):
    upstream, ours = both
    for module in ("utils", "exposition", "openmetrics.exposition"):
        ours_parse = importlib.import_module(f"pyrometer.{module}").parse_version
        upstream_parse = importlib.import_module(f"prometheus_client.{module}").parse_version
        for version in VERSIONS:
            assert ours_parse(version) == upstream_parse(version), (module, version)


@pytest.fixture
def created_metrics(both, request):
    """Sets created series on or off in both libraries for one test, then turns them back on."""
    for lib in both:
        (lib.enable_created_metrics if request.param else lib.disable_created_metrics)()
    yield request.param
    for lib in both:
        lib.enable_created_metrics()


def _every_kind(lib, exemplars):
    """A registry holding every metric kind pyrometer encodes, instrumented and custom."""
    core = importlib.import_module(f"{lib.__name__}.core")
    registry = lib.CollectorRegistry()
    counter = lib.Counter("requests", "Requests.", ["method"], registry=registry)
    counter.labels("GET").inc(3, exemplar={"trace_id": "abc"} if exemplars else None)
    counter.labels("POST").inc()
    lib.Gauge("temperature", "Temperature.", unit="celsius", registry=registry).set(21.5)
    histogram = lib.Histogram("latency_seconds", "Latency.", ["path"], buckets=[0.1, 1], registry=registry)
    histogram.labels("/").observe(0.05, exemplar={"trace_id": "x"} if exemplars else None)
    histogram.labels("/").observe(3)
    lib.Summary("size_bytes", "Size.", registry=registry).observe(10)
    lib.Info("build", "Build.", registry=registry).info({"version": "1.2"})
    lib.Enum("state", "State.", states=["a", "b"], registry=registry).state("b")
    lib.Counter("http.requests", "A UTF-8 name.", ["le.x"], registry=registry).labels("v").inc()

    class Custom:
        def collect(self):
            yield core.GaugeHistogramMetricFamily("queue", "Queue.", buckets=[("1", 2), ("+Inf", 3)], gsum_value=4)
            family = core.CounterMetricFamily("ext", "Ext.", labels=["a"], created=5.0)
            family.add_metric(["x"], 2, created=5.5, timestamp=1234.5)
            yield family
            yield core.StateSetMetricFamily("switch", "Switch.", value={"on": True, "off": False})
            yield core.UnknownMetricFamily("unk", "Unknown.", value=1)
            bucket_exemplar = core.Exemplar({"trace_id": "h"}, 0.5, 1700000000.5) if exemplars else None
            buckets = [("1.0", 1, bucket_exemplar), ("+Inf", 2)] if exemplars else [("1.0", 1), ("+Inf", 2)]
            yield core.HistogramMetricFamily("custom_hist", "Custom.", buckets=buckets, sum_value=1.5)

    registry.register(Custom())
    return registry


@pytest.mark.parametrize("created_metrics", [True, False], ids=["created", "no_created"], indirect=True)
@pytest.mark.parametrize("exemplars", [True, False], ids=["exemplars", "no_exemplars"])
@pytest.mark.parametrize("accept", OPENMETRICS_2_ACCEPTS)
def test_openmetrics_2_is_negotiated_and_written_the_same(both, created_metrics, exemplars, accept):
    answers = []
    for lib in both:
        with mock.patch("time.time", return_value=123.456):
            registry = _every_kind(lib, exemplars)
        encoder, content_type = lib.exposition.choose_encoder(accept)
        answers.append((content_type, encoder(registry)))
    assert answers[0] == answers[1]
    assert answers[1][0].startswith("application/openmetrics-text; version=")
    assert (b"requests_created" in answers[1][1].replace(b"__", b"_")) == created_metrics
    assert (b" # {trace_id=" in answers[1][1]) == exemplars


@pytest.mark.parametrize("version", ["1.0.0", "2.0.0"])
def test_generate_latest_takes_the_version_as_upstream_does(both, version):
    answers = []
    for lib in both:
        with mock.patch("time.time", return_value=123.456):
            registry = _every_kind(lib, exemplars=True)
        answers.append(_openmetrics(lib).generate_latest(registry, version=version))
    assert answers[0] == answers[1]


# --- Native histogram samples -------------------------------------------------------------------


def _native_histogram_family(lib):
    """A histogram family with classic buckets and native histogram samples, as a collector
    relaying another source might yield (upstream has no native histogram instrument)."""
    samples = importlib.import_module(f"{lib.__name__}.samples")
    family = importlib.import_module(f"{lib.__name__}.metrics_core").Metric("rpc_seconds", "RPC.", "histogram")
    family.add_sample("rpc_seconds_bucket", {"path": "/a", "le": "+Inf"}, 3)
    family.add_sample("rpc_seconds_count", {"path": "/a"}, 3)
    family.add_sample("rpc_seconds_sum", {"path": "/a"}, 2.5)
    native = samples.NativeHistogram(
        3, 2.5, 3, 0.001, 1,
        pos_spans=(samples.BucketSpan(0, 2), samples.BucketSpan(3, 1)),
        pos_deltas=(1, 0, -1),
        nh_exemplars=(samples.Exemplar({"trace_id": "n"}, 0.25, 1700000000.5),),
    )
    family.add_sample("rpc_seconds", {"path": "/a"}, None, None, None, native)
    family.add_sample("rpc_seconds_created", {"path": "/a"}, 1699999999.0)

    class Relay:
        def collect(self):
            yield family

    return Relay()


@pytest.mark.parametrize("version", ["1.0.0", "2.0.0", "2.1.0"])
def test_native_histogram_samples_are_written_as_upstream_writes_them(both, version):
    """OpenMetrics 1.0 leaves them out; 2.0 writes ``{count:..,sum:..,schema:..,...}``."""
    answers = [_openmetrics(lib).generate_latest(_native_histogram_family(lib), version=version) for lib in both]
    assert answers[0] == answers[1]
    assert (b"rpc_seconds{path=\"/a\"} {count:3,sum:2.5,schema:3" in answers[1]) == (version != "1.0.0")


@pytest.mark.parametrize(
    "native",
    [
        # Python ints and floats print as str() prints them; negative spans come first.
        dict(count_value=24, sum_value=100, schema=0, zero_threshold=0.001, zero_count=4),
        dict(count_value=24.0, sum_value=-1.5e-07, schema=-4, zero_threshold=0, zero_count=4.0,
             neg_spans=[(-2, 2), (1, 1)], neg_deltas=[2, 1, -3], pos_spans=[(0, 1)], pos_deltas=[5]),
        dict(count_value=1, sum_value=float("inf"), schema=8, zero_threshold=2.938735877055719e-39, zero_count=0,
             pos_spans=[], pos_deltas=[]),
    ],
)
def test_native_histogram_numbers_print_as_upstream_prints_them(both, native):
    answers = []
    for lib in both:
        samples = importlib.import_module(f"{lib.__name__}.samples")
        family = importlib.import_module(f"{lib.__name__}.metrics_core").Metric("h", "H.", "histogram")
        spans = {k: [samples.BucketSpan(*s) for s in v] for k, v in native.items() if k.endswith("_spans")}
        family.add_sample("h", {}, None, None, None, samples.NativeHistogram(**{**native, **spans}))
        answers.append(_openmetrics(lib).generate_latest(_Families([family]), version="2.0.0"))
    assert answers[0] == answers[1]


class _Families:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def test_native_histogram_samples_parse_as_upstream_parses_them(both):
    """What upstream writes (without exemplars, which its parser drops and ours keeps: see
    docs/compat.md) reads back the same from both parsers."""
    upstream = both[0]
    family = _native_histogram_family(upstream)
    for metric in family.collect():
        for i, sample in enumerate(metric.samples):
            if sample.native_histogram is not None:
                metric.samples[i] = sample._replace(native_histogram=sample.native_histogram._replace(nh_exemplars=None))
    text = _openmetrics(upstream).generate_latest(family, version="2.0.0").decode()
    native_line = [line for line in text.splitlines() if " {count:" in line][0]
    unlabelled = "# TYPE rpc_seconds histogram\n" + native_line.replace('{path="/a"} ', " ") + "\n# EOF\n"
    for case in (text, unlabelled):
        parsed = [list(importlib.import_module(f"{lib.__name__}.openmetrics.parser").text_string_to_metric_families(case))
                  for lib in both]
        # Each library's Metric equals only its own class; their parts compare as tuples.
        parts = [[(m.name, m.documentation, m.type, m.unit, [tuple(s) for s in m.samples]) for m in p] for p in parsed]
        assert parts[0] == parts[1]
        native = [s for s in parsed[1][0].samples if s.native_histogram is not None][0]
        assert native.value is None and (native.labels is None) == (case is unlabelled)


def test_native_histogram_exemplars_are_kept_by_our_parser():
    from pyrometer.openmetrics.parser import text_string_to_metric_families

    text = pyrometer.openmetrics.exposition.generate_latest(_native_histogram_family(pyrometer), version="2.0.0")
    (family,) = text_string_to_metric_families(text.decode())
    (native,) = [s.native_histogram for s in family.samples if s.native_histogram is not None]
    assert [(e.labels, e.value) for e in native.nh_exemplars] == [({"trace_id": "n"}, 0.25)]
    assert native.pos_deltas == (1, 0, -1)


@pytest.mark.parametrize("written", ["-1.5", "-12.000000001", "-2", "1.25", "-1250.5e-3"])
def test_negative_timestamps_parse_as_upstream_parses_them(both, written):
    """Before the epoch, ``sec.frac`` reads as upstream's ``Timestamp(-1, -500000000)``."""
    text = f"# TYPE a gauge\na 1 {written}\n# EOF\n"
    stamps = []
    for lib in both:
        (family,) = importlib.import_module(f"{lib.__name__}.openmetrics.parser").text_string_to_metric_families(text)
        stamp = family.samples[0].timestamp
        stamps.append((stamp.sec, stamp.nsec) if hasattr(stamp, "sec") else stamp)
    assert stamps[0] == stamps[1]


def test_a_negative_fraction_of_a_second_keeps_its_sign(both):
    """Upstream reads ``-0.5`` as ``Timestamp(0, 500000000)``, half a second after the epoch
    (docs/compat.md); ours keeps it before."""
    (family,) = pyrometer.openmetrics.parser.text_string_to_metric_families("a 1 -0.5\n# EOF\n")
    assert family.samples[0].timestamp == -0.5


def test_integers_beyond_the_float_range_of_exactness_read_as_floats(both):
    """docs/compat.md: values live as f64, so ``12345678901234567890`` reads as the nearest float
    where upstream keeps the int; both agree up to 2**53."""
    text = "# TYPE c counter\nc_total 12345678901234567890\nd 9007199254740992\n# EOF\n"
    values = [
        [s.value for f in importlib.import_module(f"{lib.__name__}.openmetrics.parser").text_string_to_metric_families(text)
         for s in f.samples]
        for lib in both
    ]
    assert values[0] == [12345678901234567890, 9007199254740992]
    assert values[1] == [float(12345678901234567890), 9007199254740992.0]
    assert values[0][1] == values[1][1] and values[0][0] != values[1][0]
