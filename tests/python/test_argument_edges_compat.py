"""Arguments at the edges of what upstream takes, run against both libraries: label values that
are not strings (made strings with ``str()``, a list included), ``copy.copy`` of a metric, and
a counter's NaN increments."""

import copy
import decimal

import pytest


def test_a_list_given_as_a_label_value_becomes_its_str(lib):
    registry = lib.CollectorRegistry()
    counter = lib.Counter("c", "Help.", ["a"], registry=registry)
    counter.labels(["x"]).inc()
    counter.labels(["x"]).inc()
    counter.labels(3).inc()
    assert registry.get_sample_value("c_total", {"a": "['x']"}) == 2
    assert registry.get_sample_value("c_total", {"a": "3"}) == 1


def test_a_copied_metric_writes_to_the_original_values(lib):
    registry = lib.CollectorRegistry()
    counter = lib.Counter("c", "Help.", registry=registry)
    copied = copy.copy(counter)
    copied.inc(2)
    counter.inc()
    assert registry.get_sample_value("c_total") == 3
    labelled = lib.Counter("l", "Help.", ["a"], registry=registry)
    copy.copy(labelled).labels("x").inc()
    assert registry.get_sample_value("l_total", {"a": "x"}) == 1


def test_a_decimal_nan_increment_raises_as_upstream_and_leaves_the_total(lib):
    registry = lib.CollectorRegistry()
    counter = lib.Counter("c", "Help.", registry=registry)
    counter.inc()
    for nan in (decimal.Decimal("nan"), decimal.Decimal("snan")):
        with pytest.raises(decimal.InvalidOperation):
            counter.inc(nan)
    assert registry.get_sample_value("c_total") == 1


def test_a_child_keeps_its_label_values_as_given_in_a_tuple(lib):
    counter = lib.Counter("c", "Help.", ["a", "b"], registry=lib.CollectorRegistry())
    long = "x" * (1 << 20)
    child = counter.labels(long, "y")
    # The caller's string itself, not a copy: a long value is held once on the Python side.
    assert child._labelvalues == (long, "y") and child._labelvalues[0] is long
    assert counter._labelvalues == ()
