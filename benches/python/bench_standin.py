"""What standing in for prometheus_client costs (pyrometer.standin).

* the start-up hook (``pyrometer_standin.pth``) with ``PYROMETER_AS_PROMETHEUS_CLIENT`` unset,
  as ``site`` runs it: every interpreter of the environment pays this;
* ``install()`` itself;
* importing ``prometheus_client`` and two submodules through the stand-in once the same
  pyrometer modules are imported (``install()`` and the import of its module included), beside
  the import of those pyrometer modules;
* interpreter start with the variable unset and set (set, the start imports pyrometer).

Run: ``.venv/bin/python benches/python/bench_standin.py`` (after ``make test`` built the module).
"""

import os
import statistics
import subprocess
import sys
import timeit
from pathlib import Path

PTH = Path(__file__).resolve().parents[2] / "python" / "pyrometer.data" / "purelib" / "pyrometer_standin.pth"
VARIABLE = "PYROMETER_AS_PROMETHEUS_CLIENT"


def pth_line_unset(number=20_000):
    """Microseconds to run the hook's line as ``site`` does (``exec`` of the line, compiled)."""
    line = next(line for line in PTH.read_text().splitlines() if line.startswith("import "))
    saved = os.environ.pop(VARIABLE, None)
    try:
        return min(timeit.repeat(lambda: exec(line), number=number, repeat=5)) / number * 1e6
    finally:
        if saved is not None:
            os.environ[VARIABLE] = saved


def child_environment(env):
    """This environment less the variable, plus `env`; bytecode caching on, as in production
    (a first, untimed run writes the caches)."""
    environment = {k: v for k, v in os.environ.items() if k not in (VARIABLE, "PYTHONDONTWRITEBYTECODE")}
    environment.update(env)
    return environment


def in_fresh_interpreter(code, env=None, runs=15):
    """The median of the microseconds `code` prints, each run in a new interpreter."""
    environment = child_environment(env or {})
    subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, check=True)
    samples = [
        float(subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    return statistics.median(samples)


DIRECT = """
import time
start = time.perf_counter()
import pyrometer, pyrometer.core, pyrometer.exposition
print((time.perf_counter() - start) * 1e6)
"""

# After the modules above: what the stand-in adds to get them as prometheus_client's.
STANDIN_ADDS = """
import time
import pyrometer, pyrometer.core, pyrometer.exposition
start = time.perf_counter()
pyrometer.install()
import prometheus_client, prometheus_client.core, prometheus_client.exposition
print((time.perf_counter() - start) * 1e6)
"""

INSTALL = """
import time
import pyrometer.standin
start = time.perf_counter()
pyrometer.standin.install()
print((time.perf_counter() - start) * 1e6)
"""


def interpreter_start(env, runs=15):
    """Median milliseconds of ``python -c pass``."""
    environment = child_environment(env)
    subprocess.run([sys.executable, "-c", "pass"], env=environment, check=True)
    times = []
    for _ in range(runs):
        start = timeit.default_timer()
        subprocess.run([sys.executable, "-c", "pass"], env=environment, check=True)
        times.append((timeit.default_timer() - start) * 1e3)
    return statistics.median(times)


def main():
    rows = (
        ("start-up hook, variable unset", pth_line_unset(), "us"),
        ("install(), its module imported", in_fresh_interpreter(INSTALL), "us"),
        ("import pyrometer, .core, .exposition", in_fresh_interpreter(DIRECT) / 1e3, "ms"),
        ("then as prometheus_client[.core, .exposition], install() included", in_fresh_interpreter(STANDIN_ADDS) / 1e3, "ms"),
        ("interpreter start, variable unset", interpreter_start({}), "ms"),
        ("interpreter start, variable set (imports pyrometer)", interpreter_start({VARIABLE: "1"}), "ms"),
    )
    for label, value, unit in rows:
        print(f"{label:<68} {value:>8.2f} {unit}")


if __name__ == "__main__":
    main()
