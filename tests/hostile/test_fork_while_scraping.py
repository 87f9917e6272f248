"""``os.fork()`` while other threads scrape: the children must not inherit a lock held by a
scraping thread (before the gate, 2 to 4 children in 40 hung for ever on their first new
series). Children exit with ``sys.exit``, as servers' workers do, and with ``os._exit``."""

import subprocess
import sys
import textwrap

SCENARIO = """
import os, signal, sys, threading, time
import pyrometer

registry = pyrometer.CollectorRegistry()
requests = pyrometer.Counter("requests", "Requests.", ["path"], registry=registry)
for i in range(2000):
    requests.labels(str(i)).inc()
server, _ = pyrometer.start_http_server(0, addr="127.0.0.1", registry=registry)
stop = threading.Event()

def scrape():
    while not stop.is_set():
        pyrometer.generate_latest(registry)

threads = [threading.Thread(target=scrape, daemon=True) for _ in range(2)]
for thread in threads:
    thread.start()
hung = 0
for n in range(40):
    pid = os.fork()
    if pid == 0:
        requests.labels(f"child-{n}").inc()
        pyrometer.generate_latest(registry)
        if n % 2:
            os._exit(0)
        sys.exit(0)
    deadline = time.monotonic() + 10
    while not os.waitpid(pid, os.WNOHANG)[0]:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            hung += 1
            break
        time.sleep(0.005)
stop.set()
server.shutdown()
print("hung", hung)
"""


def test_forked_children_never_inherit_a_scrapes_locks(tmp_path):
    script = tmp_path / "fork_while_scraping.py"
    script.write_text(textwrap.dedent(SCENARIO))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["hung", "0"], result.stdout
