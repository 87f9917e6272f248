"""Multiprocess mode, pyrometer against prometheus_client on identical workloads, in one run.

1. The hot path with ``PROMETHEUS_MULTIPROC_DIR`` set (each library in a fresh interpreter),
   against pyrometer without it.
2. A scrape of 8 live workers with 1,000 series each, through each library's
   ``MultiProcessCollector``.

Run: ``.venv/bin/python benches/python/bench_multiprocess.py`` after ``make test`` built the
module. The churn of 10,000 dead workers is measured natively:
``cargo run --release -p pyrometer-benches --example store_churn``.
"""

import os
import subprocess
import sys
import tempfile
import textwrap
import time

LIBS = ("prometheus_client", "pyrometer")

HOT_PATH = textwrap.dedent(
    """
    import sys, timeit
    lib = __import__(sys.argv[1])
    r = lib.CollectorRegistry()
    c = lib.Counter("c", "C.", registry=r)
    h = lib.Histogram("h", "H.", registry=r)
    child = lib.Counter("l", "L.", ["method"], registry=r).labels("GET")
    def best(stmt, number=100_000):
        return min(timeit.repeat(stmt, globals=globals(), number=number, repeat=5)) / number * 1e9
    print(best("c.inc()"), best("child.inc()"), best("h.observe(0.2)"))
    """
)

WORKER = textwrap.dedent(
    """
    import sys
    lib = __import__(sys.argv[1])
    c = lib.Counter("requests", "Requests.", ["path"], registry=None)
    for i in range(int(sys.argv[2])):
        c.labels(f"/api/v1/resource/{i}").inc(i)
    print("ready", flush=True)
    sys.stdin.read()
    """
)


def hot_path(lib, directory):
    env = dict(os.environ)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if directory is not None:
        env["PROMETHEUS_MULTIPROC_DIR"] = directory
    out = subprocess.run([sys.executable, "-c", HOT_PATH, lib], env=env, capture_output=True, text=True, check=True)
    return [float(x) for x in out.stdout.split()]


def scrape_seconds(lib, workers=8, series=1000):
    with tempfile.TemporaryDirectory() as directory:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory}
        running = [subprocess.Popen([sys.executable, "-c", WORKER, lib, str(series)], env=env, text=True,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(workers)]
        try:
            for worker in running:
                assert worker.stdout.readline().strip() == "ready"
            module = __import__(lib)
            multiprocess = __import__(f"{lib}.multiprocess", fromlist=["MultiProcessCollector"])
            registry = module.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=directory)
            best = float("inf")
            for _ in range(5):
                start = time.perf_counter()
                module.generate_latest(registry)
                best = min(best, time.perf_counter() - start)
            return best
        finally:
            for worker in running:
                worker.stdin.close()
                worker.wait(60)


def main():
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        upstream = hot_path("prometheus_client", a)
        ours = hot_path("pyrometer", b)
    single = hot_path("pyrometer", None)
    print(f"{'operation':<22}{'prometheus_client mp':>22}{'pyrometer mp':>14}{'ratio':>8}{'pyrometer 1p':>14}{'mp/1p':>8}")
    for name, u, o, s in zip(("Counter.inc()", "child.inc()", "Histogram.observe(v)"), upstream, ours, single):
        print(f"{name:<22}{u:>19.0f} ns{o:>11.0f} ns{u / o:>7.1f}x{s:>11.0f} ns{o / s:>7.2f}x")
    upstream_scrape = scrape_seconds("prometheus_client")
    our_scrape = scrape_seconds("pyrometer")
    print(f"{'scrape 8 x 1,000':<22}{upstream_scrape * 1e3:>19.1f} ms{our_scrape * 1e3:>11.2f} ms"
          f"{upstream_scrape / our_scrape:>7.1f}x")


if __name__ == "__main__":
    main()
