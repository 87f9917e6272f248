"""Sample records and their parts, as prometheus_client.samples defines them."""

from typing import NamedTuple, Optional, Sequence, Union


class Timestamp:
    """A point in time held as whole seconds plus nanoseconds."""

    def __init__(self, sec: float, nsec: float) -> None:
        # Written so that a NaN passes here and fails in int() below, as upstream's does.
        if nsec < 0 or nsec >= 1e9:
            raise ValueError(f"Invalid value for nanoseconds in Timestamp: {nsec}")
        # Before the epoch both parts carry the sign.
        if sec < 0:
            nsec = -nsec
        self.sec: int = int(sec)
        self.nsec: int = int(nsec)

    def __str__(self) -> str:
        return f"{self.sec}.{self.nsec:09d}"

    def __repr__(self) -> str:
        return f"Timestamp({self.sec}, {self.nsec})"

    def __float__(self) -> float:
        return float(self.sec) + float(self.nsec) / 1e9

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timestamp):
            return False
        return (self.sec, self.nsec) == (other.sec, other.nsec)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __gt__(self, other: "Timestamp") -> bool:
        if self.sec != other.sec:
            return self.sec > other.sec
        return self.nsec > other.nsec

    def __lt__(self, other: "Timestamp") -> bool:
        if self.sec != other.sec:
            return self.sec < other.sec
        return self.nsec < other.nsec


class BucketSpan(NamedTuple):
    """A run of consecutive native-histogram buckets (experimental)."""

    offset: int
    length: int


class Exemplar(NamedTuple):
    """An example observation attached to a sample; the timestamp is optional."""

    labels: dict[str, str]
    value: float
    timestamp: Optional[Union[float, Timestamp]] = None


class NativeHistogram(NamedTuple):
    """The sparse-bucket payload of a native histogram sample (experimental)."""

    count_value: float
    sum_value: float
    schema: int
    zero_threshold: float
    zero_count: float
    pos_spans: Optional[Sequence[BucketSpan]] = None
    neg_spans: Optional[Sequence[BucketSpan]] = None
    pos_deltas: Optional[Sequence[int]] = None
    neg_deltas: Optional[Sequence[int]] = None
    nh_exemplars: Optional[Sequence[Exemplar]] = None


class Sample(NamedTuple):
    """One time series value; timestamp, exemplar and native histogram are optional."""

    name: str
    labels: dict[str, str]
    value: float
    timestamp: Optional[Union[float, Timestamp]] = None
    exemplar: Optional[Exemplar] = None
    native_histogram: Optional[NativeHistogram] = None
