"""Our parsers read every golden exposition to the same Metric objects prometheus_client's parsers do."""

import importlib

import golden_scenarios as scenarios
import pytest

GOLDEN_FILES = sorted(p.name for p in scenarios.GOLDEN_DIR.iterdir())


def _parser(lib: str, openmetrics: bool):
    return importlib.import_module(f"{lib}.openmetrics.parser" if openmetrics else f"{lib}.parser")


def _model(families):
    """Everything a parsed family holds, as plain data (the two libraries' classes differ)."""
    out = []
    for m in families:
        samples = []
        for s in m.samples:
            exemplar = None if s.exemplar is None else (s.exemplar.labels, s.exemplar.value, repr(s.exemplar.timestamp))
            samples.append((s.name, s.labels, repr(s.value), repr(s.timestamp), exemplar))
        out.append((m.name, m.documentation, m.type, m.unit, samples))
    return out


def _parse(lib: str, text: str, openmetrics: bool):
    try:
        return _model(_parser(lib, openmetrics).text_string_to_metric_families(text))
    except ValueError:
        return "ValueError"


@pytest.mark.parametrize("file_name", GOLDEN_FILES)
def test_golden_files_parse_to_the_same_metric_objects(file_name):
    text = (scenarios.GOLDEN_DIR / file_name).read_text(encoding="utf-8")
    openmetrics = file_name.endswith(".om")
    assert _parse("pyrometer", text, openmetrics) == _parse("prometheus_client", text, openmetrics)


@pytest.mark.parametrize(
    "text, openmetrics",
    [
        ("a 1\n", True),  # no # EOF
        ("# TYPE a counter\na_total -1\n# EOF\n", True),
        ('a{b="c} 1\n', False),
        ("a notanumber\n", False),
        ("a{=\"x\"} 1\n", False),
        ("# EOF\nextra 1\n", True),
    ],
)
def test_bad_expositions_raise_value_error_in_both(text, openmetrics):
    assert _parse("pyrometer", text, openmetrics) == _parse("prometheus_client", text, openmetrics) == "ValueError"


def test_parse_errors_surface_when_iterated_as_upstream_generators_do():
    families = importlib.import_module("pyrometer.parser").text_string_to_metric_families('a{b="c} 1\n')
    with pytest.raises(ValueError):
        next(families)
