"""The metric classes, as prometheus_client.metrics has them.

They are the native classes themselves, not Python subclasses: a call such as ``counter.inc()``
goes straight to Rust with no Python frame and no extra lookup. ``time()`` returns a native
timer; ``count_exceptions()`` and ``track_inprogress()`` return the context managers of
:mod:`pyrometer.context_managers`. A new top-level metric registers itself in ``registry``
(``REGISTRY`` unless given; ``None`` for none), as upstream's do.
"""

from . import _native

Counter = _native.Counter
Gauge = _native.Gauge
Summary = _native.Summary
Histogram = _native.Histogram
Info = _native.Info
Enum = _native.Enum

disable_created_metrics = _native.disable_created_metrics
enable_created_metrics = _native.enable_created_metrics

__all__ = [
    "Counter",
    "Enum",
    "Gauge",
    "Histogram",
    "Info",
    "Summary",
    "disable_created_metrics",
    "enable_created_metrics",
]
