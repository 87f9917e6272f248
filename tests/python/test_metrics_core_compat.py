"""metrics_core, samples, validation and utils behave as prometheus_client's do.

Each scenario runs against both libraries; results are compared by repr and, field by field,
as plain data (the two libraries' NamedTuples and Timestamps are different classes).
"""

import ast
import importlib
import math
import pathlib

import pytest

NAN = float("nan")
INF = float("inf")


def _module(lib, name):
    return importlib.import_module(f"{lib.__name__}.{name}")


def _sibling(module, name):
    return importlib.import_module(f"{module.__name__.rpartition('.')[0]}.{name}")


def _pair(both, name):
    return tuple(_module(lib, name) for lib in both)


def _plain(value):
    """Turn samples, exemplars, timestamps and metrics into plain nested data, class names kept."""
    if hasattr(value, "_fields"):
        return (type(value).__name__, tuple(_plain(getattr(value, f)) for f in value._fields))
    if type(value).__name__ == "Timestamp":
        return ("Timestamp", value.sec, value.nsec)
    if hasattr(value, "samples") and hasattr(value, "documentation"):
        return (type(value).__name__, value.name, value.documentation, value.type, value.unit,
                getattr(value, "_labelnames", None), _plain(value.samples))
    if isinstance(value, dict):
        return ("dict", tuple((k, _plain(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_plain(v) for v in value))
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def _outcome(action):
    """What `action()` gives: its plain result, or the exception's class name and text."""
    try:
        result = action()
    except Exception as e:  # noqa: BLE001 - any exception is part of the behaviour compared
        return ("raised", type(e).__name__, str(e))
    return ("returned", _plain(result), repr(result))


def _assert_alike(both, module, action):
    upstream, ours = _pair(both, module)
    assert _outcome(lambda: action(ours)) == _outcome(lambda: action(upstream))


@pytest.fixture(params=[False, True], ids=["utf8-names", "legacy-names"])
def legacy(request, both):
    """Runs the test once with UTF-8 name validation and once with legacy validation, in both libraries."""
    modules = _pair(both, "validation")
    before = [m.get_legacy_validation() for m in modules]
    for m in modules:
        (m.enable_legacy_validation if request.param else m.disable_legacy_validation)()
    yield request.param
    for m, was in zip(modules, before):
        (m.enable_legacy_validation if was else m.disable_legacy_validation)()


# Each scenario builds a list of metric families from a metrics_core module.

def _counters(mc):
    ts = mc.Timestamp(1700000000, 123456789)
    with_value = mc.CounterMetricFamily("requests_total", "Requests.", value=7, created=1600000000.5,
                                        exemplar=mc.Exemplar({"trace_id": "abc"}, 0.5, 1700000000.25))
    labelled = mc.CounterMetricFamily("errors", "Errors.", labels=["code", "path"], unit="count")
    labelled.add_metric(["500", "/a"], 3.0, created=12.0, timestamp=ts,
                        exemplar=mc.Exemplar({"span": "s"}, 1, ts))
    labelled.add_metric(("404",), 1, timestamp=5.5)
    labelled.add_metric(["200", "/b", "extra"], 0)
    suffixed = [
        mc.CounterMetricFamily("x_total", "X.", unit="bytes"),
        mc.CounterMetricFamily("x_bytes_total", "X.", value=1, unit="bytes"),
        mc.CounterMetricFamily("x_total_total", "Twice.", value=2),
    ]
    return [with_value, labelled, *suffixed]


def _gauges_and_unknowns(mc):
    g = mc.GaugeMetricFamily("temperature", "Temp.", value=21.5, unit="celsius")
    gl = mc.GaugeMetricFamily("queue", "Q.", labels=["name"])
    gl.add_metric(["a"], -1.5, timestamp=mc.Timestamp(-1.5, 5))
    gl.add_metric(["b"], NAN)
    gl.add_metric(["c"], INF, 3)
    u = mc.UnknownMetricFamily("mystery", "M.", value=3, unit="things")
    ul = mc.UntypedMetricFamily("legacy", "L.", labels=("k",))
    ul.add_metric(["v"], 1.25, mc.Timestamp(10, 0))
    return [g, gl, u, ul, mc.GaugeMetricFamily("already_seconds", "S.", 0, unit="seconds")]


def _summaries(mc):
    s = mc.SummaryMetricFamily("latency", "L.", count_value=4, sum_value=1.5, unit="seconds")
    sl = mc.SummaryMetricFamily("size", "S.", labels=["route"])
    sl.add_metric(["/"], 10, 99.5, timestamp=mc.Timestamp(1, 500))
    sl.add_metric(["/x"], 0, 0.0, 2.5)
    return [s, sl, mc.SummaryMetricFamily("empty", "E.")]


def _histograms(mc):
    ex = mc.Exemplar({"trace_id": "t1"}, 0.07, mc.Timestamp(1700000000, 1))
    h = mc.HistogramMetricFamily("req_seconds", "R.", buckets=[("0.1", 1), ("1.0", 3, ex), ("+Inf", 4)],
                                 sum_value=2.5, unit="seconds")
    no_sum = mc.HistogramMetricFamily("no_sum", "N.", buckets=[("1", 1), ("+Inf", 2)])
    negative = mc.HistogramMetricFamily("negative", "N.", buckets=[("-1", 1), ("0", 2), ("+Inf", 3)],
                                        sum_value=-4.0)
    hl = mc.HistogramMetricFamily("sizes", "S.", labels=["le", "route"])
    hl.add_metric(["5", "/"], [["1", 2], ["+Inf", 5, mc.Exemplar({}, 3.0)]], 7.0, timestamp=12.5)
    hl.add_metric(["0", "/z"], [("+Inf", 0, ex, "ignored")], None)
    gh = mc.GaugeHistogramMetricFamily("inflight", "I.", buckets=[("1", 2), ("+Inf", 3)], gsum_value=4.0)
    ghn = mc.GaugeHistogramMetricFamily("no_gsum", "N.", buckets=[("+Inf", 1)], unit="bytes")
    ghl = mc.GaugeHistogramMetricFamily("queue_age", "Q.", labels=["q"])
    ghl.add_metric(["a"], [("0.5", 1), ("+Inf", 2)], 0.75, timestamp=mc.Timestamp(3, 4))
    return [h, no_sum, negative, hl, gh, ghn, ghl]


def _infos_and_statesets(mc):
    i = mc.InfoMetricFamily("build", "B.", value={"version": "1.0", "commit": "abc"})
    il = mc.InfoMetricFamily("component", "C.", labels=["name", "version"])
    il.add_metric(["db", "1"], {"driver": "pg", "version": "2"}, timestamp=mc.Timestamp(7, 8))
    il.add_metric(["cache"], {}, 1.5)
    s = mc.StateSetMetricFamily("state", "S.", value={"running": True, "b": False, "a": 1})
    sl = mc.StateSetMetricFamily("mode", "M.", labels=["host", "zone"])
    sl.add_metric(["h1", "z1"], {"on": True, "off": False}, timestamp=9.0)
    sl.add_metric(["h2"], {"on": False})  # too few label values: the state lands under "zone"
    return [i, il, s, sl]


def _plain_metrics(mc):
    m = mc.Metric("raw", "Raw.", "untyped", unit="u")
    m.add_sample("raw_u", {"a": "b"}, 1.0)
    m.add_sample("raw_u", {}, 2, timestamp=mc.Timestamp(5, 6), exemplar=mc.Exemplar({"x": "y"}, 1.0))
    span = _sibling(mc, "samples").BucketSpan
    nh = mc.NativeHistogram(24, 100, 0, 0.001, 4, (span(0, 2), span(1, 2)), None,
                            (2, 1, -3, 0), None, (mc.Exemplar({"t": "1"}, 0.5, 12.0),))
    m.add_sample("raw_u", {"k": "v"}, 0, None, None, nh)
    others = [mc.Metric(name, "Doc.", typ) for name, typ in [
        ("c", "counter"), ("g", "gauge"), ("s", "summary"), ("h", "histogram"), ("gh", "gaugehistogram"),
        ("u", "unknown"), ("i", "info"), ("ss", "stateset"), ("g_seconds", "gauge"), ("a:b", "gauge"),
    ]]
    return [m, *others, m._restricted_metric({"raw_u"}), m._restricted_metric(["nope"]),
            m._restricted_metric("raw_u")]


@pytest.mark.parametrize(
    "scenario",
    [_counters, _gauges_and_unknowns, _summaries, _histograms, _infos_and_statesets, _plain_metrics],
    ids=["counter", "gauge-unknown", "summary", "histogram", "info-stateset", "metric"],
)
def test_families_build_the_same_samples_and_repr(both, scenario):
    upstream, ours = _pair(both, "metrics_core")
    want, got = scenario(upstream), scenario(ours)
    assert [repr(m) for m in got] == [repr(m) for m in want]
    assert [_plain(m) for m in got] == [_plain(m) for m in want]
    assert [repr(m.samples) for m in got if m is not None] == [repr(m.samples) for m in want if m is not None]


@pytest.mark.parametrize(
    "scenario",
    [_counters, _gauges_and_unknowns, _summaries, _histograms, _infos_and_statesets, _plain_metrics],
)
def test_families_compare_equal_the_same_way(both, scenario):
    def table(mc):
        first, second = scenario(mc), scenario(mc)
        return [[a == b for b in second] for a in first] + [[a != b for b in second] for a in first]

    upstream, ours = _pair(both, "metrics_core")
    assert table(ours) == table(upstream)


def test_metric_equality_looks_at_every_field_and_not_at_the_class(both):
    def checks(mc):
        base = mc.Metric("m", "D.", "gauge")
        return [
            base == mc.Metric("m", "D.", "gauge"),
            base == mc.GaugeMetricFamily("m", "D."),
            base == mc.Metric("m", "Other.", "gauge"),
            base == mc.Metric("m", "D.", "counter"),
            base == mc.Metric("m", "D.", "gauge", unit="m"),
            base == "m",
            base != None,  # noqa: E711 - the comparison itself is under test
            mc.GaugeMetricFamily("m", "D.", 1) == mc.GaugeMetricFamily("m", "D.", 1.0),
            mc.GaugeMetricFamily("m", "D.", NAN) == mc.GaugeMetricFamily("m", "D.", NAN),
        ]

    upstream, ours = _pair(both, "metrics_core")
    assert checks(ours) == checks(upstream)


def test_family_metadata_and_label_names_match(both):
    def meta(mc):
        families = [
            mc.CounterMetricFamily("c_total", "C.", labels=["a"]),
            mc.GaugeMetricFamily("g", "G.", labels="ab"),
            mc.UnknownMetricFamily("u", "U."),
            mc.SummaryMetricFamily("s", "S.", labels=[]),
            mc.HistogramMetricFamily("h", "H.", labels=("x", "y")),
            mc.GaugeHistogramMetricFamily("gh", "GH.", labels=["z"]),
            mc.InfoMetricFamily("i", "I.", labels=["k"]),
            mc.StateSetMetricFamily("ss", "SS.", labels=["s"]),
        ]
        return [(type(f).__name__, [c.__name__ for c in type(f).__mro__], f.name, f.type, f.unit, f._labelnames,
                 f.samples) for f in families]

    upstream, ours = _pair(both, "metrics_core")
    assert _plain(meta(ours)) == _plain(meta(upstream))
    assert ours.METRIC_TYPES == upstream.METRIC_TYPES
    assert ours.UntypedMetricFamily is ours.UnknownMetricFamily


@pytest.mark.parametrize(
    "mistake",
    [
        lambda mc: mc.Metric("m", "D.", "bogus"),
        lambda mc: mc.Metric("m", "D.", 5),
        lambda mc: mc.Metric("", "D.", "gauge"),
        lambda mc: mc.Metric("m", "D.", "gauge", unit=5),
        lambda mc: mc.Metric("a\udc80b", "D.", "gauge"),
        lambda mc: mc.CounterMetricFamily(None, "D."),
        lambda mc: mc.CounterMetricFamily("_total", "D."),
        lambda mc: mc.CounterMetricFamily("c", "D.", value=1, labels=["a"]),
        lambda mc: mc.GaugeMetricFamily("g", "D.", value=1, labels=[]),
        lambda mc: mc.UnknownMetricFamily("u", "D.", value=0, labels=["a"]),
        lambda mc: mc.SummaryMetricFamily("s", "D.", count_value=1),
        lambda mc: mc.SummaryMetricFamily("s", "D.", sum_value=1.0, labels=["a"]),
        lambda mc: mc.SummaryMetricFamily("s", "D.", count_value=1, sum_value=1.0, labels=["a"]),
        lambda mc: mc.HistogramMetricFamily("h", "D.", sum_value=1.0),
        lambda mc: mc.HistogramMetricFamily("h", "D.", buckets=[("+Inf", 1)], labels=["a"]),
        lambda mc: mc.HistogramMetricFamily("h", "D.", buckets=[]),
        lambda mc: mc.HistogramMetricFamily("h", "D.", buckets=[("+Inf",)]),
        lambda mc: mc.HistogramMetricFamily("h", "D.", buckets=[("x", 1)], sum_value=1.0),
        lambda mc: mc.GaugeHistogramMetricFamily("gh", "D.", buckets=[("+Inf", 1)], labels=["a"]),
        lambda mc: mc.GaugeHistogramMetricFamily("gh", "D.", buckets=[]),
        lambda mc: mc.GaugeHistogramMetricFamily("gh", "D.", buckets=[("+Inf", 1, None)]),
        lambda mc: mc.InfoMetricFamily("i", "D.", value={"a": "b"}, labels=["a"]),
        lambda mc: mc.InfoMetricFamily("i", "D.", value={1: "b"}),
        lambda mc: mc.InfoMetricFamily("i", "D.", value=[("a", "b")]),
        lambda mc: mc.InfoMetricFamily("i", "D.", unit="bytes"),
        lambda mc: mc.StateSetMetricFamily("s", "D.", value={"a": True}, labels=["a"]),
        lambda mc: mc.StateSetMetricFamily("s", "D.", value={"a": True, 1: False}),
        lambda mc: mc.StateSetMetricFamily("s", "D.", labels=["a"]).add_metric(None, {}),
        lambda mc: mc.Timestamp(1, -1),
        lambda mc: mc.Timestamp(1, 1e9),
        lambda mc: mc.Timestamp(1, NAN),
        lambda mc: mc.Timestamp(NAN, 0),
        lambda mc: mc.Timestamp(1, 2) <= mc.Timestamp(1, 3),
        lambda mc: hash(mc.Timestamp(1, 2)),
        lambda mc: hash(mc.Metric("m", "D.", "gauge")),
        lambda mc: mc.Sample("s", {}),
        lambda mc: mc.Exemplar({}, 1.0, None, "extra"),
    ],
    ids=["bad-type", "non-string-type", "empty-name", "non-string-unit", "surrogate-name", "none-name",
         "only-total", "counter-value-and-labels", "gauge-value-and-labels", "unknown-value-and-labels",
         "summary-count-alone", "summary-sum-alone", "summary-value-and-labels", "histogram-sum-alone",
         "histogram-buckets-and-labels", "histogram-no-buckets", "histogram-short-bucket",
         "histogram-bad-bound", "gaugehistogram-buckets-and-labels", "gaugehistogram-no-buckets",
         "gaugehistogram-exemplar-bucket", "info-value-and-labels", "info-non-string-key", "info-not-a-dict",
         "info-unit", "stateset-value-and-labels", "stateset-mixed-keys", "stateset-none-labels",
         "nsec-negative", "nsec-too-big", "nsec-nan", "sec-nan", "timestamp-le", "timestamp-hash",
         "metric-hash", "sample-missing-value", "exemplar-too-many-fields"],
)
def test_mistakes_raise_the_same_exception(raises_alike, mistake):
    raises_alike(lambda lib, _registry: mistake(_module(lib, "metrics_core")))


@pytest.mark.parametrize(
    "name",
    ["ok_name", "a:b", "0abc", "with space", "tür", "a.b", "_x_seconds", "a\udc80"],
)
def test_metric_names_are_checked_alike_in_both_validation_modes(both, legacy, name):
    _assert_alike(both, "metrics_core", lambda mc: mc.GaugeMetricFamily(name, "D.", 1))
    _assert_alike(both, "metrics_core", lambda mc: mc.CounterMetricFamily("c", "D.", 1, unit=name))
    _assert_alike(both, "validation", lambda v: v._validate_metric_name(name))


def test_timestamps_format_convert_and_order_alike(both):
    def facts(mc):
        stamps = [mc.Timestamp(0, 0), mc.Timestamp(1, 5), mc.Timestamp(1.9, 999999999.9), mc.Timestamp(-1.5, 5),
                  mc.Timestamp(1700000000, 123), mc.Timestamp(True, 0), mc.Timestamp(-0.5, 0)]
        rows = [(str(t), repr(t), float(t), t.sec, t.nsec) for t in stamps]
        for a in stamps:
            rows.append(tuple((a == b, a != b, a < b, a > b) for b in stamps))
            rows.append((a == (a.sec, a.nsec), a != 1.0))
        return rows

    upstream, ours = _pair(both, "samples")
    assert facts(ours) == facts(upstream)


def test_named_tuples_have_the_same_fields_defaults_and_repr(both):
    upstream, ours = _pair(both, "samples")
    for cls in ["BucketSpan", "Exemplar", "NativeHistogram", "Sample"]:
        mine, theirs = getattr(ours, cls), getattr(upstream, cls)
        assert mine._fields == theirs._fields
        assert mine._field_defaults == theirs._field_defaults
        assert mine.__name__ == theirs.__name__
    for mod in (ours, upstream):
        assert mod.Sample("s", {"a": "b"}, 1.0)._asdict()["native_histogram"] is None
    assert repr(ours.Sample("s", {}, 1, ours.Timestamp(2, 3), ours.Exemplar({"a": "b"}, 0.5))) == \
        repr(upstream.Sample("s", {}, 1, upstream.Timestamp(2, 3), upstream.Exemplar({"a": "b"}, 0.5)))
    assert repr(ours.NativeHistogram(1, 2, 3, 4, 5)) == repr(upstream.NativeHistogram(1, 2, 3, 4, 5))
    # Field values are plain tuples, so samples of the two libraries compare equal as tuples.
    assert ours.Sample("s", {}, 1.0) == upstream.Sample("s", {}, 1.0)


def test_samples_are_reachable_through_metrics_core(both):
    for mc, samples in zip(_pair(both, "metrics_core"), _pair(both, "samples")):
        for name in ["Exemplar", "NativeHistogram", "Sample", "Timestamp"]:
            assert getattr(mc, name) is getattr(samples, name)


FLOATS = [
    0, 1, -1, 10, 100, 1000000, 10000000, 123456789, 1234567.0, 123456789.0, 0.0, -0.0, 0.1, 0.25, 0.5, 1.5,
    2.5, 5.0, 7.5, 10.0, 1e-5, 1e-7, 0.000123, 1e15, 1e16, 1e17, 1e21, 1.5e21, 1e22, 1e100, 1e308, 5e-324,
    1.7976931348623157e308, 999999.0, 9999999.0, 12345678.9, 100000000.5, 2 ** 53, 2 ** 53 + 1.0, -1234567.0,
    -1e21, -0.1, 3.141592653589793, 1 / 3, INF, -INF, NAN, True, False, "1.5", "  2 ", "inf", "-Infinity", "nan",
    "1e3", b"4.5",
]


@pytest.mark.parametrize("value", FLOATS, ids=[repr(v) for v in FLOATS])
def test_float_to_go_string_formats_alike(both, value):
    _assert_alike(both, "utils", lambda u: u.floatToGoString(value))


@pytest.mark.parametrize("value", ["abc", None, [1.0], ""], ids=["text", "none", "list", "empty"])
def test_float_to_go_string_rejects_alike(both, value):
    _assert_alike(both, "utils", lambda u: u.floatToGoString(value))


def test_utils_constants_and_parse_version_match(both):
    upstream, ours = _pair(both, "utils")
    assert (ours.INF, ours.MINUS_INF) == (upstream.INF, upstream.MINUS_INF)
    assert math.isnan(ours.NaN)
    for version in ["0.26.0", "1.2.3rc1", "1", "", "a.b", "1..2", "10.-3"]:
        assert ours.parse_version(version) == upstream.parse_version(version)


LABEL_NAMES = ["ok", "_x", "__reserved", "0bad", "a-b", "tür", "", "a\udc80", "le", "quantile", 5]


@pytest.mark.parametrize("name", LABEL_NAMES, ids=[repr(n) for n in LABEL_NAMES])
def test_label_name_checks_agree_in_both_validation_modes(both, legacy, name):
    class Reserved:
        _reserved_labelnames = ("le",)

    _assert_alike(both, "validation", lambda v: v._validate_labelname(name))
    _assert_alike(both, "validation", lambda v: v._validate_labelnames(Reserved, ["a", name]))
    _assert_alike(both, "validation", lambda v: v._is_valid_legacy_labelname(name))
    _assert_alike(both, "validation", lambda v: v._validate_metric_label_name_token(name))
    _assert_alike(both, "validation", lambda v: v._validate_metric_label_name_token(f'"{name}"'))
    _assert_alike(both, "validation", lambda v: v._is_valid_legacy_metric_name(name))
    _assert_alike(both, "validation", lambda v: v.get_legacy_validation())


@pytest.mark.parametrize(
    "exemplar",
    [{}, {"trace_id": "a" * 100}, {"trace_id": "a" * 120}, {"k": "v" * 127}, {"k": "v" * 128}, {"__r": "x"},
     {"0bad": "x"}, {"k": 5}, {"a": "1", "b": "2"}],
    ids=["empty", "short", "too-long", "at-limit", "over-limit", "reserved", "bad-name", "non-string", "two"],
)
def test_exemplar_checks_agree(both, legacy, exemplar):
    _assert_alike(both, "validation", lambda v: v._validate_exemplar(exemplar))


def test_validation_patterns_and_switches_match(both):
    upstream, ours = _pair(both, "validation")
    for pattern in ["METRIC_NAME_RE", "METRIC_LABEL_NAME_RE", "RESERVED_METRIC_LABEL_NAME_RE"]:
        assert getattr(ours, pattern).pattern == getattr(upstream, pattern).pattern
    before = ours.get_legacy_validation()
    try:
        ours.enable_legacy_validation()
        assert ours.get_legacy_validation() is True
        ours.disable_legacy_validation()
        assert ours.get_legacy_validation() is False
    finally:
        (ours.enable_legacy_validation if before else ours.disable_legacy_validation)()


@pytest.mark.parametrize("setting", [None, "true", "True", "1", "t", "T", "yes", "0", "false", ""])
def test_starting_validation_mode_is_read_from_the_environment_alike(both, monkeypatch, setting):
    if setting is None:
        monkeypatch.delenv("PROMETHEUS_LEGACY_NAME_VALIDATION", raising=False)
    else:
        monkeypatch.setenv("PROMETHEUS_LEGACY_NAME_VALIDATION", setting)
    _assert_alike(both, "validation", lambda v: v._init_legacy_validation())


def test_pure_python_modules_import_nothing_native():
    package = pathlib.Path(__file__).parents[2] / "python" / "pyrometer"
    for name in ["samples", "validation", "metrics_core", "utils"]:
        tree = ast.parse((package / f"{name}.py").read_text())
        imported = [f"{node.module}.{alias.name}" if isinstance(node, ast.ImportFrom) else alias.name
                    for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                    for alias in node.names]
        assert not [m for m in imported if "_native" in m], name
