"""A full disk under the multiprocess store: the application keeps running. Store files take
their space before they map it, so the filesystem running out is an error the store handles
(the series is kept in the process alone, counted, and logged once), never a SIGBUS that kills
the process at its next write. The store directory is a 256 KiB tmpfs, mounted in a mount
namespace of the test's own (needs root, as CI runs)."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

SCRIPT = """
import logging, os, sys
logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = sys.argv[1]
import pyrometer
from pyrometer.multiprocess import MultiProcessCollector

requests = pyrometer.Counter("requests", "Requests.", ["path"])
for i in range(20000):
    requests.labels(f"/a/path/long/enough/to/fill/a/small/disk/soon/{i}").inc()
requests.labels("/a/path/long/enough/to/fill/a/small/disk/soon/0").inc()
merged = pyrometer.CollectorRegistry()
MultiProcessCollector(merged, sys.argv[1])
print("unstored", merged.get_sample_value("pyrometer_multiprocess_unstored_series_total"))
print("first", merged.get_sample_value("requests_total", {"path": "/a/path/long/enough/to/fill/a/small/disk/soon/0"}))
"""


def _run_on_a_small_disk(tmp_path, source):
    """Runs `source` with a 256 KiB tmpfs, mounted in a private mount namespace, as its argument."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("mounting a small tmpfs needs root and unshare")
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    disk = tmp_path / "disk"
    disk.mkdir()
    command = 'mount -t tmpfs -o size=256k tmpfs "$1" && exec "$2" "$3" "$1"'
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", command, "sh", str(disk), sys.executable, str(script)],
        capture_output=True, text=True, timeout=120,
    )


def test_a_full_disk_costs_the_store_series_not_the_process(tmp_path):
    result = _run_on_a_small_disk(tmp_path, SCRIPT)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stderr[-2000:]}"
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert float(lines["unstored"]) > 0
    # A series written before the disk filled is still in the store, both writes counted.
    assert float(lines["first"]) == 2.0
    warnings = [line for line in result.stderr.splitlines() if "kept out of the multiprocess store" in line]
    assert len(warnings) == 1, result.stderr[-2000:]
    assert "No space left on device" in warnings[0]


FULL_FROM_THE_START = """
import logging, os, sys
logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
# The disk is full before this process makes its file.
with open(os.path.join(sys.argv[1], "filler"), "wb", buffering=0) as f:
    try:
        while True:
            f.write(b"x" * 4096)
    except OSError:
        pass
os.environ["PROMETHEUS_MULTIPROC_DIR"] = sys.argv[1]
import pyrometer
from pyrometer.multiprocess import MultiProcessCollector

jobs = pyrometer.Counter("jobs", "Jobs.")
jobs.inc(2)
print("value", pyrometer.REGISTRY.get_sample_value("jobs_total"))
merged = pyrometer.CollectorRegistry()
MultiProcessCollector(merged, sys.argv[1])
print("unstored", merged.get_sample_value("pyrometer_multiprocess_unstored_series_total"))
print("left", ",".join(sorted(n for n in os.listdir(sys.argv[1]) if n != "filler")))
"""


def test_a_disk_full_before_the_first_file_costs_the_store_series_not_the_process(tmp_path):
    result = _run_on_a_small_disk(tmp_path, FULL_FROM_THE_START)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stderr[-2000:]}"
    lines = dict(line.split(" ", 1) if " " in line else (line, "") for line in result.stdout.splitlines())
    assert float(lines["value"]) == 2.0
    assert float(lines["unstored"]) >= 1
    # No file was left half made (a staging file, a process file without its space).
    assert all(not name.startswith(".new-") for name in lines["left"].split(",")), lines["left"]
    warnings = [line for line in result.stderr.splitlines() if "kept out of the multiprocess store" in line]
    assert len(warnings) == 1, result.stderr[-2000:]


TEXTFILE_ON_A_FULL_DISK = """
import sys
import prometheus_client, pyrometer

for lib in (prometheus_client, pyrometer):
    registry = lib.CollectorRegistry()
    lib.Info("big", "A large value.", registry=registry).info({"blob": "x" * 400_000})
    try:
        lib.write_to_textfile(sys.argv[1] + "/metrics.prom", registry)
        print(lib.__name__, "written")
    except OSError as e:
        print(lib.__name__, type(e).__name__, e.errno, repr(e.filename), str(e))
import os
print("left", sorted(os.listdir(sys.argv[1])))
"""


def test_a_textfile_on_a_full_disk_fails_as_upstream_s_and_leaves_nothing(tmp_path):
    result = _run_on_a_small_disk(tmp_path, TEXTFILE_ON_A_FULL_DISK)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stderr[-2000:]}"
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["prometheus_client"] == lines["pyrometer"], result.stdout
    assert lines["pyrometer"].startswith("OSError 28 None"), result.stdout
    assert lines["left"] == "[]"
