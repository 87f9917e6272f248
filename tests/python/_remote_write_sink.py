"""A remote-write receiver stand-in on loopback, and the remote-write messages compiled by protoc
from ``proto/`` and read by the protobuf runtime: what the tests decode requests with, outside the
project's own (prost) code."""

import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cramjam
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

ROOT = pathlib.Path(__file__).resolve().parents[2]
STALE_NAN_BITS = 0x7FF0000000000002


def _messages():
    """`{"v1": WriteRequest, "v2": Request}`, the classes the protobuf runtime builds from the
    descriptors protoc compiles out of the project's .proto files."""
    if shutil.which("protoc") is None:
        if os.environ.get("PYROMETER_REQUIRE_PEERS") == "1":
            pytest.fail("protoc is not installed")
        pytest.skip("protoc is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "set.pb"
        subprocess.run(
            ["protoc", f"-I{ROOT / 'proto'}", "--include_imports", f"--descriptor_set_out={out}",
             "prometheus/remote.proto", "io/prometheus/write/v2/types.proto"],
            check=True,
        )
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    return {
        "v1": message_factory.GetMessageClass(pool.FindMessageTypeByName("prometheus.WriteRequest")),
        "v2": message_factory.GetMessageClass(pool.FindMessageTypeByName("io.prometheus.write.v2.Request")),
    }


class RemoteWriteSink:
    """Receives remote writes on loopback: each request's headers and body (decompressed, and
    decoded as 1.0 or 2.0 by its Content-Type; header names in lower case), answered with the next of `answers` (204 once
    they run out)."""

    def __init__(self, answers=()):
        self.messages = _messages()
        self.requests = []
        self.answers = list(answers)
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                body = bytes(cramjam.snappy.decompress_raw(raw))
                version = "v2" if "io.prometheus.write.v2" in self.headers["Content-Type"] else "v1"
                sink.requests.append(({k.lower(): v for k, v in self.headers.items()}, sink.messages[version].FromString(body)))
                status = sink.answers.pop(0) if sink.answers else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/v1/write"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def series(self):
        """Every v1 time series received: `(labels dict, [values], [histograms])`."""
        return [
            ({l.name: l.value for l in ts.labels}, [s.value for s in ts.samples], list(ts.histograms))
            for _, request in self.requests
            if hasattr(request, "metadata") and not hasattr(request, "symbols")
            for ts in request.timeseries
        ]

    def wait_for(self, count, timeout=10.0):
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"{len(self.requests)} requests, not {count}"
            time.sleep(0.02)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
