"""pyrometer.decorator, and the decorators metrics make, behave as prometheus_client's do."""

import abc
import asyncio
import importlib
import inspect

import pytest


@pytest.fixture
def decorator(lib):
    return importlib.import_module(lib.__name__ + ".decorator")


def _trace(func, *args, **kwargs):
    """A caller that reports how it was called."""
    return func.__name__, args, kwargs, func(*args, **kwargs)


def _example(a, b=2, *rest, c, d=4, **more):
    """Example."""
    return a


def test_getargspec_reads_the_four_fields(decorator):
    assert decorator.getargspec(_example) == (["a", "b"], "rest", "more", (2,))
    assert decorator.getargspec(lambda: None) == ([], None, None, None)
    assert decorator.ArgSpec._fields == ("args", "varargs", "varkw", "defaults")


def test_decorate_keeps_the_signature_and_binds_arguments_for_the_caller(decorator):
    wrapper = decorator.decorate(_example, _trace)
    assert decorator.getargspec(wrapper) == decorator.getargspec(_example)
    assert inspect.signature(wrapper) == inspect.signature(_example)
    assert (wrapper.__name__, wrapper.__qualname__, wrapper.__doc__, wrapper.__module__) == (
        "_example", "_example", "Example.", __name__,
    )
    assert wrapper.__wrapped__ is _example and wrapper.__kwdefaults__ == {"d": 4}
    # Positional parameters arrive positionally with defaults filled in, keyword-only ones by keyword.
    assert wrapper(1, c=3) == ("_example", (1, 2), {"c": 3, "d": 4}, 1)
    assert wrapper(a=1, c=3, z=0) == ("_example", (1, 2), {"c": 3, "d": 4, "z": 0}, 1)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'a'"):
        wrapper()


def test_decorate_refuses_what_it_cannot_shape(decorator):
    def _func_(_call_):
        return _call_

    with pytest.raises(NameError):
        decorator.decorate(_func_, _trace)
    assert decorator.decorate(lambda x: x, _trace).__name__ == "_lambda_"


def test_decorator_turns_a_caller_into_a_decorator(decorator):
    traced = decorator.decorator(_trace)
    assert (traced.__name__, traced.__doc__, traced.__wrapped__) == ("_trace", _trace.__doc__, _trace)
    assert decorator.getargspec(traced) == (["func"], None, None, None)
    assert traced(_example)(7, c=0) == ("_example", (7, 2), {"c": 0, "d": 4}, 7)
    assert decorator.decorator(_trace, _example)(7, c=0)[3] == 7


def test_function_maker_renders_both_signatures(decorator):
    maker = decorator.FunctionMaker(_example)
    assert maker.signature == "a, b, *rest, c=None, d=None, **more"
    assert maker.shortsignature == "a, b, *rest, c=c, d=d, **more"
    assert (maker.name, maker.arg0, maker.arg1, maker.defaults) == ("_example", "a", "b", (2,))
    made = decorator.FunctionMaker.create("add(x, y)", "return x + y", {}, defaults=(5,), doc="Adds.")
    assert (made.__name__, made(1), made.__doc__, made.__module__) == ("add", 6, "Adds.", __name__)
    assert made.__source__ == "def add(x, y):\n    return x + y\n"
    with pytest.raises(SyntaxError):
        decorator.FunctionMaker.create("add(x)", "return (", {})
    assert decorator.DEF.match("def name(x)").group(1) == "name"


def test_contextmanager_makes_decorating_context_managers(decorator):
    events = []

    @decorator.contextmanager
    def recorded(tag):
        events.append(("enter", tag))
        yield tag
        events.append(("exit", tag))

    assert recorded.__name__ == "recorded"
    assert decorator.getargspec(recorded) == (["tag"], None, None, None)
    with recorded("block") as value:
        assert value == "block"

    @recorded("call")
    def work(p, q=1):
        return p + q

    assert decorator.getargspec(work) == (["p", "q"], None, None, (1,))
    assert work(1) == 2
    assert events == [("enter", "block"), ("exit", "block"), ("enter", "call"), ("exit", "call")]


def test_dispatch_on_picks_by_type_and_virtual_ancestor(decorator):
    @decorator.dispatch_on("obj")
    def kind(obj, extra=0):
        return "default"

    @kind.register(int)
    def _(obj, extra=0):
        return "int"

    @kind.register(abc.ABC)
    def _(obj, extra=0):
        return "abc"

    class Sized(abc.ABC):
        pass

    Sized.register(list)

    @kind.register(Sized)
    def _(obj, extra=0):
        return "sized"

    assert kind.__name__ == "kind" and decorator.getargspec(kind) == (["obj", "extra"], None, None, (0,))
    assert [kind(3), kind(True), kind([]), kind(1.5)] == ["int", "int", "sized", "default"]
    assert kind.dispatch_info(bool) == [("bool",), ("int",)]
    assert kind.dispatch_info(list) == [("list",), ("Sized",), ("ABC",)]
    assert kind.default(3) == "default" and set(kind.typemap) == {(int,), (abc.ABC,), (Sized,)}
    with pytest.raises(TypeError, match="Expected 1 arguments, got 2"):
        kind.register(int, str)
    with pytest.raises(NameError, match=r"Unknown dispatch arguments \(nope,\)"):
        decorator.dispatch_on("nope")(_example)
    assert decorator.dispatch_on("a", "b").__name__ == "dispatch_on(a, b,)"


def test_append_keeps_the_most_specific_classes(decorator):
    listed = []
    for cls in (int, bool, object, str):
        decorator.append(cls, listed)
    assert listed == [bool, str]


def test_get_init(decorator):
    class Thing:
        def __init__(self, x):
            pass

    assert decorator.get_init(Thing) is Thing.__init__


def test_metric_decorators_keep_the_signature(lib):
    getargspec = importlib.import_module(lib.__name__ + ".decorator").getargspec
    registry = lib.CollectorRegistry()
    counter = lib.Counter("c", "C.", registry=registry)
    gauge = lib.Gauge("g", "G.", registry=registry)
    histogram = lib.Histogram("h", "H.", registry=registry)
    summary = lib.Summary("s", "S.", registry=registry)
    decorators = [
        counter.count_exceptions(), gauge.track_inprogress(), gauge.time(), histogram.time(), summary.time()
    ]
    for decorate in decorators:
        wrapped = decorate(_example)
        assert getargspec(wrapped) == getargspec(_example)
        assert (wrapped.__name__, wrapped.__doc__, wrapped.__wrapped__) == ("_example", "Example.", _example)
        assert wrapped(5, c=1) == 5
    assert registry.get_sample_value("h_count") == registry.get_sample_value("s_count") == 1.0


def test_a_call_with_bad_arguments_is_neither_counted_nor_timed(lib):
    registry = lib.CollectorRegistry()
    counter = lib.Counter("c", "C.", registry=registry)
    histogram = lib.Histogram("h", "H.", registry=registry)

    @counter.count_exceptions()
    @histogram.time()
    def f(r):
        return r

    with pytest.raises(TypeError):
        f()
    with pytest.raises(TypeError):
        f(1, 2)
    assert registry.get_sample_value("c_total") == 0.0
    assert registry.get_sample_value("h_count") == 0.0


def test_decorated_coroutine_functions_stay_coroutine_functions():
    """Ours only: upstream's wrapper returns the coroutine unawaited (see docs/compat.md)."""
    ours = importlib.import_module("pyrometer")
    getargspec = importlib.import_module("pyrometer.decorator").getargspec
    registry = ours.CollectorRegistry()
    gauge = ours.Gauge("g", "G.", registry=registry)
    seen = []

    @gauge.track_inprogress()
    async def work(x, y=1):
        seen.append(registry.get_sample_value("g"))
        return x + y

    assert inspect.iscoroutinefunction(work)
    assert getargspec(work) == (["x", "y"], None, None, (1,))
    assert asyncio.run(work(1)) == 2
    assert seen == [1.0] and registry.get_sample_value("g") == 0.0


def test_callables_that_are_not_functions_are_wrapped_too():
    """Ours only: upstream's decorators raise TypeError for them (see docs/compat.md)."""
    ours = importlib.import_module("pyrometer")
    registry = ours.CollectorRegistry()
    histogram = ours.Histogram("h", "H.", registry=registry)

    class Doubler:
        def __call__(self, x):
            return 2 * x

    timed = histogram.time()(Doubler())
    assert timed(3) == 6
    assert str(inspect.signature(timed)) == "(x)"
    assert registry.get_sample_value("h_count") == 1.0


def test_positional_only_parameters_stay_positional_only():
    """Ours only: upstream's wrappers accept them by keyword (see docs/compat.md)."""
    decorator = importlib.import_module("pyrometer.decorator")

    def f(x, /, y):
        return x

    wrapper = decorator.decorate(f, _trace)
    assert inspect.signature(wrapper) == inspect.signature(f)
    with pytest.raises(TypeError):
        wrapper(x=1, y=2)


def test_a_contextmanager_decorator_works_on_every_call():
    """Ours only: upstream's reuses one generator, so a second call fails (see docs/compat.md)."""
    decorator = importlib.import_module("pyrometer.decorator")
    calls = []

    @decorator.contextmanager
    def counted():
        calls.append("enter")
        yield

    @counted()
    def work():
        return "done"

    assert [work(), work()] == ["done", "done"] and calls == ["enter", "enter"]


def test_a_template_that_fails_to_compile_carries_its_source():
    """Ours only: upstream prints the source to stderr instead (see docs/compat.md)."""
    decorator = importlib.import_module("pyrometer.decorator")
    with pytest.raises(SyntaxError) as info:
        decorator.FunctionMaker.create("broken(x)", "return (", {})
    assert info.value.__notes__ == ["in generated code:\ndef broken(x):\n    return (\n"]
