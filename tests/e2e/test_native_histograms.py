"""A real Prometheus scrapes native histograms from pyrometer, in the protobuf format, and answers
``histogram_count``, ``histogram_sum`` and ``histogram_quantile`` on them.

Targets: a Python registry served by ``start_http_server``, a Rust registry served by the
``native_histograms`` example of ``pyrometer-export`` (built with cargo when missing), and a
multiprocess directory two worker processes wrote, served by the ``pyrometer.multiprocess`` sidecar. Each has a
native histogram alone and one with classic buckets beside, of the same 1000 observations.
Prometheus runs with ``--enable-feature=native-histograms``; a second Prometheus without it scrapes
the same targets and sees the classic form. A probe target records the Accept header each one sends,
and the native server is asked with it: protobuf for the first, text for the second.
"""

import http.server
import math
import os
import pathlib
import subprocess
import sys
import threading
import urllib.request

import pytest

import pyrometer

from . import peers
from .peers import free_port, require
from .test_prometheus import _query, _wait_for

ROOT = pathlib.Path(__file__).resolve().parents[2]
VALUES = [0.001 * 1.0093**i for i in range(1000)]
SCHEMA = 3  # the default bucket factor, 1.1
TIMEOUT = 120.0


def _python_target():
    registry = pyrometer.CollectorRegistry()
    alone = pyrometer.Histogram("py_latency_seconds", "Latency.", registry=registry,
                                native_histogram_bucket_factor=1.1)
    both = pyrometer.Histogram("py_both_seconds", "Latency.", registry=registry, buckets=[0.01, 0.1, 1.0],
                               native_histogram_bucket_factor=1.1)
    for v in VALUES:
        alone.observe(v)
        both.observe(v)
    return pyrometer.start_http_server(0, addr="127.0.0.1", registry=registry)


WORKER = """
import sys
import pyrometer
h = pyrometer.Histogram("mp_latency_seconds", "Latency.", native_histogram_bucket_factor=1.1)
for v in map(float, sys.argv[1].split(",")):
    h.observe(v)
"""


def _multiprocess_sidecar(directory):
    """Two workers write half the values each; the sidecar serves the directory."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    for half in (VALUES[:500], VALUES[500:]):
        subprocess.run([sys.executable, "-c", WORKER, ",".join(map(repr, half))], env=env, check=True, timeout=60)
    sidecar = subprocess.Popen([sys.executable, "-m", "pyrometer.multiprocess", "--dir", str(directory), "--port", "0"],
                               stdout=subprocess.PIPE, text=True)
    url = sidecar.stdout.readline().split(" on ")[1].strip()
    return sidecar, int(url.split(":")[2].split("/")[0])


def _rust_example():
    binary = ROOT / "target" / "debug" / "examples" / "native_histograms"
    if not binary.exists():
        subprocess.run(["cargo", "build", "-q", "-p", "pyrometer-export", "--example", "native_histograms"],
                       cwd=ROOT, check=True, timeout=900)
    return binary


class _Probe(http.server.BaseHTTPRequestHandler):
    """Answers an empty text exposition and keeps the Accept header of each scrape."""

    accepts = []

    def do_GET(self):
        _Probe.accepts.append(self.headers.get("Accept"))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """(native Prometheus, classic Prometheus, Python target port, probe accepts by port)."""
    require("prometheus")
    server, thread = _python_target()
    rust_port = free_port()
    rust = subprocess.Popen([str(_rust_example()), f"127.0.0.1:{rust_port}", str(int(TIMEOUT))],
                            stdout=subprocess.PIPE)
    assert rust.stdout.readline().startswith(b"http://")
    probes = [http.server.HTTPServer(("127.0.0.1", 0), _Probe) for _ in range(2)]
    probe_threads = [threading.Thread(target=p.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
                     for p in probes]
    for t in probe_threads:
        t.start()
    sidecar, sidecar_port = _multiprocess_sidecar(tmp_path_factory.mktemp("multiprocess"))
    targets = {"python": server.server_port, "rust": rust_port, "multiprocess": sidecar_port}
    native = peers.prometheus(tmp_path_factory.mktemp("native"), {**targets, "probe": probes[0].server_port},
                              ["--enable-feature=native-histograms"])
    classic = peers.prometheus(tmp_path_factory.mktemp("classic"), {**targets, "probe": probes[1].server_port})
    try:
        with native as native_url, classic as classic_url:
            yield native_url, classic_url, server.server_port
    finally:
        for process in (rust, sidecar):
            process.terminate()
            process.wait(TIMEOUT)
        for s, t in [(server, thread), *zip(probes, probe_threads)]:
            s.shutdown()
            s.server_close()
            t.join(TIMEOUT)


@pytest.fixture
def prometheus(servers):
    return servers[0]


def _by_job(result):
    return {s["metric"]["job"]: float(s["value"][1]) for s in result}


def _exact_quantile(q):
    ordered = sorted(VALUES)
    return ordered[math.ceil(q * len(ordered)) - 1]


@pytest.mark.parametrize("name", ["latency_seconds", "both_seconds"])
def test_prometheus_answers_native_histogram_queries(prometheus, name):
    names = {"python": f"py_{name}", "rust": f"rust_{name}"}
    if name == "latency_seconds":
        names["multiprocess"] = "mp_latency_seconds"
    for job, metric in names.items():
        _wait_for(prometheus, f'histogram_count({metric}{{job="{job}"}})', 1)
        counts = _by_job(_query(prometheus, f'histogram_count({metric}{{job="{job}"}})'))
        assert counts == {job: 1000.0}
        sums = _by_job(_query(prometheus, f'histogram_sum({metric}{{job="{job}"}})'))
        assert sums[job] == pytest.approx(sum(VALUES), rel=1e-12)
        for q in (0.5, 0.99):
            estimate = _by_job(_query(prometheus, f'histogram_quantile({q}, {metric}{{job="{job}"}})'))[job]
            exact = _exact_quantile(q)
            # Within one bucket: the schema's growth factor bounds the relative error.
            assert abs(estimate - exact) / exact <= 2 ** (2**-SCHEMA) - 1, (job, metric, q, estimate, exact)


def test_classic_buckets_beside_are_what_a_classic_scrape_sees(servers):
    _, classic, _ = servers
    for job, metric in (("python", "py_both_seconds"), ("rust", "rust_both_seconds")):
        buckets = _wait_for(classic, f'{metric}_bucket{{job="{job}"}}', 4)
        by_le = {s["metric"]["le"]: float(s["value"][1]) for s in buckets}
        assert by_le == {"0.01": float(sum(v <= 0.01 for v in VALUES)), "0.1": float(sum(v <= 0.1 for v in VALUES)),
                         "1.0": float(sum(v <= 1.0 for v in VALUES)), "+Inf": 1000.0}
        # Native buckets alone still show count and sum.
        counts = _by_job(_query(classic, f'{metric.replace("both", "latency")}_count{{job="{job}"}}'))
        assert counts == {job: 1000.0}
    # The native Prometheus stores the native series, not the classic one.
    native = servers[0]
    _wait_for(native, 'histogram_count(py_both_seconds{job="python"})', 1)
    assert _query(native, 'py_both_seconds_bucket{job="python"}') == []


def test_each_prometheus_gets_the_format_its_accept_header_asks_for(servers):
    _, _, python_port = servers
    _wait_for(servers[0], 'up{job="probe"}', 1)
    _wait_for(servers[1], 'up{job="probe"}', 1)
    accepts = set(_Probe.accepts)
    assert len(accepts) == 2, accepts
    served = {}
    for accept in accepts:
        request = urllib.request.Request(f"http://127.0.0.1:{python_port}/metrics", headers={"Accept": accept})
        with urllib.request.urlopen(request, timeout=10) as response:
            served[accept.split(";")[0]] = response.headers["Content-Type"]
    assert served == {
        "application/vnd.google.protobuf":
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
        "application/openmetrics-text": "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores",
    }
