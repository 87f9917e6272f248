"""prometheus_client's parsers read pyrometer's output for random families to the exact values.

The Rust example `random_exposition` writes random families (label values with escapes and
non-ASCII text, values across the whole float range) in both formats, plus the values it holds;
prometheus_client parses the text and must find exactly those, bit for bit.
"""

import math
import struct
import subprocess
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families as parse_text

ROOT = Path(__file__).resolve().parents[2]


def _expected(path):
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        name, labels, bits = line.split("\t")
        pairs = [p.split("=") for p in labels.split(",")] if labels else []
        decoded = tuple(sorted((bytes.fromhex(k).decode(), bytes.fromhex(v).decode()) for k, v in pairs))
        out.append((name, decoded, struct.unpack(">d", bytes.fromhex(bits))[0]))
    return out


def _key(value):
    return "NaN" if math.isnan(value) else struct.pack(">d", value)


def _flat(families):
    return sorted(((s.name, tuple(sorted(s.labels.items())), _key(s.value)) for f in families for s in f.samples),
                  key=repr)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_prometheus_client_reads_random_pyrometer_output_exactly(tmp_path, seed):
    subprocess.run(
        ["cargo", "run", "--quiet", "-p", "pyrometer-expo", "--example", "random_exposition", "--",
         str(tmp_path), str(seed)],
        cwd=ROOT, check=True,
    )
    want = sorted(((n, l, _key(v)) for n, l, v in _expected(tmp_path / "expected.tsv")), key=repr)
    assert len(want) > 100
    text = (tmp_path / "exposition.txt").read_text(encoding="utf-8")
    assert _flat(parse_text(text)) == want
    om = (tmp_path / "exposition.om").read_text(encoding="utf-8")
    # Upstream's OpenMetrics parser refuses NaN in counter-like samples; compare where it accepts.
    try:
        assert _flat(parse_om(om)) == want
    except ValueError as err:
        assert "cannot be NaN" in str(err)
