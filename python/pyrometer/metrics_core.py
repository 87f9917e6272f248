"""Metric families for custom collectors, as prometheus_client.metrics_core defines them."""

from collections.abc import Container, Sequence
from typing import Optional, Union, cast

from .samples import Exemplar, NativeHistogram, Sample, Timestamp
from .validation import _validate_metric_name

__all__ = [
    "METRIC_TYPES",
    "CounterMetricFamily",
    "Exemplar",
    "GaugeHistogramMetricFamily",
    "GaugeMetricFamily",
    "HistogramMetricFamily",
    "InfoMetricFamily",
    "Metric",
    "NativeHistogram",
    "Sample",
    "StateSetMetricFamily",
    "SummaryMetricFamily",
    "Timestamp",
    "UnknownMetricFamily",
    "UntypedMetricFamily",
]

METRIC_TYPES = (
    'counter', 'gauge', 'summary', 'histogram',
    'gaugehistogram', 'unknown', 'info', 'stateset',
)

_ONE_OF_VALUE_OR_LABELS = 'Can only specify at most one of value and labels.'
_ONE_OF_BUCKETS_OR_LABELS = 'Can only specify at most one of buckets and labels.'

_TimestampLike = Union[Timestamp, float]
_Bucket = Union[tuple[str, float], tuple[str, float, Exemplar]]


class Metric:
    """One metric family: name, help, type, unit and its samples.

    Meant for the library's own use; custom collectors build the *MetricFamily classes below.
    """

    def __init__(self, name: str, documentation: str, typ: str, unit: str = '') -> None:
        if unit:
            suffix = '_' + unit
            if not name.endswith(suffix):
                name += suffix
        _validate_metric_name(name)
        self.name: str = name
        self.documentation: str = documentation
        self.unit: str = unit
        if typ == 'untyped':
            typ = 'unknown'
        if typ not in METRIC_TYPES:
            raise ValueError('Invalid metric type: ' + typ)
        self.type: str = typ
        self.samples: list[Sample] = []

    def add_sample(
        self,
        name: str,
        labels: dict[str, str],
        value: float,
        timestamp: Optional[_TimestampLike] = None,
        exemplar: Optional[Exemplar] = None,
        native_histogram: Optional[NativeHistogram] = None,
    ) -> None:
        """Append one sample (for the library's own use)."""
        self.samples.append(Sample(name, labels, value, timestamp, exemplar, native_histogram))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Metric):
            return False
        mine = (self.name, self.documentation, self.type, self.unit, self.samples)
        theirs = (other.name, other.documentation, other.type, other.unit, other.samples)
        return mine == theirs

    def __repr__(self) -> str:
        return f"Metric({self.name}, {self.documentation}, {self.type}, {self.unit}, {self.samples})"

    def _restricted_metric(self, names: Container[str]) -> Optional["Metric"]:
        """A copy holding only the samples whose names are in `names`, or None if there are none.

        Like upstream's, the copy is built without the unit.
        """
        kept = [sample for sample in self.samples if sample[0] in names]
        if not kept:
            return None
        copy = Metric(self.name, self.documentation, self.type)
        copy.samples = kept
        return copy


def _labelnames_for(labels: Optional[Sequence[str]], has_value: bool, message: str) -> tuple[str, ...]:
    """The family's label names; a family takes either one unlabelled value or label names, not both."""
    if labels is not None and has_value:
        raise ValueError(message)
    return tuple(labels) if labels is not None else ()


def _label_dict(labelnames: tuple[str, ...], labels: Sequence[str]) -> dict[str, str]:
    """Label names paired with values; extra names or values on either side are dropped."""
    return dict(zip(labelnames, labels))


class UnknownMetricFamily(Metric):
    """An unknown-type metric family, for custom collectors."""

    def __init__(
        self,
        name: str,
        documentation: str,
        value: Optional[float] = None,
        labels: Optional[Sequence[str]] = None,
        unit: str = '',
    ) -> None:
        Metric.__init__(self, name, documentation, 'unknown', unit)
        self._labelnames = _labelnames_for(labels, value is not None, _ONE_OF_VALUE_OR_LABELS)
        if value is not None:
            self.add_metric([], value)

    def add_metric(self, labels: Sequence[str], value: float, timestamp: Optional[_TimestampLike] = None) -> None:
        """Add one child given its label values and value."""
        self.samples.append(Sample(self.name, _label_dict(self._labelnames, labels), value, timestamp))


# The older name, still in use.
UntypedMetricFamily = UnknownMetricFamily


class CounterMetricFamily(Metric):
    """A counter family, for custom collectors; a trailing ``_total`` on the name is dropped."""

    def __init__(
        self,
        name: str,
        documentation: str,
        value: Optional[float] = None,
        labels: Optional[Sequence[str]] = None,
        created: Optional[float] = None,
        unit: str = '',
        exemplar: Optional[Exemplar] = None,
    ) -> None:
        # The family name has no _total; the sample name gets it back.
        if name.endswith('_total'):
            name = name[:-len('_total')]
        Metric.__init__(self, name, documentation, 'counter', unit)
        self._labelnames = _labelnames_for(labels, value is not None, _ONE_OF_VALUE_OR_LABELS)
        if value is not None:
            self.add_metric([], value, created, exemplar=exemplar)

    def add_metric(
        self,
        labels: Sequence[str],
        value: float,
        created: Optional[float] = None,
        timestamp: Optional[_TimestampLike] = None,
        exemplar: Optional[Exemplar] = None,
    ) -> None:
        """Add one child: its ``_total`` sample and, given `created`, its ``_created`` sample."""
        self.samples.append(
            Sample(self.name + '_total', _label_dict(self._labelnames, labels), value, timestamp, exemplar))
        if created is not None:
            self.samples.append(
                Sample(self.name + '_created', _label_dict(self._labelnames, labels), created, timestamp))


class GaugeMetricFamily(Metric):
    """A gauge family, for custom collectors."""

    def __init__(
        self,
        name: str,
        documentation: str,
        value: Optional[float] = None,
        labels: Optional[Sequence[str]] = None,
        unit: str = '',
    ) -> None:
        Metric.__init__(self, name, documentation, 'gauge', unit)
        self._labelnames = _labelnames_for(labels, value is not None, _ONE_OF_VALUE_OR_LABELS)
        if value is not None:
            self.add_metric([], value)

    def add_metric(self, labels: Sequence[str], value: float, timestamp: Optional[_TimestampLike] = None) -> None:
        """Add one child given its label values and value."""
        self.samples.append(Sample(self.name, _label_dict(self._labelnames, labels), value, timestamp))


class SummaryMetricFamily(Metric):
    """A summary family (count and sum only), for custom collectors."""

    def __init__(
        self,
        name: str,
        documentation: str,
        count_value: Optional[int] = None,
        sum_value: Optional[float] = None,
        labels: Optional[Sequence[str]] = None,
        unit: str = '',
    ) -> None:
        Metric.__init__(self, name, documentation, 'summary', unit)
        if (count_value is None) != (sum_value is None):
            raise ValueError('count_value and sum_value must be provided together.')
        self._labelnames = _labelnames_for(labels, count_value is not None, _ONE_OF_VALUE_OR_LABELS)
        if count_value is not None and sum_value is not None:
            self.add_metric([], count_value, sum_value)

    def add_metric(
        self,
        labels: Sequence[str],
        count_value: int,
        sum_value: float,
        timestamp: Optional[_TimestampLike] = None,
    ) -> None:
        """Add one child: its ``_count`` and ``_sum`` samples."""
        self.samples.append(Sample(self.name + '_count', _label_dict(self._labelnames, labels), count_value, timestamp))
        self.samples.append(Sample(self.name + '_sum', _label_dict(self._labelnames, labels), sum_value, timestamp))


class HistogramMetricFamily(Metric):
    """A histogram family, for custom collectors."""

    def __init__(
        self,
        name: str,
        documentation: str,
        buckets: Optional[Sequence[_Bucket]] = None,
        sum_value: Optional[float] = None,
        labels: Optional[Sequence[str]] = None,
        unit: str = '',
    ) -> None:
        Metric.__init__(self, name, documentation, 'histogram', unit)
        if buckets is None and sum_value is not None:
            raise ValueError('sum value cannot be provided without buckets.')
        self._labelnames = _labelnames_for(labels, buckets is not None, _ONE_OF_BUCKETS_OR_LABELS)
        if buckets is not None:
            self.add_metric([], buckets, sum_value)

    def add_metric(
        self,
        labels: Sequence[str],
        buckets: Sequence[_Bucket],
        sum_value: Optional[float],
        timestamp: Optional[_TimestampLike] = None,
    ) -> None:
        """Add one child from sorted ``(le, count)`` or ``(le, count, exemplar)`` buckets ending in +Inf.

        ``_count`` (the +Inf bucket) and ``_sum`` follow only when a sum is given and the
        first bound is not negative.
        """
        for entry in buckets:
            le, count = entry[:2]
            exemplar = entry[2] if len(entry) == 3 else None
            bucket_labels = _label_dict(self._labelnames, labels)
            bucket_labels['le'] = le
            self.samples.append(Sample(self.name + '_bucket', bucket_labels, count, timestamp, exemplar))
        if float(buckets[0][0]) >= 0 and sum_value is not None:
            total = buckets[-1][1]
            self.samples.append(Sample(self.name + '_count', _label_dict(self._labelnames, labels), total, timestamp))
            self.samples.append(Sample(self.name + '_sum', _label_dict(self._labelnames, labels), sum_value, timestamp))


class GaugeHistogramMetricFamily(Metric):
    """A gauge histogram family, for custom collectors."""

    def __init__(
        self,
        name: str,
        documentation: str,
        buckets: Optional[Sequence[tuple[str, float]]] = None,
        gsum_value: Optional[float] = None,
        labels: Optional[Sequence[str]] = None,
        unit: str = '',
    ) -> None:
        Metric.__init__(self, name, documentation, 'gaugehistogram', unit)
        self._labelnames = _labelnames_for(labels, buckets is not None, _ONE_OF_BUCKETS_OR_LABELS)
        if buckets is not None:
            self.add_metric([], buckets, gsum_value)

    def add_metric(
        self,
        labels: Sequence[str],
        buckets: Sequence[tuple[str, float]],
        gsum_value: Optional[float],
        timestamp: Optional[_TimestampLike] = None,
    ) -> None:
        """Add one child from sorted ``(le, count)`` buckets ending in +Inf, then ``_gcount`` and ``_gsum``.

        As upstream does, a None `gsum_value` is stored as is.
        """
        for le, count in buckets:
            bucket_labels = _label_dict(self._labelnames, labels)
            bucket_labels['le'] = le
            self.samples.append(Sample(self.name + '_bucket', bucket_labels, count, timestamp))
        gcount = buckets[-1][1]
        self.samples.append(Sample(self.name + '_gcount', _label_dict(self._labelnames, labels), gcount, timestamp))
        # None is allowed through here although exposition cannot render it.
        gsum = cast(float, gsum_value)
        self.samples.append(Sample(self.name + '_gsum', _label_dict(self._labelnames, labels), gsum, timestamp))


class InfoMetricFamily(Metric):
    """An info family, for custom collectors; each child is a set of labels with value 1."""

    def __init__(
        self,
        name: str,
        documentation: str,
        value: Optional[dict[str, str]] = None,
        labels: Optional[Sequence[str]] = None,
    ) -> None:
        Metric.__init__(self, name, documentation, 'info')
        self._labelnames = _labelnames_for(labels, value is not None, _ONE_OF_VALUE_OR_LABELS)
        if value is not None:
            self.add_metric([], value)

    def add_metric(
        self,
        labels: Sequence[str],
        value: dict[str, str],
        timestamp: Optional[_TimestampLike] = None,
    ) -> None:
        """Add one child: label values plus the info pairs in `value`, which win on a clash."""
        # Keyword expansion, so non-string keys raise TypeError as upstream's do.
        merged = dict(_label_dict(self._labelnames, labels), **value)
        self.samples.append(Sample(self.name + '_info', merged, 1, timestamp))


class StateSetMetricFamily(Metric):
    """A state set family, for custom collectors; one sample per state, 1 when set, else 0."""

    def __init__(
        self,
        name: str,
        documentation: str,
        value: Optional[dict[str, bool]] = None,
        labels: Optional[Sequence[str]] = None,
    ) -> None:
        Metric.__init__(self, name, documentation, 'stateset')
        self._labelnames = _labelnames_for(labels, value is not None, _ONE_OF_VALUE_OR_LABELS)
        if value is not None:
            self.add_metric([], value)

    def add_metric(
        self,
        labels: Sequence[str],
        value: dict[str, bool],
        timestamp: Optional[_TimestampLike] = None,
    ) -> None:
        """Add one child: a sample per state, in sorted order, labelled with the family name."""
        # The state label is paired positionally, so too few label values shift it, as upstream.
        label_values = tuple(labels)
        names = self._labelnames + (self.name,)
        for state, enabled in sorted(value.items()):
            values = label_values + (state,)
            self.samples.append(Sample(self.name, dict(zip(names, values)), 1 if enabled else 0, timestamp))
