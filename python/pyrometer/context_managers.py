"""Timers, exception counters and in-progress trackers: context managers and decorators.

As decorators they wrap sync and async functions alike; for a coroutine function the measured
span is the awaited call, not the creation of the coroutine.
"""

import functools
from abc import ABCMeta
from timeit import default_timer
from types import TracebackType
from typing import Any, Callable, Literal, Optional, Protocol, Tuple, Type, TypeVar, Union

from . import _native

F = TypeVar("F", bound=Callable[..., Any])


class _Incrementable(Protocol):
    def inc(self, amount: float = 1.0) -> None: ...


class _Gauge(_Incrementable, Protocol):
    def dec(self, amount: float = 1.0) -> None: ...


# Wrappers compiled with the decorated function's own parameters (see pyrometer.decorator): the
# signature reads as the original's, and a call with bad arguments raises before the context is
# entered, so it is neither timed nor counted.
_SYNC_WRAPPER = "def _wrapper_(%(signature)s):\n    with _call_():\n        return _func_(%(shortsignature)s)\n"
_ASYNC_WRAPPER = (
    "async def _wrapper_(%(signature)s):\n    with _call_():\n        return await _func_(%(shortsignature)s)\n"
)


def decorate(make_context: Callable[[], Any], f: F) -> F:
    """Wraps ``f`` so that each call runs inside a fresh context from ``make_context()``.

    The wrapper has ``f``'s name, signature and attributes (``__wrapped__`` is ``f``); for a
    coroutine function it is a coroutine function whose awaited call runs in the context.
    """
    # Loaded on first use: `inspect` and the signature-preserving maker are a third of the
    # package's import time, and most processes decorate nothing.
    import inspect

    from .decorator import FunctionMaker

    is_async = inspect.iscoroutinefunction(f)
    if inspect.isfunction(f):
        try:
            maker = FunctionMaker(f)
            wrapper = maker.make(
                _ASYNC_WRAPPER if is_async else _SYNC_WRAPPER, {"_call_": make_context, "_func_": f}, __wrapped__=f
            )
        except NameError:
            pass  # a parameter named _func_ or _call_: wrap it the generic way below
        else:
            wrapper.__qualname__ = f.__qualname__
            return wrapper  # type: ignore[no-any-return]
    return _forwarding_wrapper(make_context, f, is_async)


def _forwarding_wrapper(make_context: Callable[[], Any], f: F, is_async: bool) -> F:
    """A ``*args, **kwargs`` wrapper, for callables that are not plain functions; it reports
    ``f``'s signature as its own where ``f`` has one."""
    wrapper: Any
    if is_async:

        @functools.wraps(f)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            with make_context():
                return await f(*args, **kwargs)

    else:

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with make_context():
                return f(*args, **kwargs)

    import inspect

    try:
        wrapper.__signature__ = inspect.signature(f)
    except (TypeError, ValueError):
        pass  # a builtin without a signature
    return wrapper  # type: ignore[no-any-return]


class _Decorator:
    """Makes a context-manager class usable as a decorator of sync and async functions."""

    def _fresh(self) -> Any:
        # A new instance per call keeps concurrent and re-entrant calls apart.
        return self

    def __call__(self, f: F) -> F:
        return decorate(self._fresh, f)


class ExceptionCounter(_Decorator):
    """Counts exceptions of the given types leaving a block or a function."""

    def __init__(
        self, counter: _Incrementable, exception: Union[Type[BaseException], Tuple[Type[BaseException], ...]]
    ) -> None:
        self._counter = counter
        self._exception = exception

    def __enter__(self) -> None:
        pass

    def __exit__(
        self, typ: Optional[Type[BaseException]], value: Optional[BaseException], traceback: Optional[TracebackType]
    ) -> Literal[False]:
        if isinstance(value, self._exception):
            self._counter.inc()
        return False


class InprogressTracker(_Decorator):
    """Raises a gauge while a block or a function runs."""

    def __init__(self, gauge: _Gauge) -> None:
        self._gauge = gauge

    def __enter__(self) -> None:
        self._gauge.inc()

    def __exit__(
        self, typ: Optional[Type[BaseException]], value: Optional[BaseException], traceback: Optional[TracebackType]
    ) -> None:
        self._gauge.dec()


class Timer(_Decorator, metaclass=ABCMeta):
    """Observes the duration of a block or a function, in seconds.

    What ``time()`` returns is the native timer, registered as a virtual subclass, so
    ``isinstance(h.time(), Timer)`` holds as upstream's does.
    """

    def __init__(self, metric: Any, callback_name: str) -> None:
        self._metric = metric
        self._callback_name = callback_name
        self.duration: Optional[float] = None

    def _fresh(self) -> "Timer":
        return self.__class__(self._metric, self._callback_name)

    def __enter__(self) -> "Timer":
        self._start = default_timer()
        return self

    def __exit__(
        self, typ: Optional[Type[BaseException]], value: Optional[BaseException], traceback: Optional[TracebackType]
    ) -> None:
        # Time can go backwards.
        self.duration = max(default_timer() - self._start, 0)
        getattr(self._metric, self._callback_name)(self.duration)

    def labels(self, *args: Any, **kwargs: Any) -> None:
        """Times a child: for a timer made on a parent with labels."""
        self._metric = self._metric.labels(*args, **kwargs)


Timer.register(_native.Timer)
