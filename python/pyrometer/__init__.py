"""Prometheus instrumentation with a Rust core: a drop-in replacement for prometheus_client.

The same public names as prometheus_client 0.26; updates and exposition run natively.
"""

from typing import TYPE_CHECKING

from . import exposition, metrics_core
from ._lazy import lazy_names
from .exposition import CONTENT_TYPE_LATEST, CONTENT_TYPE_PLAIN_0_0_4, CONTENT_TYPE_PLAIN_1_0_0, generate_latest, write_to_textfile
from .gc_collector import GC_COLLECTOR, GCCollector
from .metrics import Counter, Enum, Gauge, Histogram, Info, Summary, disable_created_metrics, enable_created_metrics
from .metrics_core import Metric
from .platform_collector import PLATFORM_COLLECTOR, PlatformCollector
from .process_collector import PROCESS_COLLECTOR, ProcessCollector
from .registry import REGISTRY, CollectorRegistry

if TYPE_CHECKING:
    from .prometheus_registry import (
        HistogramBucket,
        MetricCollector,
        MetricsBackend,
        MetricSpec,
        MetricsRegistry,
        MetricType,
        MetricValue,
        RateLimitedGauge,
        SampledCounter,
        VLLMMetrics,
        get_metrics,
    )
    from .standin import install
    from .exposition import (
        MetricsHandler,
        delete_from_gateway,
        instance_ip_grouping_key,
        make_asgi_app,
        make_wsgi_app,
        push_to_gateway,
        pushadd_to_gateway,
        start_http_server,
        start_wsgi_server,
    )

# Servers and the Pushgateway client load slow standard-library modules; they come on first use,
# as does the MetricsRegistry layer (whose names prometheus_client does not have, so they stay out
# of ``__all__``: ``from pyrometer import *`` brings what ``from prometheus_client import *`` does).
__getattr__, __dir__ = lazy_names(
    globals(),
    {
        **dict.fromkeys(
            (
                "MetricsHandler",
                "delete_from_gateway",
                "instance_ip_grouping_key",
                "make_asgi_app",
                "make_wsgi_app",
                "push_to_gateway",
                "pushadd_to_gateway",
                "start_http_server",
                "start_wsgi_server",
            ),
            ".exposition",
        ),
        **dict.fromkeys(
            (
                "HistogramBucket",
                "MetricCollector",
                "MetricSpec",
                "MetricType",
                "MetricValue",
                "MetricsBackend",
                "MetricsRegistry",
                "RateLimitedGauge",
                "SampledCounter",
                "VLLMMetrics",
                "get_metrics",
            ),
            ".prometheus_registry",
        ),
        # Standing in for prometheus_client (pyrometer.standin); not in upstream's __all__ either.
        "install": ".standin",
    },
)

__all__ = (
    "CollectorRegistry",
    "REGISTRY",
    "Metric",
    "Counter",
    "Gauge",
    "Summary",
    "Histogram",
    "Info",
    "Enum",
    "enable_created_metrics",
    "disable_created_metrics",
    "CONTENT_TYPE_LATEST",
    "CONTENT_TYPE_PLAIN_0_0_4",
    "CONTENT_TYPE_PLAIN_1_0_0",
    "generate_latest",
    "MetricsHandler",
    "make_wsgi_app",
    "make_asgi_app",
    "start_http_server",
    "start_wsgi_server",
    "write_to_textfile",
    "push_to_gateway",
    "pushadd_to_gateway",
    "delete_from_gateway",
    "instance_ip_grouping_key",
    "ProcessCollector",
    "PROCESS_COLLECTOR",
    "PlatformCollector",
    "PLATFORM_COLLECTOR",
    "GCCollector",
    "GC_COLLECTOR",
)
