"""The collector registry, as prometheus_client.registry has it."""

from . import _native

DuplicateTimeseries = _native.DuplicateTimeseries


class CollectorRegistry(_native.CollectorRegistry):
    """A set of collectors with unique sample names; scraping it collects them all natively."""


REGISTRY = CollectorRegistry(auto_describe=True)
_native.set_default_registry(REGISTRY)
