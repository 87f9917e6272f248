"""Starting and stopping the real servers the end-to-end tests talk to."""

import os
import shutil
import socket
import subprocess

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
