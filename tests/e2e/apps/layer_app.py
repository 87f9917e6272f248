"""A WSGI app on the registry layer and the vLLM set, for `gunicorn --preload`: the layer, the
set and a counter without labels are made in the master, before it forks the workers, and every
worker asks for them again with `get_metrics()`. `/metrics` serves the layer's merged scrape."""

import os

from pyrometer import MetricsRegistry, get_metrics

layer = MetricsRegistry.get_instance()
layer.setup_multiprocess()  # the test sets PROMETHEUS_MULTIPROC_DIR: nothing is made or removed
LABELS = {"model_name": "m", "engine": "0"}
get_metrics().set_cache_config({"block_size": 16})
preloaded = layer.counter("app_preloaded", "Made and counted once in the master, then once per request.")
preloaded.increment()
requests = layer.counter("app_requests", "Requests served.", ["path"])


def app(environ, start_response):
    if environ["PATH_INFO"] == "/metrics":
        body = layer.generate_latest()
        start_response("200 OK", [("Content-Type", layer.content_type)])
        return [body]
    metrics = get_metrics()  # the master's set: nothing is declared twice
    metrics.prompt_tokens.increment(2, LABELS)
    preloaded.increment()
    requests.increment(labels={"path": "/work"})
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Pid", str(os.getpid()))])
    return [b"ok\n"]
