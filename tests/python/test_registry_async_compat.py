"""Timing, counting and tracking decorators on async functions."""

import asyncio

from _registry_compat import _assert_alike, _differs


_ASYNC = _differs("upstream's decorators wrap only the call that creates the coroutine: nothing is counted or "
                  "tracked while it is awaited, and the result is not a coroutine function; ours wraps the await")


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
