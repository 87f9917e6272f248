"""Scrapes per second of a 10k-series registry under wrk, on loopback: pyrometer's native server
against prometheus_client's start_http_server, in the same run.

Each library serves from a process of its own (so that neither server competes with the other
for a GIL), and wrk loads one server at a time with the same settings. Run:
`.venv/bin/python benches/python/bench_http.py` after `make test` built the module; needs `wrk`.
"""

import re
import shutil
import subprocess
import sys

SERIES = 10_000
WRK = ["wrk", "--threads", "1", "--connections", "4", "--duration", "5s", "--timeout", "10s"]

SERVE = """
import sys, time, {lib} as lib
registry = lib.CollectorRegistry()
c = lib.Counter("http_requests_total", "Requests.", ["method", "path"], registry=registry)
for i in range({series}):
    c.labels(("GET", "POST", "PUT", "DELETE")[i % 4], f"/api/v1/resource/{{i // 4}}").inc(i % 1000 + 1)
server, thread = lib.start_http_server(0, addr="127.0.0.1", registry=registry)
print(server.server_port, flush=True)
sys.stdin.read()  # serve until the benchmark closes our stdin
"""


def scrapes_per_second(lib, accept):
    server = subprocess.Popen([sys.executable, "-c", SERVE.format(lib=lib, series=SERIES)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        headers = ["--header", f"Accept: {accept}"] if accept else []
        out = subprocess.run(WRK + headers + [f"http://127.0.0.1:{port}/metrics"], capture_output=True, text=True,
                             timeout=120, check=True).stdout
    finally:
        server.stdin.close()
        server.wait(30)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{lib}: {errors.group(1)} failed scrapes\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main():
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian package wrk)")
    print(f"{SERIES} series, {' '.join(WRK[1:])}")
    print(f"{'format':<14}{'prometheus_client':>20}{'pyrometer':>14}{'ratio':>9}")
    for name, accept in (("text", None), ("openmetrics", "application/openmetrics-text")):
        upstream = scrapes_per_second("prometheus_client", accept)
        ours = scrapes_per_second("pyrometer", accept)
        print(f"{name:<14}{upstream:>16.1f}/s{ours:>10.1f}/s{ours / upstream:>8.1f}x")


if __name__ == "__main__":
    main()
