"""Debian's carbon-cache receives what GraphiteBridge pushes and stores it in whisper files."""

import subprocess
import time

import pytest

import pyrometer
from pyrometer.bridge.graphite import GraphiteBridge

from .peers import free_port, require, running

TIMEOUT = 60.0


@pytest.fixture
def carbon(tmp_path):
    require("carbon-cache")
    require("whisper-fetch")
    port = free_port()
    (tmp_path / "storage-schemas.conf").write_text("[all]\npattern = .*\nretentions = 1s:1h\n")
    (tmp_path / "carbon.conf").write_text(
        "[cache]\n"
        f"STORAGE_DIR = {tmp_path}/storage/\n"
        f"LOCAL_DATA_DIR = {tmp_path}/whisper/\n"
        f"CONF_DIR = {tmp_path}/\n"
        f"LOG_DIR = {tmp_path}/log/\n"
        f"PID_DIR = {tmp_path}/\n"
        "USER =\n"
        "MAX_CACHE_SIZE = inf\nMAX_UPDATES_PER_SECOND = 5000\nMAX_CREATES_PER_MINUTE = inf\n"
        f"LINE_RECEIVER_INTERFACE = 127.0.0.1\nLINE_RECEIVER_PORT = {port}\n"
        f"PICKLE_RECEIVER_INTERFACE = 127.0.0.1\nPICKLE_RECEIVER_PORT = {free_port()}\n"
        f"CACHE_QUERY_INTERFACE = 127.0.0.1\nCACHE_QUERY_PORT = {free_port()}\n"
        "ENABLE_TAGS = False\n"
    )
    command = ["carbon-cache", f"--config={tmp_path / 'carbon.conf'}", "--nodaemon", f"--logdir={tmp_path / 'log'}",
               f"--pidfile={tmp_path / 'carbon.pid'}", "start"]
    with running(command, tmp_path / "carbon.out", port):
        yield ("127.0.0.1", port), tmp_path / "whisper"


def _stored(path, since):
    """The (timestamp, value) points of a whisper file from `since` on, once it has one."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if path.exists():
            fetched = subprocess.run(["whisper-fetch", f"--from={since - 5}", str(path)], capture_output=True,
                                     text=True, timeout=TIMEOUT)
            points = [line.split("\t") for line in fetched.stdout.splitlines()]
            points = [(int(t), float(v)) for t, v in points if v != "None"]
            if points:
                return points
        time.sleep(0.2)
    pytest.fail(f"{path} never held a point")


def test_carbon_stores_what_the_bridge_pushes(carbon):
    address, whisper = carbon
    registry = pyrometer.CollectorRegistry()
    requests = pyrometer.Counter("requests", "Requests.", ["method", "path"], registry=registry)
    requests.labels("GET", "/api/v1").inc(3)
    pyrometer.Gauge("temperature", "T.", registry=registry).set(-2.5)
    latency = pyrometer.Histogram("latency", "L.", buckets=[0.5], registry=registry)
    latency.observe(0.25)
    now = int(time.time())
    GraphiteBridge(address, registry=registry, _timer=lambda: now).push(prefix="app")

    assert _stored(whisper / "app/requests_total/method/GET/path/_api_v1.wsp", now) == [(now, 3.0)]
    assert _stored(whisper / "app/temperature.wsp", now) == [(now, -2.5)]
    assert _stored(whisper / "app/latency_bucket/le/0_5.wsp", now) == [(now, 1.0)]
    assert _stored(whisper / "app/latency_sum.wsp", now) == [(now, 0.25)]
