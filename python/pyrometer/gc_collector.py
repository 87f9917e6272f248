"""Garbage collector statistics per generation, from `gc.get_stats()` (CPython only)."""

import gc
import platform
from typing import Iterable

from .metrics_core import CounterMetricFamily, Metric
from .registry import REGISTRY, Collector, CollectorRegistry


class GCCollector(Collector):
    """Exports per-generation collection counts and collected/uncollectable object counts."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        # Other interpreters lack the statistics (or report them differently), so nothing is registered there.
        if not hasattr(gc, "get_stats") or platform.python_implementation() != "CPython":
            return
        registry.register(self)

    def collect(self) -> Iterable[Metric]:
        """Reads the collector's statistics afresh."""
        families = [
            (CounterMetricFamily("python_gc_objects_collected", "Objects collected during gc",
                                 labels=["generation"]), "collected"),
            (CounterMetricFamily("python_gc_objects_uncollectable", "Uncollectable objects found during GC",
                                 labels=["generation"]), "uncollectable"),
            (CounterMetricFamily("python_gc_collections", "Number of times this generation was collected",
                                 labels=["generation"]), "collections"),
        ]
        for generation, stats in enumerate(gc.get_stats()):
            for family, key in families:
                family.add_metric([str(generation)], value=stats[key])
        return [family for family, _ in families]


GC_COLLECTOR = GCCollector()
"""The garbage collector collector registered in the default registry."""
