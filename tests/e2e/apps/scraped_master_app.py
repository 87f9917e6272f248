"""A WSGI app whose gunicorn master (`--preload`) serves the merged metrics on a port of its own
and keeps scraping them from another thread while it forks workers: what a fork must survive."""

import os
import threading

from pyrometer import CollectorRegistry, Counter, generate_latest, start_http_server
from pyrometer.multiprocess import MultiProcessCollector

REQUESTS = Counter("app_requests", "Requests served.")

_registry = CollectorRegistry()
MultiProcessCollector(_registry)
start_http_server(int(os.environ["METRICS_PORT"]), addr="127.0.0.1", registry=_registry)


def _scrape_for_ever():
    while True:
        generate_latest(_registry)


threading.Thread(target=_scrape_for_ever, daemon=True).start()


def app(environ, start_response):
    REQUESTS.inc()
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Pid", str(os.getpid()))])
    return [b"ok\n"]
