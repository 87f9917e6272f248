"""Histogram, Summary and the timing helpers behave as prometheus_client's do."""

import asyncio
import importlib

import pytest


def _without_created(text: bytes) -> bytes:
    return b"\n".join(line for line in text.split(b"\n") if b"_created" not in line)


def _scenario(lib):
    registry = lib.CollectorRegistry()
    h = lib.Histogram("latency_seconds", "Latency.", ["route"], registry=registry)
    for v in (0.001, 0.02, 0.3, 4.0, 11.0, float("nan")):
        h.labels("/").observe(v)
    h.labels(route="/empty")
    custom = lib.Histogram("sizes", "Sizes.", buckets=(1, "1000", 1e6, "+Inf"), unit="bytes", registry=registry)
    for v in (0.5, 999, 2e6):
        custom.observe(v)
    negative = lib.Histogram("deltas", "Negative first bucket.", buckets=(-1, 0, 1), registry=registry)
    negative.observe(-0.5)
    s = lib.Summary("request_size", "Sizes.", ["kind"], registry=registry)
    s.labels("a").observe(10)
    s.labels("a").observe(2.5)
    return registry


def test_histogram_and_summary_exposition_is_byte_identical(both):
    upstream, ours = both
    want, got = _scenario(upstream), _scenario(ours)
    om_up = importlib.import_module("prometheus_client.openmetrics.exposition")
    om_ours = importlib.import_module("pyrometer.openmetrics.exposition")
    assert _without_created(ours.generate_latest(got)) == _without_created(upstream.generate_latest(want))
    assert _without_created(om_ours.generate_latest(got)) == _without_created(om_up.generate_latest(want))


def test_timers_observe_once_per_block_and_call(lib):
    registry = lib.CollectorRegistry()
    h = lib.Histogram("h", "H.", registry=registry)
    s = lib.Summary("s", "S.", registry=registry)
    with h.time():
        pass

    @s.time()
    def work():
        return 42

    assert work() == 42 and work.__name__ == "work"
    assert registry.get_sample_value("h_count") == 1.0
    assert registry.get_sample_value("s_count") == 1.0


def test_async_functions_are_timed_when_awaited():
    ours = importlib.import_module("pyrometer")
    registry = ours.CollectorRegistry()
    h = ours.Histogram("h", "H.", registry=registry)

    @h.time()
    async def slow():
        await asyncio.sleep(0.02)
        return "done"

    assert asyncio.run(slow()) == "done"
    assert registry.get_sample_value("h_count") == 1.0
    assert registry.get_sample_value("h_sum") >= 0.015


def test_count_exceptions_and_track_inprogress(lib):
    registry = lib.CollectorRegistry()
    errors = lib.Counter("errors", "E.", registry=registry)
    busy = lib.Gauge("busy", "B.", registry=registry)
    with pytest.raises(KeyError):
        with errors.count_exceptions(KeyError):
            raise KeyError("x")
    with errors.count_exceptions(KeyError):
        pass

    @busy.track_inprogress()
    def inside():
        return registry.get_sample_value("busy")

    assert inside() == 1.0
    assert registry.get_sample_value("busy") == 0.0
    assert registry.get_sample_value("errors_total") == 1.0


@pytest.mark.parametrize(
    "mistake",
    [
        lambda lib, r: lib.Histogram("h", "H.", buckets=(2, 1), registry=r),
        lambda lib, r: lib.Histogram("h", "H.", buckets=("+Inf",), registry=r),
        lambda lib, r: lib.Histogram("h", "H.", ["le"], registry=r),
        lambda lib, r: lib.Summary("s", "S.", ["quantile"], registry=r),
        lambda lib, r: lib.Histogram("h", "H.", ["a"], registry=r).observe(1),
    ],
    ids=["unsorted", "too-few", "reserved-le", "reserved-quantile", "missing-labels"],
)
def test_mistakes_raise_the_same_exception(raises_alike, mistake):
    raises_alike(mistake)


def test_decimal_amounts_are_added_where_upstream_raises(both):
    """docs/compat.md: a `Decimal` amount is read as `float()` reads it; upstream adds it to a
    float and raises `TypeError` (its `Gauge.set` converts it, as ours does)."""
    from decimal import Decimal

    upstream, ours = both
    for lib in both:
        registry = lib.CollectorRegistry()
        counter = lib.Counter("c", "C.", registry=registry)
        histogram = lib.Histogram("h", "H.", registry=registry)
        if lib is upstream:
            with pytest.raises(TypeError):
                counter.inc(Decimal("1.5"))
            with pytest.raises(TypeError):
                histogram.observe(Decimal("1.5"))
        else:
            counter.inc(Decimal("1.5"))
            histogram.observe(Decimal("1.5"))
            assert registry.get_sample_value("c_total") == 1.5
            assert registry.get_sample_value("h_sum") == 1.5
