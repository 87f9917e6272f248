"""What the registry layer's tests share: a layer on a registry of its own, its scrape read back by
prometheus_client's parser, Python scripts run in a fresh interpreter, and loopback stand-ins
for a StatsD server and an OTLP collector."""

import socket
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from prometheus_client.parser import text_string_to_metric_families

from pyrometer import CollectorRegistry, MetricsRegistry


def fresh(**kwargs):
    """A layer on a registry of its own."""
    return MetricsRegistry(registry=CollectorRegistry(), **kwargs)


def parsed(text):
    """Sample values by (name, sorted labels), read by prometheus_client's own parser."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scraped(layer):
    """What a scrape of the layer shows, as `parsed` reads it."""
    return parsed(layer.generate_latest().decode())


def run_script(tmp_path, code, name="scenario.py", timeout=60):
    """Runs `code` as a script file in a fresh interpreter (a file, so that `multiprocessing`'s
    spawn context can import it) and returns its standard output; fails with its standard error
    if it exits with an error or writes a Rust panic."""
    script = tmp_path / name
    script.write_text(textwrap.dedent(code))
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=timeout, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "panicked" not in result.stderr, result.stderr
    return result.stdout


class UdpSink:
    """A StatsD server stand-in: the lines it received."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.3)
        self.port = self.socket.getsockname()[1]

    def lines(self):
        out = []
        while True:
            try:
                out.extend(self.socket.recv(65536).decode().splitlines())
            except socket.timeout:
                return out


class OtlpSink:
    """An OTLP/HTTP collector stand-in: the decoded requests it received, each answered after
    `delay` seconds."""

    def __init__(self, delay=0.0):
        self.requests = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(delay)
                request = ExportMetricsServiceRequest()
                request.ParseFromString(body)
                sink.requests.append((self.path, self.headers["Content-Type"], request))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1/metrics"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
