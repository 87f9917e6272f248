"""The OpenMetrics parser, as prometheus_client.openmetrics.parser has it; parsing is native."""

from typing import Iterator, TextIO

from .. import _native
from ..metrics_core import Metric


def text_string_to_metric_families(text: str) -> Iterator[Metric]:
    """The metric families of an OpenMetrics exposition, which must end with ``# EOF``."""
    yield from _native.parse_openmetrics(text)


def text_fd_to_metric_families(fd: TextIO) -> Iterator[Metric]:
    """The metric families of an OpenMetrics exposition read from a file."""
    yield from _native.parse_openmetrics(fd.read())
