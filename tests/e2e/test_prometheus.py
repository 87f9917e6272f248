"""A real Prometheus scrapes pyrometer, in OpenMetrics and in the text format, and answers queries.

Needs Debian's ``prometheus`` package (``prometheus`` and ``promtool`` on PATH), which
``.ci/run`` installs (see ``peers.require``).
"""

import json
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

import pyrometer

from . import peers
from .peers import require

TIMEOUT = 60.0
LABEL_VALUE = 'ü "quoted" \\ back\nslash'


def _registry():
    registry = pyrometer.CollectorRegistry()
    requests = pyrometer.Counter("requests", "Requests served.", ["method", "path"], registry=registry)
    requests.labels("GET", "/").inc(7)
    requests.labels("POST", LABEL_VALUE).inc(2.5)
    pyrometer.Gauge("temperature", "Room temperature.", unit="celsius", registry=registry).set(-3.25)
    latency = pyrometer.Histogram("latency_seconds", "Latency.", buckets=[0.1, 0.5, 1.0], registry=registry)
    for value, times in ((0.05, 2), (0.3, 4), (0.7, 2), (2.0, 2)):
        for _ in range(times):
            latency.observe(value)
    pyrometer.Info("build", "Build.", registry=registry).info({"version": "1.2"})
    pyrometer.Enum("phase", "Phase.", states=["idle", "busy"], registry=registry).state("busy")
    pyrometer.Summary("payload_bytes", "Payload.", registry=registry).observe(512)
    return registry


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def targets():
    """A native server (Prometheus asks it for OpenMetrics) and a WSGI server that ignores Accept (text)."""
    registry = _registry()
    native, native_thread = pyrometer.start_http_server(0, addr="127.0.0.1", registry=registry)
    app = pyrometer.make_wsgi_app(registry)
    text = make_server("127.0.0.1", 0, lambda env, start: app({**env, "HTTP_ACCEPT": ""}, start), handler_class=_Quiet)
    text_thread = threading.Thread(target=text.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    text_thread.start()
    yield registry, {"openmetrics": native.server_port, "text": text.server_port}
    for server, thread in ((native, native_thread), (text, text_thread)):
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


@pytest.fixture
def prometheus(tmp_path, targets):
    _, ports = targets
    with peers.prometheus(tmp_path, ports) as url:
        yield url


def _query(base, expr):
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as response:
        answer = json.load(response)
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def _wait_for(base, expr, count):
    """The query's result once it has `count` series; fails after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    last = None
    while time.monotonic() < deadline:
        try:
            last = _query(base, expr)
            if len(last) >= count:
                return last
        except OSError:
            pass  # not listening yet
        time.sleep(0.5)
    pytest.fail(f"{expr} never had {count} series; last answer {last}")


def _values(result):
    return {(s["metric"].get("job"), s["metric"].get("method", "")): float(s["value"][1]) for s in result}


def test_prometheus_scrapes_both_formats_and_reads_the_values(prometheus):
    up = _wait_for(prometheus, "up", 2)
    assert {s["metric"]["job"]: s["value"][1] for s in up} == {"openmetrics": "1", "text": "1"}
    requests = _values(_wait_for(prometheus, "requests_total", 4))
    assert requests == {("openmetrics", "GET"): 7.0, ("openmetrics", "POST"): 2.5, ("text", "GET"): 7.0,
                        ("text", "POST"): 2.5}
    escaped = _query(prometheus, 'requests_total{method="POST"}')
    assert {s["metric"]["path"] for s in escaped} == {LABEL_VALUE}
    assert _values(_query(prometheus, "temperature_celsius")) == {("openmetrics", ""): -3.25, ("text", ""): -3.25}
    assert _values(_query(prometheus, 'build_info{version="1.2"}')) == {("openmetrics", ""): 1.0, ("text", ""): 1.0}
    assert _values(_query(prometheus, 'phase{phase="busy"}')) == {("openmetrics", ""): 1.0, ("text", ""): 1.0}
    assert _values(_query(prometheus, "payload_bytes_sum")) == {("openmetrics", ""): 512.0, ("text", ""): 512.0}


def test_histogram_quantile_over_our_buckets(prometheus):
    _wait_for(prometheus, "latency_seconds_bucket", 8)
    # 10 observations: 2 <= 0.1 < 4 <= 0.5 < 2 <= 1.0 < 2; the median interpolates inside (0.1, 0.5].
    result = _query(prometheus, "histogram_quantile(0.5, sum by (job, le) (latency_seconds_bucket))")
    medians = {s["metric"]["job"]: float(s["value"][1]) for s in result}
    assert medians.keys() == {"openmetrics", "text"}
    assert all(abs(m - 0.4) < 1e-9 for m in medians.values()), medians
    counts = _values(_query(prometheus, "latency_seconds_count"))
    assert set(counts.values()) == {10.0}


def test_promtool_accepts_our_text_output():
    require("promtool")
    checked = subprocess.run(["promtool", "check", "metrics"], input=pyrometer.generate_latest(_registry()),
                             capture_output=True, timeout=TIMEOUT)
    assert checked.returncode == 0, checked.stdout + checked.stderr
