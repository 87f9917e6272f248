"""Debian's prometheus-pushgateway receives, replaces, adds to and deletes what pyrometer pushes."""

import time
import urllib.request

import pytest

import pyrometer
from pyrometer.parser import text_string_to_metric_families

from .peers import free_port, require, running

TIMEOUT = 60.0


@pytest.fixture
def gateway(tmp_path):
    require("prometheus-pushgateway")
    port = free_port()
    command = ["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{port}",
               f"--persistence.file={tmp_path / 'persistence'}"]
    with running(command, tmp_path / "pushgateway.log", port):
        yield f"127.0.0.1:{port}"


def _group(gateway, job):
    """{sample name: value} of the pushed samples of `job`, the gateway's own bookkeeping left out."""
    with urllib.request.urlopen(f"http://{gateway}/metrics", timeout=10) as response:
        text = response.read().decode()
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("job") == job and not sample.name.startswith("push_"):
                # An empty label is no label; the gateway adds `instance=""` to groups without one.
                labels = {k: v for k, v in sample.labels.items() if k != "job" and v}
                found[(sample.name, tuple(sorted(labels.items())))] = sample.value
    return found


def _registries():
    first = pyrometer.CollectorRegistry()
    pyrometer.Counter("jobs", "Jobs done.", registry=first).inc(4)
    pyrometer.Gauge("queue", "Queue length.", registry=first).set(7)
    second = pyrometer.CollectorRegistry()
    pyrometer.Gauge("queue", "Queue length.", registry=second).set(2)
    pyrometer.Gauge("workers", "Workers.", registry=second).set(3)
    return first, second


@pytest.mark.parametrize("compression", [None, "gzip"], ids=["plain", "gzip"])
def test_push_replaces_pushadd_adds_and_delete_removes_a_group(gateway, compression):
    first, second = _registries()
    key = {"instance": "host/1"}  # a '/' in a value goes base64 in the URL
    group = (("instance", "host/1"),)
    pyrometer.push_to_gateway(gateway, job="batch", registry=first, grouping_key=key, compression=compression)
    assert _group(gateway, "batch") == {
        ("jobs_total", group): 4.0, ("jobs_created", group): pytest.approx(time.time(), abs=600),
        ("queue", group): 7.0,
    }

    pyrometer.pushadd_to_gateway(gateway, job="batch", registry=second, grouping_key=key, compression=compression)
    added = _group(gateway, "batch")
    assert added[("jobs_total", group)] == 4.0
    assert added[("queue", group)] == 2.0 and added[("workers", group)] == 3.0

    pyrometer.push_to_gateway(gateway, job="batch", registry=second, grouping_key=key, compression=compression)
    assert _group(gateway, "batch") == {("queue", group): 2.0, ("workers", group): 3.0}

    pyrometer.delete_from_gateway(gateway, job="batch", grouping_key=key)
    assert _group(gateway, "batch") == {}


def test_groups_are_kept_apart(gateway):
    first, second = _registries()
    pyrometer.push_to_gateway(gateway, job="a", registry=first)
    pyrometer.push_to_gateway(gateway, job="b", registry=second)
    pyrometer.delete_from_gateway(gateway, job="a")
    assert _group(gateway, "a") == {}
    assert _group(gateway, "b") == {(("queue", ())): 2.0, ("workers", ()): 3.0}
