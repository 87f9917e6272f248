"""The OpenMetrics parser, as prometheus_client.openmetrics.parser has it; parsing is native.

``parse_labels`` is the text format's, with ``openmetrics=True`` for OpenMetrics' stricter rules.
"""

from typing import Iterator, TextIO

from .. import _native
from ..metrics_core import Metric
from ..parser import ESCAPE_SEQUENCES as ESCAPE_SEQUENCES
from ..parser import ESCAPING_RE as ESCAPING_RE
from ..parser import parse_labels as parse_labels
from ..samples import BucketSpan as BucketSpan
from ..samples import Exemplar as Exemplar
from ..samples import NativeHistogram as NativeHistogram
from ..samples import Sample as Sample
from ..samples import Timestamp as Timestamp
from ..utils import floatToGoString as floatToGoString


def text_string_to_metric_families(text: str) -> Iterator[Metric]:
    """The metric families of an OpenMetrics exposition, which must end with ``# EOF``."""
    yield from _native.parse_openmetrics(text)


def text_fd_to_metric_families(fd: TextIO) -> Iterator[Metric]:
    """The metric families of an OpenMetrics exposition read from a file."""
    yield from _native.parse_openmetrics(fd.read())
