"""OpenMetrics exposition, as prometheus_client.openmetrics.exposition has it."""

from ..registry import CollectorRegistry

CONTENT_TYPE_LATEST = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def generate_latest(registry: CollectorRegistry, escaping: str = "underscores", version: str = "1.0.0") -> bytes:
    """The registry as OpenMetrics text."""
    return registry._generate_openmetrics(escaping)
