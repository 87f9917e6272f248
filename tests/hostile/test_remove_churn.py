"""Label sets set and removed by the tens of thousands leave a store file the size of the live
series, not of every series ever written: removed series' entries are reused."""

import os
import subprocess
import sys

import pyrometer
from pyrometer.multiprocess import MultiProcessCollector

WORKER = """
import os, sys
import pyrometer
g = pyrometer.Gauge('churn', 'Churned.', ['user'], multiprocess_mode='sum')
c = pyrometer.Counter('churn_events', 'Churned.', ['user'])
h = pyrometer.Histogram('churn_seconds', 'Churned.', ['user'], buckets=(0.1, 1.0))
def size():
    (name,) = [n for n in os.listdir(os.environ['PROMETHEUS_MULTIPROC_DIR']) if n.startswith('proc-')]
    return os.path.getsize(os.path.join(os.environ['PROMETHEUS_MULTIPROC_DIR'], name))
sizes = []
for i in range(int(sys.argv[1])):
    user = f'user-{i}'
    g.labels(user).set(1)
    c.labels(user=user).inc()
    h.labels(user).observe(0.5)
    for metric in (g, c, h):
        metric.remove(user)
    if i in (1_999, int(sys.argv[1]) - 1):
        sizes.append(size())
g.labels('last').set(2)
print(*sizes)
"""


def test_sixty_thousand_removed_label_sets_keep_the_file_within_twice_its_size_after_two_thousand(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", WORKER, "60000"], env=env, check=True, timeout=300, capture_output=True, text=True
    ).stdout
    after_2k, after_60k = map(int, out.split())
    assert after_60k <= 2 * after_2k, (after_2k, after_60k)
    # What the process left holds its live series only.
    registry = pyrometer.CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    text = pyrometer.generate_latest(registry).decode()
    assert 'churn{user="last"} 2.0' in text
    assert "user-" not in text
