"""Two containers sharing a store directory run processes with the same pid (each its
namespace's pid 1): their per-process gauges stay apart instead of one hiding the other. Each
worker runs in a PID namespace of its own (`unshare --pid`, needs root, as CI runs)."""

import os
import shutil
import subprocess
import sys

import pytest

import pyrometer
from pyrometer.multiprocess import MultiProcessCollector

WORKER = """
import os, sys
import pyrometer
assert os.getpid() == 1, os.getpid()
for mode in ('liveall', 'all', 'livesum'):
    pyrometer.Gauge(f'g_{mode}', 'G.', multiprocess_mode=mode).set(int(sys.argv[1]))
print('ready', flush=True)
sys.stdin.readline()
"""


def test_equal_pids_of_two_namespaces_keep_their_own_series(tmp_path):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("PID namespaces need root and unshare")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    workers = []
    try:
        for value in (3, 4):
            worker = subprocess.Popen(
                ["unshare", "--pid", "--fork", sys.executable, "-c", WORKER, str(value)],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            workers.append(worker)
            assert worker.stdout.readline().strip() == "ready"
        registry = pyrometer.CollectorRegistry()
        MultiProcessCollector(registry, path=str(tmp_path))
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in registry.collect()
            for s in family.samples
        }
    finally:
        for worker in workers:
            worker.communicate("\n", timeout=30)
    for mode in ("liveall", "all"):
        mine = sorted(v for (name, _), v in samples.items() if name == f"g_{mode}")
        assert mine == [3.0, 4.0], samples
        pids = [dict(labels)["pid"] for (name, labels) in samples if name == f"g_{mode}"]
        assert "1" in pids and len(set(pids)) == 2, pids
    assert samples[("g_livesum", ())] == 7.0
