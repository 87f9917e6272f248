"""The collector registry, as prometheus_client.registry has it.

Registration, collection and exposition run natively; collectors written in Python are asked
for their metrics under the GIL, and nothing else is.
"""

from typing import Iterable, Iterator, Protocol

from . import _native
from .metrics_core import Metric

DuplicateTimeseries = _native.DuplicateTimeseries


class Collector(Protocol):
    """Anything with a ``collect()`` that yields metric families."""

    def collect(self) -> Iterable[Metric]:
        """The current metric families."""


class CollectorRegistry(_native.CollectorRegistry):
    """A set of collectors with unique sample names; scraping it collects them all natively."""

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

    def _generate_openmetrics(self, escaping: str = "underscores") -> bytes:
        return self._registry._generate_openmetrics(escaping, self._name_set)


REGISTRY = CollectorRegistry(auto_describe=True)
_native.set_default_registry(REGISTRY)
