"""gunicorn (from PyPI) with `--preload` and 4 sync workers serves an app whose registry layer
and vLLM set the master made before forking: every worker uses them as they are, nothing is
declared twice, and after N requests each total is exact, a worker killed with SIGKILL
included (its share stays counted, once)."""

import os
import signal
import sys
import time

import pytest

from pyrometer.parser import text_string_to_metric_families

from .peers import free_port, running
from .test_workers import APPS, TIMEOUT, _get, _multiprocess_dir, _traffic, _wait_for_workers, _worker_pids

NAMES = {
    "app_requests_total": (("path", "/work"),),
    "app_preloaded_total": (),
    "vllm:prompt_tokens_total": (("engine", "0"), ("model_name", "m")),
    "vllm:cache_config_info": (("block_size", "16"), ("engine", "0")),
}


def _totals(port):
    found = {}
    for family in text_string_to_metric_families(_get(port, "/metrics")[0]):
        for sample in family.samples:
            if NAMES.get(sample.name) == tuple(sorted(sample.labels.items())):
                found[sample.name] = sample.value
    return found


@pytest.fixture
def preloaded_server(tmp_path, monkeypatch):
    pytest.importorskip("gunicorn")
    directory = _multiprocess_dir(tmp_path, monkeypatch)
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--preload", "--workers", "4", "--bind", f"127.0.0.1:{port}",
               "--chdir", str(APPS), "layer_app:app"]  # fmt: skip
    with running(command, tmp_path / "server.log", port) as master:
        _wait_for_workers(master)
        yield master, port, directory, tmp_path / "server.log"


def _check(totals, served):
    requests = totals["app_requests_total"]
    # A request the killed worker counted but never answered may add one.
    assert served <= requests <= served + 1
    assert totals["app_preloaded_total"] == 1 + requests, "the master's count once, then one per request"
    assert totals["vllm:prompt_tokens_total"] == 2 * requests
    assert totals["vllm:cache_config_info"] == 1


def test_preloaded_workers_count_every_request_once(preloaded_server):
    master, port, _, log = preloaded_server
    workers, done = _traffic(port, 400)
    for w in workers:
        w.join(TIMEOUT)
    assert len(done) == 400
    assert _totals(port)["app_requests_total"] == 400
    _check(_totals(port), 400)
    assert "DuplicateTimeseries" not in log.read_text()


def test_a_killed_preloaded_worker_loses_nothing_it_counted(preloaded_server):
    master, port, directory, log = preloaded_server
    workers, done = _traffic(port, 800)
    seen = []
    for _ in range(3):
        time.sleep(0.2)
        seen.append(_totals(port).get("app_requests_total", 0.0))
    victim = _worker_pids(master)[0]
    os.kill(victim, signal.SIGKILL)
    for _ in range(5):
        seen.append(_totals(port).get("app_requests_total", 0.0))
        time.sleep(0.1)
    for w in workers:
        w.join(TIMEOUT)
    totals = _totals(port)
    seen.append(totals["app_requests_total"])
    assert seen == sorted(seen), f"a total went backwards: {seen}"
    _check(totals, len(done))
    assert not any(f"proc-{victim}-" in name for name in os.listdir(directory))
    assert "DuplicateTimeseries" not in log.read_text() and "panicked" not in log.read_text()
