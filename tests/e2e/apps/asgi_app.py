"""An ASGI app for uvicorn: counts and times its requests; `/metrics` serves every worker's series."""

import os
import time

from pyrometer import CollectorRegistry, Counter, Histogram, make_asgi_app
from pyrometer.multiprocess import MultiProcessCollector

REQUESTS = Counter("app_requests", "Requests served.", ["path"])
LATENCY = Histogram("app_latency_seconds", "Request latency.", buckets=[0.001, 0.01, 0.1, 1.0])

_scrape_registry = CollectorRegistry()
MultiProcessCollector(_scrape_registry)
_metrics = make_asgi_app(_scrape_registry)


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/metrics":
        await _metrics(scope, receive, send)
        return
    start = time.perf_counter()
    REQUESTS.labels("/work").inc()
    LATENCY.observe(time.perf_counter() - start)
    await receive()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"x-pid", str(os.getpid()).encode())]})
    await send({"type": "http.response.body", "body": b"ok\n"})
