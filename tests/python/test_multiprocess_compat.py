"""Multiprocess mode: the same scenario in several processes gives what prometheus_client's gives,
and dead processes (SIGKILL included) are merged with no hook while the directory stays bounded."""

import os
import signal
import subprocess
import sys
import textwrap
from importlib import import_module

import pytest

TIMEOUT = 60.0

WORKER = textwrap.dedent(
    """
    import os, sys
    lib = __import__(sys.argv[1])
    print(os.getpid(), flush=True)
    r = lib.CollectorRegistry()
    requests = lib.Counter("requests", "Requests.", ["method"], registry=r)
    requests.labels("GET").inc(3)
    requests.labels("POST").inc(0.5)
    for mode in ("all", "liveall", "min", "max", "sum", "livesum", "livemin", "livemax", "mostrecent",
                 "livemostrecent"):
        lib.Gauge(f"g_{mode}", "G.", multiprocess_mode=mode, registry=r).set(int(sys.argv[2]))
    latency = lib.Histogram("latency", "L.", ["path"], buckets=[0.5, 1.0], registry=r)
    for value in (0.2, 0.7, 3.0):
        latency.labels("/").observe(value)
    lib.Summary("size", "S.", registry=r).observe(10)
    if len(sys.argv) > 3:
        print("ready", flush=True)
        sys.stdin.read()
    """
)


def _run_workers(lib_name, directory, count, keep_alive=0):
    """Runs `count` workers to completion, telling upstream's store of each exit as its docs ask
    (`mark_process_dead`), and starts `keep_alive` more that wait; returns the waiting ones."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    multiprocess = import_module(f"{lib_name}.multiprocess")
    for i in range(count):
        done = subprocess.run([sys.executable, "-c", WORKER, lib_name, str(i + 1)], env=env, check=True,
                              timeout=TIMEOUT, capture_output=True, text=True)
        multiprocess.mark_process_dead(int(done.stdout.split()[0]), str(directory))
    alive = []
    for i in range(keep_alive):
        worker = subprocess.Popen([sys.executable, "-c", WORKER, lib_name, str(100 + i), "wait"], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        worker.stdout.readline()  # its pid
        assert worker.stdout.readline().strip() == "ready"
        alive.append(worker)
    return alive


def _scrape(lib, directory, created=False):
    """The merged samples, `pid` labels masked; `_created` samples (which neither library's
    merged view should have) left out unless asked for."""
    registry = lib.CollectorRegistry()
    import_module(f"{lib.__name__}.multiprocess").MultiProcessCollector(registry, path=str(directory))
    samples = set()
    for metric in registry.collect():
        for s in metric.samples:
            if s.name.endswith("_created") and not created:
                continue
            labels = tuple(sorted((k, "PID" if k == "pid" else v) for k, v in s.labels.items()))
            samples.add((s.name, labels, float(s.value)))
    return samples


def _stop(workers):
    for worker in workers:
        worker.stdin.close()
        worker.wait(TIMEOUT)


def test_merged_series_match_upstream(both, tmp_path):
    scraped = []
    for lib in both:
        directory = tmp_path / lib.__name__
        directory.mkdir()
        alive = _run_workers(lib.__name__, directory, count=2, keep_alive=1)
        try:
            scraped.append(_scrape(lib, directory))
        finally:
            _stop(alive)
    upstream, ours = scraped
    # Both keep every dead process's `all` gauge series; live modes drop the dead.
    assert ours == upstream
    assert ("requests_total", (("method", "GET"),), 9.0) in ours
    assert ("g_livesum", (), 100.0) in ours and ("g_max", (), 100.0) in ours and ("g_min", (), 1.0) in ours
    assert ("g_mostrecent", (), 100.0) in ours and ("g_livemostrecent", (), 100.0) in ours


def test_a_killed_worker_is_merged_without_a_hook(tmp_path):
    import pyrometer

    alive = _run_workers("pyrometer", tmp_path, count=0, keep_alive=2)
    os.kill(alive[0].pid, signal.SIGKILL)
    alive[0].wait(TIMEOUT)
    try:
        samples = _scrape(pyrometer, tmp_path)
    finally:
        _stop(alive[1:])
    assert ("requests_total", (("method", "GET"),), 6.0) in samples
    assert ("g_livesum", (), 101.0) in samples, "only the live worker's gauge counts"
    assert ("latency_count", (("path", "/"),), 6.0) in samples


def test_workers_that_come_and_go_leave_only_the_archive(tmp_path):
    import pyrometer

    _run_workers("pyrometer", tmp_path, count=40)
    samples = _scrape(pyrometer, tmp_path)
    assert ("requests_total", (("method", "GET"),), 120.0) in samples
    assert ("latency_bucket", (("le", "+Inf"), ("path", "/")), 120.0) in samples
    assert sorted(os.listdir(tmp_path)) == [".merge.lock", "archive.pyrostore"]


def test_a_missing_directory_is_refused_alike(both, tmp_path, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.delenv("prometheus_multiproc_dir", raising=False)
    raised = []
    for lib in both:
        with pytest.raises(ValueError) as info:
            import_module(f"{lib.__name__}.multiprocess").MultiProcessCollector(lib.CollectorRegistry(), path=str(tmp_path / "absent"))
        raised.append(str(info.value))
    assert raised[0] == raised[1]


def test_mark_process_dead_is_accepted(tmp_path):
    import pyrometer

    import_module("pyrometer.multiprocess").mark_process_dead(12345, path=str(tmp_path))


def test_the_sidecar_serves_the_directory(tmp_path):
    import urllib.request

    _run_workers("pyrometer", tmp_path, count=2)
    sidecar = subprocess.Popen([sys.executable, "-m", "pyrometer.multiprocess", "--dir", str(tmp_path), "--port", "0"],
                               stdout=subprocess.PIPE, text=True)
    try:
        url = sidecar.stdout.readline().split(" on ")[1].strip()
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            body = response.read().decode()
    finally:
        sidecar.send_signal(signal.SIGTERM)
        assert sidecar.wait(TIMEOUT) == 0
    assert 'requests_total{method="GET"} 6.0' in body


_SET_FUNCTION = textwrap.dedent(
    """
    import sys
    import pyrometer
    from pyrometer.multiprocess import MultiProcessCollector
    own = pyrometer.CollectorRegistry()
    g = pyrometer.Gauge("queue", "Q.", multiprocess_mode="max", registry=own)
    g.set(3)
    g.set_function(lambda: 7)
    merged = pyrometer.CollectorRegistry()
    MultiProcessCollector(merged, path=sys.argv[1])
    print(own.get_sample_value("queue"), merged.get_sample_value("queue"))
    """
)


def test_set_function_is_answered_by_the_process_itself(tmp_path):
    """The rule (docs/compat.md): a function is called by its own process's registry; the store,
    which other processes read, keeps what was set, raised and lowered."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", _SET_FUNCTION, str(tmp_path)], env=env, capture_output=True,
                         text=True, check=True, timeout=TIMEOUT).stdout.split()
    assert out == ["7.0", "3.0"]


_INFO_AND_ENUM = textwrap.dedent(
    """
    import sys, pyrometer as p
    r = p.CollectorRegistry()
    build = p.Info("build", "B.", registry=r)
    build.info({"version": "1.0"})
    build.info({"version": sys.argv[1]})  # replaces the pairs: 1.0 is no longer a series
    p.Enum("phase", "P.", states=["idle", "busy", "done"], registry=r).state(sys.argv[2])
    print("ready", flush=True)
    sys.stdin.read()
    """
)


def test_info_and_enum_merge_over_live_processes(tmp_path):
    """Not in upstream's multiprocess mode: an Info's pairs and an Enum's states show if some live
    process holds them, and leave with the last process that did."""
    import pyrometer

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    workers = [subprocess.Popen([sys.executable, "-c", _INFO_AND_ENUM, version, state], env=env, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
               for version, state in (("2.0", "busy"), ("2.0", "idle"))]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        samples = _scrape(pyrometer, tmp_path)
    finally:
        _stop(workers)
    assert samples == {
        ("build_info", (("version", "2.0"),), 1.0),
        ("phase", (("phase", "idle"),), 1.0),
        ("phase", (("phase", "busy"),), 1.0),
        ("phase", (("phase", "done"),), 0.0),
    }
    assert _scrape(pyrometer, tmp_path) == set()


@pytest.mark.parametrize("lib", ["prometheus_client", "pyrometer"])
def test_merged_families_have_no_created_series_as_upstream(lib, tmp_path):
    _run_workers(lib, tmp_path, count=2)
    scraped = _scrape(import_module(lib), tmp_path, created=True)
    assert scraped, "the workers' series are there"
    assert not [name for name, _, _ in scraped if name.endswith("_created")]


_REMOVE_AND_CLEAR = textwrap.dedent(
    """
    import sys, pyrometer as p
    from pyrometer.multiprocess import MultiProcessCollector
    r = p.CollectorRegistry()
    merged = p.CollectorRegistry()
    MultiProcessCollector(merged)
    def seen():
        return sorted((s.name, tuple(sorted(s.labels.items())), s.value)
                      for m in merged.collect() for s in m.samples if not s.name.endswith("_created"))
    requests = p.Counter("requests", "R.", ["method"], registry=r)
    latency = p.Histogram("latency", "L.", ["path"], buckets=[1.0], registry=r)
    requests.labels("GET").inc(2)
    requests.labels("POST").inc(3)
    latency.labels("/").observe(0.5)
    print(seen())
    requests.remove("GET")
    print(seen())
    latency.remove_by_labels({"path": "/"})
    requests.clear()
    print(seen())
    requests.labels("GET").inc()  # a new series, counting from zero
    print(seen())
    """
)


def test_remove_and_clear_take_the_process_share_out_of_the_merged_view(tmp_path):
    """Not in upstream's multiprocess mode, where a removed series stays in its file and keeps being
    scraped: here `remove`, `remove_by_labels` and `clear` mark the process's series removed in its
    file, so other processes' scrapes and the archive leave them out."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", _REMOVE_AND_CLEAR], env=env, capture_output=True, text=True,
                         check=True, timeout=TIMEOUT).stdout.splitlines()
    first, after_remove, after_clear, recreated = (eval(line) for line in out)
    assert ("requests_total", (("method", "GET"),), 2.0) in first
    assert ("latency_count", (("path", "/"),), 1.0) in first
    assert after_remove == [s for s in first if s[:2] != ("requests_total", (("method", "GET"),))]
    assert after_clear == []
    assert recreated == [("requests_total", (("method", "GET"),), 1.0)]
    # The process has ended: the archive holds what it left, and nothing it removed.
    import pyrometer

    assert _scrape(pyrometer, tmp_path) == {("requests_total", (("method", "GET"),), 1.0)}


_EXEMPLARS = textwrap.dedent(
    """
    import sys, pyrometer as p
    r = p.CollectorRegistry()
    p.Counter("requests", "R.", registry=r).inc(exemplar={"trace_id": sys.argv[1]})
    p.Histogram("latency", "L.", buckets=[0.5, 1.0], registry=r).observe(0.7, {"trace_id": sys.argv[1]})
    """
)


def test_exemplars_reach_other_processes_scrapes(tmp_path):
    """Not in upstream's multiprocess mode, which drops exemplars: the latest exemplar any process
    wrote for a series is exposed with it, the way one process's registry exposes its own."""
    import pyrometer
    from pyrometer.openmetrics.exposition import generate_latest

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for trace in ("first", "second"):
        subprocess.run([sys.executable, "-c", _EXEMPLARS, trace], env=env, check=True, timeout=TIMEOUT)
    registry = pyrometer.CollectorRegistry()
    pyrometer.multiprocess.MultiProcessCollector(registry, str(tmp_path))
    lines = generate_latest(registry).decode().splitlines()
    total = next(line for line in lines if line.startswith("requests_total "))
    bucket = next(line for line in lines if line.startswith('latency_bucket{le="1.0"}'))
    assert total.startswith('requests_total 2.0 # {trace_id="second"} 1.0 '), total
    assert bucket.startswith('latency_bucket{le="1.0"} 2.0 # {trace_id="second"} 0.7 '), bucket
    # The same line as one process's own registry writes, but for the counts and the time.
    single = pyrometer.CollectorRegistry()
    pyrometer.Counter("requests", "R.", registry=single).inc(exemplar={"trace_id": "second"})
    own = next(line for line in generate_latest(single).decode().splitlines() if line.startswith("requests_total"))
    assert own.split(" # ")[1].rsplit(" ", 1)[0] == total.split(" # ")[1].rsplit(" ", 1)[0]
