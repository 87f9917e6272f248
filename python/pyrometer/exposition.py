"""Exposition, as prometheus_client.exposition has it. Encoding runs natively, without the GIL."""

from typing import Any

from . import _native
from .registry import REGISTRY

CONTENT_TYPE_PLAIN_0_0_4 = "text/plain; version=0.0.4; charset=utf-8"
CONTENT_TYPE_PLAIN_1_0_0 = "text/plain; version=1.0.0; charset=utf-8"
CONTENT_TYPE_LATEST = CONTENT_TYPE_PLAIN_1_0_0


def generate_latest(registry: Any = REGISTRY, escaping: str = "underscores") -> bytes:
    """The registry, or any object with ``collect()``, in the Prometheus text format."""
    native = getattr(registry, "_generate_text", None)
    if native is not None:
        return native(escaping)  # type: ignore[no-any-return]
    return _native.generate_text(registry.collect(), escaping)
