"""A Twisted resource serving metrics, as prometheus_client.twisted has it."""

from ._exposition import MetricsResource

__all__ = ["MetricsResource"]
