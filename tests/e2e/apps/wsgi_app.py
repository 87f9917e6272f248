"""A WSGI app for gunicorn: counts and times its requests; `/metrics` serves every worker's series."""

import os
import time

from pyrometer import CollectorRegistry, Counter, Histogram, make_wsgi_app
from pyrometer.multiprocess import MultiProcessCollector

REQUESTS = Counter("app_requests", "Requests served.", ["path"])
LATENCY = Histogram("app_latency_seconds", "Request latency.", buckets=[0.001, 0.01, 0.1, 1.0])

_scrape_registry = CollectorRegistry()
MultiProcessCollector(_scrape_registry)
_metrics = make_wsgi_app(_scrape_registry)


def app(environ, start_response):
    if environ["PATH_INFO"] == "/metrics":
        return _metrics(environ, start_response)
    start = time.perf_counter()
    REQUESTS.labels("/work").inc()
    LATENCY.observe(time.perf_counter() - start)
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Pid", str(os.getpid()))])
    return [b"ok\n"]
