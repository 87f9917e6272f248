"""Exposition, as prometheus_client.exposition has it. Encoding runs natively, without the GIL."""

from .registry import REGISTRY, CollectorRegistry

CONTENT_TYPE_PLAIN_0_0_4 = "text/plain; version=0.0.4; charset=utf-8"
CONTENT_TYPE_PLAIN_1_0_0 = "text/plain; version=1.0.0; charset=utf-8"
CONTENT_TYPE_LATEST = CONTENT_TYPE_PLAIN_1_0_0


def generate_latest(registry: CollectorRegistry = REGISTRY, escaping: str = "underscores") -> bytes:
    """The registry in the Prometheus text format."""
    return registry._generate_text(escaping)
