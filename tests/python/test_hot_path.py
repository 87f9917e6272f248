"""The hot methods (`inc`, `dec`, `set`, `observe`, `labels`, `time` and the timer's block) take a
plain call themselves and leave every other call to the full method: both routes must do the same,
and do what prometheus_client does."""

import inspect
import threading

import prometheus_client
import pytest

import pyrometer


def count(histogram, labels=None):
    """A histogram's `_count`."""
    name = histogram._name + "_count"
    return next(s.value for s in histogram.collect()[0].samples if s.name == name and s.labels == (labels or {}))


def test_plain_and_keyword_calls_count_alike(both):
    """`inc(2)` takes the hot path, `inc(amount=2)` the full method; prometheus_client is the judge."""
    totals = []
    for lib in both:
        registry = lib.CollectorRegistry()
        counter = lib.Counter("jobs_total", "Jobs.", registry=registry)
        gauge = lib.Gauge("queue", "Queue.", registry=registry)
        histogram = lib.Histogram("latency_seconds", "Latency.", registry=registry)
        summary = lib.Summary("size_bytes", "Size.", registry=registry)
        for args, kwargs in (((), {}), ((2,), {}), ((), {"amount": 2}), ((2.5,), {}), ((True,), {}), ((2**60,), {})):
            counter.inc(*args, **kwargs)
            gauge.inc(*args, **kwargs)
            gauge.dec(*args, **kwargs)
            gauge.dec(*args, **kwargs)
        for v in (0.3, 7, 2**40, -1.5, True):
            histogram.observe(v)
            histogram.observe(amount=v)
            summary.observe(v)
            summary.observe(amount=v)
        gauge.set(4)
        gauge.set(value=gauge._value.get() + 0.5)
        totals.append(prometheus_client.generate_latest(registry) if lib is prometheus_client else lib.generate_latest(registry))
    # `_created` lines carry each library's own time.
    strip = lambda text: [line for line in text.splitlines() if b"_created" not in line]
    assert strip(totals[0]) == strip(totals[1])


@pytest.mark.parametrize(
    "mistake",
    [
        lambda lib, r: lib.Counter("c_total", "C.", registry=r).inc(-1),
        lambda lib, r: lib.Counter("c_total", "C.", registry=r).inc(-0.5),
        lambda lib, r: lib.Counter("c_total", "C.", ["a"], registry=r).inc(),
        lambda lib, r: lib.Counter("c_total", "C.", ["a"], registry=r).inc(1),
        lambda lib, r: lib.Gauge("g", "G.", ["a"], registry=r).set(1.0),
        lambda lib, r: lib.Gauge("g", "G.", ["a"], registry=r).inc(),
        lambda lib, r: lib.Gauge("g", "G.", ["a"], registry=r).dec(2),
        lambda lib, r: lib.Histogram("h", "H.", ["a"], registry=r).observe(1.0),
        lambda lib, r: lib.Histogram("h", "H.", ["a"], registry=r).observe(1.0, {"trace_id": "x" * 200}),
        lambda lib, r: lib.Counter("c_total", "C.", ["a"], registry=r).inc(1, {"trace_id": "x" * 200}),
        lambda lib, r: lib.Summary("s", "S.", ["a"], registry=r).observe(1),
        lambda lib, r: lib.Counter("c_total", "C.", ["a", "b"], registry=r).labels("x"),
        lambda lib, r: lib.Counter("c_total", "C.", registry=r).labels("x"),
    ],
)
def test_mistakes_on_the_hot_path_raise_as_upstream(raises_alike, mistake):
    raises_alike(mistake)


def test_values_the_hot_path_leaves_to_the_full_method():
    """Calls the hot path declines (too large an int, a string, keywords) behave as before: an
    error for the first two, a count for the last."""
    registry = pyrometer.CollectorRegistry()
    counter = pyrometer.Counter("c_total", "C.", registry=registry)
    with pytest.raises(OverflowError):
        counter.inc(10**400)
    with pytest.raises(TypeError):
        counter.inc("1")
    with pytest.raises(TypeError):
        counter.inc(1, 2, 3)
    counter.inc(amount=1, exemplar={"trace_id": "abc"})
    assert registry.get_sample_value("c_total") == 1.0
    counter.inc(float("nan"))
    assert registry.get_sample_value("c_total") == 1.0


def test_labels_finds_the_same_child_whatever_the_route():
    counter = pyrometer.Counter("http_requests_total", "R.", ["method", "code"], registry=pyrometer.CollectorRegistry())
    child = counter.labels("GET", "200")
    assert counter.labels("GET", "200") is child  # strings: the hot path
    assert counter.labels("GET", 200) is child  # an int: the full method converts it
    assert counter.labels(method="GET", code="200") is child  # keywords: the hot path too
    assert counter.labels(code="200", method="GET") is child  # in any order
    assert counter.labels("".join(["G", "ET"]), "200") is child  # equal but not identical strings
    # Keyword names built at run time are equal to the label names but not the same objects.
    assert counter.labels(**{"".join(["meth", "od"]): "GET", "co" + "de": "200"}) is child
    assert counter.labels(method="GET", code=200) is child  # an int: the full method converts it
    assert counter.labels("POST", "200") is not child


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda c: c.labels(method="GET"), "Incorrect label names"),
        (lambda c: c.labels(method="GET", code="200", extra="x"), "Incorrect label names"),
        (lambda c: c.labels(method="GET", cod="200"), "Incorrect label names"),
        (lambda c: c.labels("GET", code="200"), "Can't pass both"),
    ],
)
def test_keyword_labels_the_hot_path_cannot_take_raise_as_upstream(raises_alike, call, error):
    def mistake(lib, registry):
        counter = lib.Counter("r", "R.", ["method", "code"], registry=registry)
        counter.labels(method="GET", code="200").inc()
        call(counter)

    raises_alike(mistake)
    with pytest.raises(ValueError, match=error):
        mistake(pyrometer, pyrometer.CollectorRegistry())


def test_keyword_labels_on_a_subclass_and_from_threads_find_one_child():
    class Audited(pyrometer.Counter):
        pass

    counter = Audited("jobs", "J.", ["queue"], registry=pyrometer.CollectorRegistry())
    first = counter.labels(queue="mail")
    assert type(first) is Audited and counter.labels(queue="mail") is first
    found = []

    def look_up():
        for _ in range(2_000):
            found.append(counter.labels(queue="mail"))
            counter.labels(queue="mail").inc()

    threads = [threading.Thread(target=look_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(child is first for child in found)
    assert first._get() == 8_000


def test_hot_methods_keep_their_signatures():
    for cls, name in [
        (pyrometer.Counter, "inc"),
        (pyrometer.Counter, "labels"),
        (pyrometer.Gauge, "set"),
        (pyrometer.Gauge, "dec"),
        (pyrometer.Histogram, "observe"),
        (pyrometer.Histogram, "time"),
        (pyrometer.Summary, "observe"),
    ]:
        upstream = inspect.signature(getattr(getattr(prometheus_client, cls.__name__), name))
        ours = inspect.signature(getattr(cls, name))
        assert list(ours.parameters)[1:] == list(upstream.parameters)[1:], (cls, name)


def test_timer_blocks_observe_and_set(both):
    for lib in both:
        registry = lib.CollectorRegistry()
        histogram = lib.Histogram("h_seconds", "H.", registry=registry)
        gauge = lib.Gauge("g_seconds", "G.", registry=registry)
        summary = lib.Summary("s_seconds", "S.", registry=registry)
        for _ in range(3):
            with histogram.time():
                pass
            with summary.time():
                pass
        with gauge.time():
            pass
        assert registry.get_sample_value("h_seconds_count") == 3
        assert registry.get_sample_value("s_seconds_count") == 3
        assert 0 <= registry.get_sample_value("g_seconds") < 1


def test_a_timer_is_entered_again_and_keeps_its_last_duration():
    histogram = pyrometer.Histogram("h_seconds", "H.", registry=pyrometer.CollectorRegistry())
    timer = histogram.time()
    assert timer.duration is None
    with timer as entered:
        assert entered is timer
    first = timer.duration
    with timer:
        for _ in range(10_000):
            pass
    assert first is not None and timer.duration is not None and timer.duration >= 0
    assert histogram._labelnames == () and count(histogram) == 2


def test_a_timer_on_a_parent_raises_as_upstream(raises_alike):
    def mistake(lib, registry):
        with lib.Histogram("h", "H.", ["a"], registry=registry).time():
            pass

    raises_alike(mistake)


def test_a_timer_labels_its_child():
    histogram = pyrometer.Histogram("h_seconds", "H.", ["route"], registry=pyrometer.CollectorRegistry())
    timer = histogram.time()
    timer.labels("/a")
    with timer:
        pass
    assert count(histogram, {"route": "/a"}) == 1
    with pytest.raises(ValueError):
        timer.labels("/b")  # a child has no labels of its own, as upstream


def test_a_timer_reports_to_a_python_metric():
    """A duck-typed metric gets `observe` called through Python (the full `__exit__`)."""
    seen = []

    class Recorder(pyrometer.Histogram):
        def observe(self, amount, exemplar=None):
            seen.append(amount)

    recorder = Recorder("r_seconds", "R.", registry=pyrometer.CollectorRegistry())
    with recorder.time():
        pass
    assert len(seen) == 1 and seen[0] >= 0


def test_threads_lose_no_increment():
    counter = pyrometer.Counter("c_total", "C.", ["t"], registry=pyrometer.CollectorRegistry())
    histogram = pyrometer.Histogram("h", "H.", registry=pyrometer.CollectorRegistry())

    def work(name):
        for _ in range(20_000):
            counter.labels("shared").inc()
            counter.labels(name).inc(2)
            histogram.observe(0.5)

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.labels("shared")._value.get() == 80_000
    assert all(counter.labels(f"t{i}")._value.get() == 40_000 for i in range(4))
    assert count(histogram) == 80_000


def test_time_hands_out_an_idle_timer_again_and_a_new_one_while_it_is_held():
    histogram = pyrometer.Histogram("h_seconds", "H.", registry=pyrometer.CollectorRegistry())
    first = histogram.time()
    with first:
        pass
    assert first.duration is not None
    held = histogram.time()
    assert held is not first  # `first` is still held here
    first_id = id(first)
    del first, held
    again = histogram.time()
    assert id(again) == first_id and again.duration is None  # reused, as good as new
    with again:
        with histogram.time() as inner:  # nested: a timer of its own
            assert inner is not again
    assert count(histogram) == 3


def test_a_reused_timer_keeps_no_metric_alive():
    """The metric holds its idle timer and the timer refers back weakly: a removed child goes."""
    import gc
    import weakref

    parent = pyrometer.Histogram("h_seconds", "H.", ["route"], registry=pyrometer.CollectorRegistry())
    with parent.labels("/a").time():
        pass
    gone = weakref.ref(parent.labels("/a"))
    parent.remove("/a")
    gc.collect()
    assert gone() is None

    orphan = pyrometer.Histogram("o_seconds", "O.", registry=None).time()  # the histogram dies here
    with orphan:
        pass
    assert orphan.duration is not None
    with pytest.raises(ReferenceError):
        orphan.labels("x")


def test_a_decorator_made_from_a_temporary_metric_still_runs_the_function():
    """`@Histogram(..., registry=None).time()`: the histogram is gone once decorated; calls run."""

    @pyrometer.Histogram("t_seconds", "T.", registry=None).time()
    def work(x):
        return x * 2

    assert work(21) == 42

    registry = pyrometer.CollectorRegistry()
    histogram = pyrometer.Histogram("d_seconds", "D.", registry=registry)

    @histogram.time()
    def timed():
        return "done"

    assert [timed() for _ in range(3)] == ["done"] * 3
    assert registry.get_sample_value("d_seconds_count") == 3


def test_every_entry_point_is_installed_on_this_interpreter():
    """docs/decisions/0008: where an entry point cannot be installed, the PyO3 method stays and
    its name is listed here; on the CPython versions the package supports, none is missing."""
    assert pyrometer._native._hot_path_missing == []
    assert type(pyrometer.Counter.__dict__["inc"]).__name__ == "method_descriptor"
