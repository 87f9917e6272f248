"""pyrometer and prometheus_client side by side, in one process, on identical workloads.

Prints nanoseconds per operation for each library and the ratio (prometheus_client time /
pyrometer time): the best of several runs, the libraries taking turns. Run:
`.venv/bin/python benches/python/bench.py` after `make test` built the module.
"""

import importlib
import math
import subprocess
import sys
import threading
import time
import timeit

LIBS = ("prometheus_client", "pyrometer")


def side_by_side(upstream, ours, rounds=7):
    """Nanoseconds per operation of each `(stmt, globals, number)`: the best of `rounds` runs,
    the two libraries taking turns, so that both meet the same moments of this shared machine."""
    timers = [(timeit.Timer(stmt, globals=env), number) for stmt, env, number in (upstream, ours)]
    best = [math.inf, math.inf]
    for _ in range(rounds):
        for i, (timer, number) in enumerate(timers):
            best[i] = min(best[i], timer.timeit(number) / number * 1e9)
    return best


def workloads(lib):
    registry = lib.CollectorRegistry()
    counter = lib.Counter("requests_total", "Requests.", registry=registry)
    labelled = lib.Counter("http_requests_total", "Requests.", ["method", "code"], registry=registry)
    for method in ("GET", "POST", "PUT", "DELETE"):
        for code in ("200", "201", "400", "404", "500"):
            labelled.labels(method, code).inc()
    child = labelled.labels("GET", "200")
    gauge = lib.Gauge("temperature", "Temperature.", registry=registry)
    histogram = lib.Histogram("latency_seconds", "Latency.", registry=registry)
    routes = lib.Histogram("route_latency_seconds", "Latency.", ["route"], registry=registry)
    routes.labels(route="/x").observe(0.1)
    summary = lib.Summary("size_bytes", "Size.", registry=registry)
    state = lib.Enum("state", "State.", states=["a", "b"], registry=registry)
    info = lib.Info("build", "Build.", registry=registry)
    env = {
        "counter": counter, "labelled": labelled, "child": child, "gauge": gauge, "histogram": histogram,
        "routes": routes, "summary": summary, "state": state, "info": info, "pairs": {"version": "1.2.3"},
    }
    return {
        "Counter.inc()": ("counter.inc()", env, 200_000),
        "labels('GET','200').inc()": ("labelled.labels('GET', '200').inc()", env, 100_000),
        "labels(method=,code=).inc()": ("labelled.labels(method='GET', code='200').inc()", env, 100_000),
        "cached child inc()": ("child.inc()", env, 200_000),
        "Gauge.set(v)": ("gauge.set(3.5)", env, 200_000),
        "Gauge.inc()": ("gauge.inc()", env, 200_000),
        "Gauge.dec()": ("gauge.dec()", env, 200_000),
        "Histogram.observe(v)": ("histogram.observe(0.3)", env, 200_000),
        "labels(route=).observe(v)": ("routes.labels(route='/x').observe(0.1)", env, 100_000),
        "Summary.observe(v)": ("summary.observe(0.3)", env, 200_000),
        "Enum.state('b')": ("state.state('b')", env, 200_000),
        "Info.info({...})": ("info.info(pairs)", env, 100_000),
        "Gauge.set_to_current_time()": ("gauge.set_to_current_time()", env, 100_000),
        "with h.time():": ("with histogram.time(): pass", env, 100_000),
    }


def two_threads(lib, increments=200_000):
    """Throughput of two threads incrementing one counter, relative to one thread doing the same work.

    1.0 means the second thread adds nothing and takes nothing away; below 1.0 they slow each other.
    """
    counter = lib.Counter("shared_total", "Shared.", registry=lib.CollectorRegistry())

    def work():
        inc = counter.inc
        for _ in range(increments):
            inc()

    def timed(threads):
        workers = [threading.Thread(target=work) for _ in range(threads)]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return time.perf_counter() - start

    one = min(timed(1) for _ in range(3))
    two = min(timed(2) for _ in range(3))
    return 2 * one / two


def layer_workloads(upstream, ours):
    """The registry layer's calls against what prometheus_client users write for the same
    update: `{row: (upstream workload, pyrometer workload)}`."""
    from pyrometer import prometheus_registry

    registry = upstream.CollectorRegistry()
    env_up = {
        "counter": upstream.Counter("layer_requests", "Requests.", ["route"], registry=registry),
        "plain": upstream.Counter("layer_plain", "Requests.", registry=registry),
        "histogram": upstream.Histogram("layer_latency_seconds", "Latency.", ["route"], registry=registry),
    }
    env_up["counter"].labels(route="/").inc()
    env_up["histogram"].labels(route="/").observe(0.2)
    layer = prometheus_registry.MetricsRegistry(registry=ours.CollectorRegistry())
    env_ours = {
        "counter": layer.counter("layer_requests", "Requests.", ["route"]),
        "plain": layer.counter("layer_plain", "Requests."),
        "histogram": layer.histogram("layer_latency_seconds", "Latency.", ["route"]),
        "labels": {"route": "/"},
    }
    env_ours["counter"].increment(labels=env_ours["labels"])
    env_ours["histogram"].observe(0.2, labels=env_ours["labels"])
    return {
        "layer increment(labels=...)": (
            ("counter.labels(route='/').inc()", env_up, 100_000),
            ("counter.increment(labels={'route': '/'})", env_ours, 100_000),
        ),
        "layer observe(v, labels=...)": (
            ("histogram.labels(route='/').observe(0.2)", env_up, 100_000),
            ("histogram.observe(0.2, labels={'route': '/'})", env_ours, 100_000),
        ),
        "layer increment(), no labels": (
            ("plain.inc()", env_up, 200_000),
            ("plain.increment()", env_ours, 200_000),
        ),
        "layer get(labels)": (
            ("counter.labels(route='/')._value.get()", env_up, 100_000),
            ("counter.get(labels)", env_ours, 100_000),
        ),
    }


def native_workloads(upstream, ours):
    """A native histogram's observe against prometheus_client's classic one (it has no native
    histograms), and against pyrometer's own classic one."""
    env_up = {"h": upstream.Histogram("up_latency_seconds", "Latency.", registry=upstream.CollectorRegistry())}
    registry = ours.CollectorRegistry()
    env_ours = {
        "native": ours.Histogram("native_seconds", "Latency.", registry=registry, native_histogram_bucket_factor=1.1),
        "classic": ours.Histogram("classic_seconds", "Latency.", registry=registry),
    }
    return {
        "native Histogram.observe(v)": (("h.observe(0.3)", env_up, 200_000), ("native.observe(0.3)", env_ours, 200_000)),
        "(ours) native over classic observe": (
            ("native.observe(0.3)", env_ours, 200_000), ("classic.observe(0.3)", env_ours, 200_000),
        ),
    }


def exposition(lib, series):
    registry = lib.CollectorRegistry()
    c = lib.Counter("http_requests_total", "Requests.", ["method", "path"], registry=registry)
    for i in range(series):
        c.labels(("GET", "POST", "PUT", "DELETE")[i % 4], f"/api/v1/resource/{i // 4}").inc(i % 1000 + 1)
    return ("generate_latest(registry)", {"generate_latest": lib.generate_latest, "registry": registry},
            max(1, 100_000 // series))


def import_ms(name):
    code = f"import time; t = time.perf_counter(); import {name}; print((time.perf_counter() - t) * 1000)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(5)]
    return min(runs)


LABEL_MEMORY = """
import ctypes, gc, sys
lib = __import__(sys.argv[1])
libc = ctypes.CDLL("libc.so.6")
def rss():
    gc.collect(); libc.malloc_trim(0)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
c = lib.Counter("c", "C.", ["a"])
c.labels("warm").inc()
before = rss()
for i in range(20):
    c.labels(chr(65 + i) * (1 << 20)).inc()  # the caller keeps no value
print((rss() - before) / 20 / (1 << 20))
"""


def label_memory_mib(name):
    """MiB a process holds per 1 MiB label value that the caller did not keep (one process each)."""
    out = subprocess.run([sys.executable, "-c", LABEL_MEMORY, name], capture_output=True, text=True, check=True)
    return float(out.stdout)


def main():
    libs = {name: importlib.import_module(name) for name in LIBS}
    rows = []
    upstream, ours = (workloads(libs[n]) for n in LIBS)
    for op in upstream:
        rows.append((op, *side_by_side(upstream[op], ours[op])))
    pairs = {**layer_workloads(libs["prometheus_client"], libs["pyrometer"]),
             **native_workloads(libs["prometheus_client"], libs["pyrometer"])}
    for op, (theirs, mine) in pairs.items():
        rows.append((op, *side_by_side(theirs, mine)))
    for series in (10_000, 100_000):
        a, b = side_by_side(exposition(libs["prometheus_client"], series), exposition(libs["pyrometer"], series), rounds=5)
        rows.append((f"generate_latest, {series // 1000}k series", a, b))
    a, b = import_ms("prometheus_client") * 1e6, import_ms("pyrometer") * 1e6
    rows.append(("import", a, b))
    print(f"{'operation':34} {'prometheus_client':>18} {'pyrometer':>14} {'ratio':>8}")
    for op, a, b in rows:
        print(f"{op:34} {fmt(a):>18} {fmt(b):>14} {a / b:>7.1f}x")
    memory = {name: label_memory_mib(name) for name in LIBS}
    print(f"{'MiB held per 1 MiB label value':34} {memory['prometheus_client']:>18.2f} {memory['pyrometer']:>14.2f}"
          f" {memory['prometheus_client'] / memory['pyrometer']:>7.2f}x")
    scaling = {name: two_threads(lib) for name, lib in libs.items()}
    print(f"{'two threads, one counter (x one)':34} {scaling['prometheus_client']:>17.2f}x {scaling['pyrometer']:>13.2f}x")


def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.2f} {unit}"
    return f"{ns:.0f} ns"


if __name__ == "__main__":
    main()
