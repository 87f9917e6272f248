"""OpenMetrics exposition, as prometheus_client.openmetrics.exposition has it."""

from typing import Any

from .. import _native

CONTENT_TYPE_LATEST = "application/openmetrics-text; version=1.0.0; charset=utf-8"
ALLOWUTF8 = "allow-utf-8"
UNDERSCORES = "underscores"
DOTS = "dots"
VALUES = "values"
ESCAPING_HEADER_TAG = "escaping"


def generate_latest(registry: Any, escaping: str = UNDERSCORES, version: str = "1.0.0") -> bytes:
    """The registry, or any object with ``collect()``, as OpenMetrics text."""
    native = getattr(registry, "_generate_openmetrics", None)
    if native is not None:
        return native(escaping)  # type: ignore[no-any-return]
    return _native.generate_openmetrics(registry.collect(), escaping)
