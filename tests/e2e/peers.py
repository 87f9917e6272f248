"""Starting and stopping the real servers the end-to-end tests talk to."""

import contextlib
import os
import shutil
import socket
import subprocess
import time

import pytest

TIMEOUT = 60.0


def require(binary):
    """Skips the test when `binary` is missing, or fails it where CI has installed the peers."""
    if shutil.which(binary) is None:
        if os.environ.get("PYROMETER_REQUIRE_PEERS") == "1":
            pytest.fail(f"{binary} is not installed")
        pytest.skip(f"{binary} is not installed")


def free_port():
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process):
    """Terminates a server, killing it if it does not go."""
    process.terminate()
    try:
        process.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(TIMEOUT)


@contextlib.contextmanager
def running(command, log_path, port=None):
    """Runs a server for the duration of a `with`, its output in `log_path`; with `port`, enters
    only once the server listens there on loopback (failing with its log if it dies first)."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + TIMEOUT
            while port is not None:
                assert process.poll() is None, f"{command[0]} stopped:\n{log_path.read_text()}"
                try:
                    socket.create_connection(("127.0.0.1", port), 1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, f"{command[0]} never listened on {port}"
                    time.sleep(0.2)
            yield process
        finally:
            stop(process)


@contextlib.contextmanager
def prometheus(tmp_path, targets, flags=(), port=None):
    """A Prometheus on loopback scraping each `{job: port}` every second, its URL for a `with`.
    Its data stays in `tmp_path`, so that one started again on the same `port` has it."""
    require("prometheus")
    jobs = "".join(
        f"  - job_name: {job}\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        for job, port in targets.items()
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(f"global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n{jobs}")
    port = port or free_port()
    command = ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
               f"--web.listen-address=127.0.0.1:{port}", *flags]
    with running(command, tmp_path / "prometheus.log", port):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def victoria_metrics(tmp_path, port=None):
    """A VictoriaMetrics on loopback answering queries on what it got at once, its URL for a
    `with`. Its data stays in `tmp_path`, so that one started again on the same `port` has it."""
    require("victoria-metrics")
    port = port or free_port()
    command = ["victoria-metrics", f"-storageDataPath={tmp_path / 'vm-data'}", f"-httpListenAddr=127.0.0.1:{port}",
               "-search.latencyOffset=0s", "-search.disableCache", "-loggerLevel=WARN"]
    with running(command, tmp_path / "victoria-metrics.log", port):
        yield f"http://127.0.0.1:{port}"
