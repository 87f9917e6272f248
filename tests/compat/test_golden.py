"""The stored golden files are prometheus_client's output, and its parsers read them back.

pyrometer's Rust test `crates/pyrometer-expo/tests/golden.rs` compares pyrometer's output with the
same files, so together they prove byte-identical exposition.
"""

import math

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families as parse_text

import golden_scenarios as scenarios

# Scenarios whose OpenMetrics output prometheus_client's own parser refuses, and why.
OM_PARSER_REJECTS = {"histograms": "Counter-like samples cannot be NaN"}


def _flat(families):
    """Sample tuples (name, sorted labels, value) with NaN made comparable."""
    out = []
    for family in families:
        for s in family.samples:
            value = "NaN" if math.isnan(s.value) else float(s.value)
            out.append((s.name, tuple(sorted(s.labels.items())), value))
    return sorted(out, key=repr)


@pytest.mark.parametrize("name", sorted(scenarios.SCENARIOS))
def test_stored_golden_files_equal_prometheus_client_output(name):
    for file_name, data in scenarios.outputs(name):
        stored = (scenarios.GOLDEN_DIR / file_name).read_bytes()
        assert stored == data, f"{file_name} is stale: run python tests/compat/golden_scenarios.py"


@pytest.mark.parametrize("name", sorted(set(scenarios.SCENARIOS) - {"utf8_names"}))
def test_prometheus_client_parsers_read_golden_files_to_the_collected_values(name):
    registry = scenarios.build(name)
    scenarios.metrics.disable_created_metrics()
    try:
        want = _flat(registry.collect())
    finally:
        scenarios.metrics.enable_created_metrics()
    text = (scenarios.GOLDEN_DIR / f"{name}.underscores.txt").read_text(encoding="utf-8")
    om = (scenarios.GOLDEN_DIR / f"{name}.underscores.om").read_text(encoding="utf-8")
    assert _flat(parse_text(text)) == want
    if name in OM_PARSER_REJECTS:
        # prometheus_client writes what its own OpenMetrics parser refuses; pinned here so a
        # change upstream shows.
        with pytest.raises(ValueError, match=OM_PARSER_REJECTS[name]):
            _flat(parse_om(om))
        return
    # OpenMetrics sample names are escaped with label-name rules upstream: `:` becomes `_`.
    om_want = sorted(((n.replace(":", "_"), l, v) for n, l, v in want), key=repr)
    assert _flat(parse_om(om)) == om_want


def test_every_scenario_has_golden_files():
    stored = {p.name for p in scenarios.GOLDEN_DIR.iterdir()}
    expected = {f for name in scenarios.SCENARIOS for f, _ in scenarios.outputs(name)}
    assert expected <= stored
    assert len(expected) == 30
