"""Counter and Gauge behave as prometheus_client's do: same exposition bytes, values and errors."""

import importlib

import pytest


def _om(lib):
    return importlib.import_module(f"{lib.__name__}.openmetrics.exposition")


def _scenario(lib):
    registry = lib.CollectorRegistry()
    c = lib.Counter("http_requests_total", "Requests.", ["method", "code"], registry=registry)
    c.labels("GET", "200").inc()
    c.labels(method="POST", code="500").inc(2.5)
    c.labels("GET", "200").inc(3)
    g = lib.Gauge("temperature", 'Help "quoted" \\ and\nnewline.', ["room"], namespace="home", unit="celsius",
                  registry=registry)
    g.labels('ki"tchen\n').set(21.5)
    g.labels("hall").inc(2)
    g.labels("hall").dec(0.5)
    plain = lib.Gauge("plain", "No labels.", registry=registry)
    plain.set(float("nan"))
    return registry


def _without_created(text: bytes) -> bytes:
    # `_created` samples carry the creation time, which differs between two runs.
    return b"\n".join(line for line in text.split(b"\n") if b"_created" not in line)


def test_text_and_openmetrics_exposition_is_byte_identical(both):
    upstream, ours = both
    want, got = _scenario(upstream), _scenario(ours)
    assert _without_created(ours.generate_latest(got)) == _without_created(upstream.generate_latest(want))
    assert _without_created(_om(ours).generate_latest(got)) == _without_created(_om(upstream).generate_latest(want))


def test_sample_values_read_back(lib):
    registry = _scenario(lib)
    assert registry.get_sample_value("http_requests_total", {"method": "GET", "code": "200"}) == 4.0
    assert registry.get_sample_value("home_temperature_celsius", {"room": "hall"}) == 1.5
    assert registry.get_sample_value("nope") is None


def test_value_of_a_child_is_readable_through_value_get(lib):
    registry = lib.CollectorRegistry()
    c = lib.Counter("c", "C.", ["a"], registry=registry)
    c.labels("x").inc(5)
    assert c.labels("x")._value.get() == 5.0
    assert c._name == "c" and c._documentation == "C." and c._type == "counter"
    assert tuple(c._labelnames) == ("a",)


@pytest.mark.parametrize(
    "mistake",
    [
        lambda lib, r: lib.Counter("c", "C.", ["a"], registry=r).labels("x", "y"),
        lambda lib, r: lib.Counter("c", "C.", ["a"], registry=r).labels(b="x"),
        lambda lib, r: lib.Counter("c", "C.", ["a"], registry=r).labels("x", a="y"),
        lambda lib, r: lib.Counter("c", "C.", registry=r).inc(-1),
        lambda lib, r: lib.Counter("c", "C.", ["a"], registry=r).inc(),
        lambda lib, r: lib.Counter("", "C.", registry=r),
        lambda lib, r: lib.Gauge("g", "G.", ["__reserved"], registry=r),
        lambda lib, r: lib.Counter("c", "C.", ["a"], registry=r).remove("x", "y"),
    ],
    ids=["label-count", "label-names", "args-and-kwargs", "negative-inc", "missing-labels", "empty-name",
         "reserved-label", "remove-count"],
)
def test_mistakes_raise_the_same_exception(raises_alike, mistake):
    raises_alike(mistake)


def test_duplicate_registration_raises_duplicate_timeseries(both):
    for lib in both:
        registry = lib.CollectorRegistry()
        lib.Counter("dup", "D.", registry=registry)
        with pytest.raises(ValueError, match="Duplicated timeseries in CollectorRegistry") as info:
            lib.Gauge("dup_total", "D.", registry=registry)
        assert type(info.value).__name__ == "DuplicateTimeseries"


def test_remove_and_clear_drop_series(lib):
    registry = lib.CollectorRegistry()
    c = lib.Counter("c", "C.", ["a"], registry=registry)
    c.labels("x").inc()
    c.labels("y").inc()
    c.remove("x")
    assert registry.get_sample_value("c_total", {"a": "x"}) is None
    assert registry.get_sample_value("c_total", {"a": "y"}) == 1.0
    c.clear()
    assert registry.get_sample_value("c_total", {"a": "y"}) is None


def test_metrics_join_the_default_registry(lib):
    c = lib.Counter(f"default_registry_probe_{lib.__name__}", "Probe.")
    c.inc()
    assert lib.REGISTRY.get_sample_value(f"default_registry_probe_{lib.__name__}_total") == 1.0


def test_random_values_are_spelled_alike(both):
    """Floats of every magnitude, creation-time-like ones included, print as upstream prints them."""
    import random
    import struct

    rng = random.Random(20261201)
    values = [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(2000)]
    values += [rng.uniform(1.6e9, 1.9e9) for _ in range(2000)]
    values += [rng.uniform(-1e7, 1e7) * 10 ** rng.randint(-12, 12) for _ in range(2000)]
    outputs = []
    for lib in both:
        registry = lib.CollectorRegistry()
        g = lib.Gauge("g", "G.", ["i"], registry=registry)
        for i, value in enumerate(values):
            g.labels(str(i)).set(value)
        outputs.append(lib.generate_latest(registry))
    assert outputs[1] == outputs[0]


def test_an_unknown_multiprocess_mode_is_refused_alike(raises_alike):
    raises_alike(lambda lib, r: lib.Gauge("g", "G.", multiprocess_mode="newest", registry=r))


def test_native_metric_instances_take_no_new_attributes_and_name_their_module(both):
    """docs/compat.md: the metric classes are native; a subclass takes attributes as usual."""
    upstream, ours = both
    for lib in both:
        counter = lib.Counter("c", "C.", registry=lib.CollectorRegistry())
        assert repr(counter) == f"{lib.__name__}.metrics.Counter(c)"
        if lib is upstream:
            counter.note = "kept"
        else:
            with pytest.raises(AttributeError):
                counter.note = "refused"

    class Noted(ours.Counter):
        pass

    noted = Noted("n", "N.", registry=ours.CollectorRegistry())
    noted.note = "kept"
    assert noted.note == "kept"
