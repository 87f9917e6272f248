"""`Gauge.set_function` behaves as prometheus_client's: the function answers every scrape."""

import threading

import pytest


def _scenario(lib):
    registry = lib.CollectorRegistry()
    queue = [3, 1, 4]
    depth = lib.Gauge("queue_depth", "Items waiting.", registry=registry)
    depth.set(99)
    depth.set_function(lambda: len(queue))
    ratio = lib.Gauge("ratio", "A labelled child with a function.", ["pool"], registry=registry)
    ratio.labels("a").set_function(lambda: "0.25")  # float() of whatever the function returns
    ratio.labels("b").set(2)
    return registry, queue


def test_exposition_reads_the_function_at_each_scrape(both):
    upstream, ours = both
    (want, want_queue), (got, got_queue) = _scenario(upstream), _scenario(ours)
    assert ours.generate_latest(got) == upstream.generate_latest(want)
    want_queue.append(1)
    got_queue.append(1)
    assert ours.generate_latest(got) == upstream.generate_latest(want)
    assert got.get_sample_value("queue_depth") == want.get_sample_value("queue_depth") == 4.0


def test_a_parent_with_labels_refuses(raises_alike):
    raises_alike(lambda lib, r: lib.Gauge("g", "G.", ["a"], registry=r).set_function(lambda: 1))


def test_the_function_s_exception_fails_the_scrape(lib):
    registry = lib.CollectorRegistry()

    def broken():
        raise LookupError("no queue")

    lib.Gauge("g", "G.", registry=registry).set_function(broken)
    with pytest.raises(LookupError, match="no queue"):
        lib.generate_latest(registry)


def test_a_function_that_creates_series_of_its_own_family_does_not_deadlock(lib):
    """The function runs while other threads add series to the same family and scrape."""
    registry = lib.CollectorRegistry()
    g = lib.Gauge("g", "G.", ["n"], registry=registry)
    created = iter(range(10**6))
    g.labels("fn").set_function(lambda: g.labels(str(next(created))).inc() or 1.0)
    stop = threading.Event()

    def add_series():
        for i in range(2000):
            if stop.is_set():
                break
            g.labels(f"t{i}").inc()

    worker = threading.Thread(target=add_series)
    worker.start()
    for _ in range(20):
        assert b'g{n="fn"} 1.0' in lib.generate_latest(registry)
    stop.set()
    worker.join(timeout=30)
    assert not worker.is_alive()
