"""gunicorn (4 sync workers) and uvicorn (4 workers), both from PyPI, serve an instrumented app in
multiprocess mode: after N requests the scraped counter is N exactly and the histogram counted N;
a worker killed with SIGKILL during traffic loses nothing it had counted, and totals never go
backwards."""

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from pyrometer.parser import text_string_to_metric_families

from .peers import free_port, running

TIMEOUT = 60.0
APPS = Path(__file__).parent / "apps"


def _get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.read().decode(), response.headers.get("X-Pid")


def _totals(port):
    values = {}
    for family in text_string_to_metric_families(_get(port, "/metrics")[0]):
        for sample in family.samples:
            if sample.name in ("app_requests_total", "app_latency_seconds_count"):
                values[sample.name] = sample.value
    return values.get("app_requests_total", 0.0), values.get("app_latency_seconds_count", 0.0)


def _server(kind, port, directory):
    if kind == "gunicorn":
        return [sys.executable, "-m", "gunicorn", "--workers", "4", "--bind", f"127.0.0.1:{port}",
                "--chdir", str(APPS), "wsgi_app:app"]
    return [sys.executable, "-m", "uvicorn", "--workers", "4", "--host", "127.0.0.1", "--port", str(port),
            "--app-dir", str(APPS), "asgi_app:app"]


def _worker_pids(master):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master.pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _wait_for_workers(master, count=4):
    """Waits (at most TIMEOUT) until the master has forked `count` workers."""
    deadline = time.monotonic() + TIMEOUT
    while len(_worker_pids(master)) < count and time.monotonic() < deadline:
        time.sleep(0.2)


def _multiprocess_dir(tmp_path, monkeypatch):
    """A fresh multiprocess directory, named in the environment the servers inherit."""
    directory = tmp_path / "multiproc"
    directory.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    return directory


@pytest.fixture(params=["gunicorn", "uvicorn"])
def server(request, tmp_path, monkeypatch):
    pytest.importorskip(request.param)
    directory = _multiprocess_dir(tmp_path, monkeypatch)
    port = free_port()
    with running(_server(request.param, port, directory), tmp_path / "server.log", port) as master:
        _wait_for_workers(master)
        yield master, port, directory


def _traffic(port, count, threads=8):
    done = []
    lock = threading.Lock()

    def client(n):
        for _ in range(n):
            try:
                _get(port, "/work")
                with lock:
                    done.append(1)
            except OSError:
                pass  # a request the killed worker was holding

    workers = [threading.Thread(target=client, args=(count // threads,)) for _ in range(threads)]
    for w in workers:
        w.start()
    return workers, done


def test_every_request_is_counted_exactly(server):
    master, port, _ = server
    workers, done = _traffic(port, 400)
    for w in workers:
        w.join(TIMEOUT)
    assert len(done) == 400
    assert _totals(port) == (400.0, 400.0)


def test_a_killed_worker_loses_nothing_it_counted(server):
    master, port, directory = server
    workers, done = _traffic(port, 800)
    seen = []
    for _ in range(3):
        time.sleep(0.2)
        seen.append(_totals(port)[0])
    victim = _worker_pids(master)[0]
    os.kill(victim, signal.SIGKILL)
    for _ in range(5):
        seen.append(_totals(port)[0])
        time.sleep(0.1)
    for w in workers:
        w.join(TIMEOUT)
    final_requests, final_observed = _totals(port)
    seen.append(final_requests)
    assert seen == sorted(seen), f"a total went backwards: {seen}"
    # Every answered request was counted; a request the victim counted but never answered may add one.
    assert len(done) <= final_requests <= len(done) + 1
    assert final_observed == final_requests
    # The victim's file was merged into the archive and removed.
    assert not any(f"proc-{victim}-" in name for name in os.listdir(directory))
