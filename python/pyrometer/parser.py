"""The Prometheus text format parser, as prometheus_client.parser has it; parsing is native."""

from typing import Iterator, TextIO

from . import _native
from .metrics_core import Metric


def text_string_to_metric_families(text: str) -> Iterator[Metric]:
    """The metric families of a text exposition. A bad line raises ``ValueError`` when reached."""
    yield from _native.parse_text(text)


def text_fd_to_metric_families(fd: TextIO) -> Iterator[Metric]:
    """The metric families of a text exposition read from a file."""
    yield from _native.parse_text(fd.read())
