"""gunicorn `--preload` whose master scrapes (its native server and a Python thread) while it
forks: workers restarting every few requests are forked beside those scrapes, and every one of
them boots and answers, so every request is served and counted once."""

import sys
import urllib.request

import pytest

from pyrometer.parser import text_string_to_metric_families

from .peers import free_port, running
from .test_workers import APPS, TIMEOUT, _multiprocess_dir, _traffic, _wait_for_workers


def test_workers_forked_beside_scraping_threads_all_serve(tmp_path, monkeypatch):
    pytest.importorskip("gunicorn")
    directory = _multiprocess_dir(tmp_path, monkeypatch)
    metrics_port = free_port()
    monkeypatch.setenv("METRICS_PORT", str(metrics_port))
    port = free_port()
    # Each worker ends (sys.exit) after 5 requests: about 80 forks over the run.
    command = [sys.executable, "-m", "gunicorn", "--preload", "--workers", "4", "--max-requests", "5",
               "--timeout", "20", "--bind", f"127.0.0.1:{port}", "--chdir", str(APPS),
               "scraped_master_app:app"]  # fmt: skip
    with running(command, tmp_path / "server.log", port) as master:
        _wait_for_workers(master)
        workers, done = _traffic(port, 400)
        for w in workers:
            w.join(TIMEOUT)
        assert len(done) == 400, "requests lost to workers that hung after the fork"
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as response:
            text = response.read().decode()
    totals = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
    assert totals["app_requests_total"] == 400
    log = (tmp_path / "server.log").read_text()
    assert "WORKER TIMEOUT" not in log, log[-3000:]
