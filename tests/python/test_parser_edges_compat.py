"""Parser input at the edges, against the reference: numbers beyond 64 bits, what ``float()``
strips, lone surrogates and digits of other scripts."""

import pytest

from prometheus_client.openmetrics.parser import text_string_to_metric_families as upstream_om
from pyrometer.openmetrics.parser import text_string_to_metric_families as ours_om
from pyrometer.parser import text_string_to_metric_families as ours_text


def test_a_twenty_digit_openmetrics_timestamp_is_read_as_the_reference_reads_it():
    text = "a 1 12345678901234567890\n# EOF\n"
    [ours], [theirs] = list(ours_om(text)), list(upstream_om(text))
    assert float(ours.samples[0].timestamp) == float(theirs.samples[0].timestamp)


@pytest.mark.parametrize("le", ["\x1f.1", "0.1\x1c"])
def test_a_bucket_bound_float_would_refuse_is_refused_as_the_reference_refuses_it(le):
    text = f'# TYPE h histogram\nh_bucket{{le="{le}"}} 1\nh_bucket{{le="+Inf"}} 1\nh_count 1\nh_sum 1\n# EOF\n'
    with pytest.raises(ValueError):
        list(upstream_om(text))
    with pytest.raises(ValueError):
        list(ours_om(text))


@pytest.mark.parametrize("parse", [ours_text, ours_om])
def test_a_lone_surrogate_is_a_value_error_naming_its_line(parse):
    # The reference reads it; no exposition can write it (it is not UTF-8): docs/compat.md.
    with pytest.raises(ValueError, match="line 2: Invalid text: a lone surrogate") as info:
        list(parse('a 1\nb{l="\ud800"} 1\n# EOF\n'))
    assert type(info.value) is ValueError


@pytest.mark.parametrize("parse", [ours_text, ours_om])
def test_digits_of_other_scripts_are_no_number(parse):
    # The reference's float() reads "١٢" as 12; the formats define ASCII numbers: docs/compat.md.
    with pytest.raises(ValueError, match="Invalid value"):
        list(parse("a \u0661\u0662\n# EOF\n"))
