"""The collector registry, as prometheus_client.registry has it.

Registration, collection and exposition run natively; collectors written in Python are asked
for their metrics under the GIL, and nothing else is.
"""

import threading
import weakref
from typing import Any, Callable, Iterable, Iterator, Protocol

from . import _native
from .metrics_core import Metric

DuplicateTimeseries = _native.DuplicateTimeseries


class Collector(Protocol):
    """Anything with a ``collect()`` that yields metric families."""

    def collect(self) -> Iterable[Metric]:
        """The current metric families."""


class _EmptyCollector:
    """A collector with nothing to collect."""

    def collect(self) -> Iterable[Metric]:
        """No metric families."""
        return []


# Who hears of a collector leaving a registry: collector -> callback(registry). The registry
# layer listens for its native metrics, whose writes it serves natively while they are registered.
_unregister_listeners: "weakref.WeakKeyDictionary[Any, Callable[[CollectorRegistry], None]]" = (
    weakref.WeakKeyDictionary()
)


def on_unregister(collector: Any, callback: Callable[["CollectorRegistry"], None]) -> None:
    """Calls ``callback(registry)`` whenever ``collector`` is unregistered from a registry
    (replacing any callback given before; the collector must support weak references)."""
    _unregister_listeners[collector] = callback


class CollectorRegistry(_native.CollectorRegistry):
    """A set of collectors with unique sample names; scraping it collects them all natively."""

    def unregister(self, collector: Collector) -> None:
        """Removes a collector; ``KeyError`` if it is not registered."""
        super().unregister(collector)
        if _unregister_listeners:
            try:
                callback = _unregister_listeners.get(collector)
            except TypeError:  # neither hashable nor weakly referenced: nobody listens to it
                return
            if callback is not None:
                callback(self)

    @property
    def _lock(self) -> threading.Lock:
        """A lock of upstream's name, for code that takes it around reading the registry's
        private maps. The native registry locks itself and never holds this one, so a
        collection never blocks on it (nor yields while it is held)."""
        lock: threading.Lock = self.__dict__.setdefault("_registry_lock", threading.Lock())
        return lock

    def restricted_registry(self, names: Iterable[str]) -> "RestrictedRegistry":
        """A view that collects only the samples with these names."""
        return RestrictedRegistry(names, self)


class RestrictedRegistry:
    """What ``CollectorRegistry.restricted_registry`` returns: a registry seen through a name filter."""

    def __init__(self, names: Iterable[str], registry: CollectorRegistry) -> None:
        self._name_set = set(names)
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        """The metric families of the registry, keeping only samples with the chosen names."""
        return self._registry._collect_restricted(self._name_set)

    def _generate_text(self, escaping: str = "underscores") -> bytes:
        return self._registry._generate_text(escaping, self._name_set)

    def _generate_openmetrics(self, escaping: str = "underscores", version: str = "1.0.0") -> bytes:
        return self._registry._generate_openmetrics(escaping, self._name_set, version)


REGISTRY = CollectorRegistry(auto_describe=True)
_native.set_default_registry(REGISTRY)
