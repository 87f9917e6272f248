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
