"""The multiprocess directory deleted under a running process: a scrape tells it once through
`logging` and shows nothing (as upstream's collector finds no file), instead of failing every
scrape or going on silently."""

import subprocess
import sys

WORKER = """
import logging, shutil, sys
logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
import pyrometer
from pyrometer.multiprocess import MultiProcessCollector
jobs = pyrometer.Counter("jobs", "Jobs.")
jobs.inc()
registry = pyrometer.CollectorRegistry()
MultiProcessCollector(registry, path=sys.argv[1])
assert b"jobs_total 1.0" in pyrometer.generate_latest(registry)
shutil.rmtree(sys.argv[1])
jobs.inc()
for _ in range(3):
    print(repr(pyrometer.generate_latest(registry).decode()))
"""


def test_a_deleted_directory_is_logged_once_and_scrapes_go_on(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(store), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(store)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["''"] * 3
    told = [line for line in done.stderr.splitlines() if "multiprocess directory is gone" in line]
    assert len(told) == 1 and told[0].startswith("pyrometer.multiprocess:"), done.stderr
