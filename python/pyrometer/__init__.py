"""Prometheus instrumentation with a Rust core: a drop-in replacement for prometheus_client.

The package is being built out name by name; what exists behaves as prometheus_client does
(``tests/python`` runs each scenario against both libraries).
"""

from .exposition import CONTENT_TYPE_LATEST, CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from .metrics import Counter, Enum, Gauge, Histogram, Info, Summary
from .registry import REGISTRY, CollectorRegistry

__all__ = [
    "CONTENT_TYPE_LATEST",
    "CONTENT_TYPE_PLAIN_0_0_4",
    "REGISTRY",
    "CollectorRegistry",
    "Counter",
    "Enum",
    "Gauge",
    "Histogram",
    "Info",
    "Summary",
    "generate_latest",
]
