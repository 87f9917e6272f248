"""A store file that cannot be read is logged (once per file) and counted in a metric of its
own, never dropped without a trace."""

import logging
import os
import subprocess
import sys

import pyrometer
from pyrometer.multiprocess import MultiProcessCollector

WORKER = "import pyrometer; pyrometer.Counter('jobs', 'Jobs.').inc(3)"


def test_a_corrupt_file_of_a_dead_process_is_logged_once_and_counted(tmp_path, caplog):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", WORKER], env=env, check=True, timeout=60)
    files = sorted(p for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert len(files) == 2, files
    # One worker's file torn: its header is there, its entries are not.
    with open(files[0], "r+b") as f:
        f.truncate(70)
    registry = pyrometer.CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="pyrometer.multiprocess"):
        first = pyrometer.generate_latest(registry).decode()
        second = pyrometer.generate_latest(registry).decode()
    warnings = [r for r in caplog.records if r.name == "pyrometer.multiprocess"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert files[0].name in warnings[0].getMessage()
    for text in (first, second):
        assert "jobs_total 3.0" in text
        assert "pyrometer_multiprocess_unreadable_files_total 1.0" in text


def test_a_healthy_directory_shows_no_such_metric(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", WORKER], env=env, check=True, timeout=60)
    registry = pyrometer.CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    assert "unreadable" not in pyrometer.generate_latest(registry).decode()


def test_what_can_be_read_of_a_torn_file_is_kept(tmp_path, caplog):
    worker = "import pyrometer; pyrometer.Counter('first', 'F.').inc(3); pyrometer.Counter('second', 'S.').inc(4)"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", worker], env=env, check=True, timeout=60)
    (path,) = [p for p in tmp_path.iterdir() if p.name.startswith("proc-")]
    data = bytearray(path.read_bytes())
    # The entry of `second` (the first whose key holds the name) gets a merge rule no writer
    # uses. Entries follow the 64-byte header, each starting with its length (u32).
    at, name = 64, data.index(b"second")
    while at + int.from_bytes(data[at:at + 4], "little") <= name:
        at += int.from_bytes(data[at:at + 4], "little")
    data[at + 6] = 0x77
    path.write_bytes(bytes(data))
    registry = pyrometer.CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="pyrometer.multiprocess"):
        text = pyrometer.generate_latest(registry).decode()
    assert "first_total 3.0" in text, text
    assert "second_total" not in text
    assert "pyrometer_multiprocess_unreadable_files_total 1.0" in text
    assert len([r for r in caplog.records if r.name == "pyrometer.multiprocess"]) == 1
    # Merged into the archive, and set aside for inspection.
    assert sorted(p.suffix for p in tmp_path.iterdir() if not p.name.startswith(".")) == [".corrupt", ".pyrostore"]
    assert "first_total 3.0" in pyrometer.generate_latest(registry).decode()
