"""Timers, exception counters and in-progress trackers: context managers and decorators.

As decorators they wrap sync and async functions alike; for a coroutine function the measured
span is the awaited call, not the creation of the coroutine.
"""

import functools
import inspect
from timeit import default_timer
from types import TracebackType
from typing import Any, Callable, Literal, Optional, Protocol, Tuple, Type, TypeVar, Union

F = TypeVar("F", bound=Callable[..., Any])


class _Incrementable(Protocol):
    def inc(self, amount: float = 1.0) -> None: ...


class _Gauge(_Incrementable, Protocol):
    def dec(self, amount: float = 1.0) -> None: ...


def decorate(make_context: Callable[[], Any], f: F) -> F:
    """Wraps ``f`` so that each call runs inside a fresh context from ``make_context()``."""
    if inspect.iscoroutinefunction(f):

        @functools.wraps(f)
        async def async_wrapped(*args: Any, **kwargs: Any) -> Any:
            with make_context():
                return await f(*args, **kwargs)

        return async_wrapped  # type: ignore[return-value]

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with make_context():
            return f(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


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


class Timer(_Decorator):
    """Observes the duration of a block or a function, in seconds."""

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
