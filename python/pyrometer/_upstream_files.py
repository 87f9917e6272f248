"""prometheus_client's own multiprocess files (``*.db``) found in pyrometer's store directory.

A process that runs prometheus_client itself (one the stand-in did not reach, or an older
release still draining) writes its series to files such as ``counter_123.db`` and
``gauge_livesum_123.db`` in the same ``PROMETHEUS_MULTIPROC_DIR``. pyrometer's store reads only
its own files (``proc-*.pyrostore``, ``archive.pyrostore``), so ``MultiProcessCollector``
registers an :class:`UpstreamFiles` beside itself, which looks for them at each scrape:

* with :mod:`pyrometer.mmap_dict` at hand, it merges them as prometheus_client does and adds the
  families that pyrometer's store does not have;
* a file it cannot read, or a family that pyrometer's store has too (the two cannot be added up
  after collection: both would be exposed, and a scraper refuses duplicate series), is left out
  with a ``UserWarning`` naming it, once per file or family in a process. Python prints it to
  stderr; ``logging.captureWarnings(True)`` sends it to the ``py.warnings`` logger instead.
"""

import importlib
import json
import os
import warnings
from collections import defaultdict
from typing import Any, Callable, DefaultDict, Dict, Iterable, Iterator, List, Optional, Set, Tuple

from . import _native
from .metrics_core import Metric
from .utils import floatToGoString

__all__ = ["UpstreamFiles", "merge"]

_Labels = Tuple[Tuple[str, str], ...]
# metric name, sample name, labels, help, value, timestamp
_Entry = Tuple[str, str, Dict[str, str], str, float, float]
_Reader = Callable[[str], Iterable[Tuple[Any, ...]]]

# The metric types that write multiprocess files, the first part of their names.
_TYPES = ("counter", "gauge", "histogram", "summary")

# Warned about already in this process: file paths and metric names.
_warned: Set[str] = set()


def _warn_once(subject: str, message: str) -> None:
    if subject not in _warned:
        _warned.add(subject)
        warnings.warn(message, UserWarning, stacklevel=2)


def _reader() -> Optional[_Reader]:
    """The reader of one ``.db`` file, if :mod:`pyrometer.mmap_dict` has one."""
    try:
        mmap_dict = importlib.import_module(".mmap_dict", __package__)
    except ImportError:
        return None
    read: Optional[_Reader] = getattr(getattr(mmap_dict, "MmapedDict", None), "read_all_values_from_file", None)
    return read


def _gauge_without_pid(mode: str) -> bool:
    # Every mode but all/liveall combines processes into one series.
    return mode not in ("all", "liveall")


def _merge_entries(files: Iterable[Tuple[str, List[_Entry]]], accumulate: bool) -> List[Metric]:
    """Families from the entries of each file, named ``<type>_<pid>.db`` or
    ``gauge_<mode>_<pid>.db``, combined by prometheus_client's rules."""
    # metric name -> (the family, its gauge mode, {(sample name, labels): value}, histogram
    # bucket counts by labels without `le` and by bound)
    families: Dict[str, Tuple[Metric, str, Dict[Tuple[str, _Labels], float], DefaultDict[_Labels, DefaultDict[float, float]]]] = {}
    latest: Dict[Tuple[str, _Labels], float] = {}  # timestamps, for (live)mostrecent gauges
    for path, entries in files:
        parts = os.path.basename(path)[: -len(".db")].split("_")
        typ = parts[0]
        mode = parts[1] if typ == "gauge" and len(parts) > 2 else ""
        pid = parts[-1]
        for metric_name, sample_name, labels, help_text, value, timestamp in entries:
            family = families.get(metric_name)
            if family is None:
                family = families[metric_name] = (
                    Metric(metric_name, help_text, typ),
                    mode,
                    {},
                    defaultdict(lambda: defaultdict(float)),
                )
            _, mode_of_family, samples, buckets = family
            label_items: _Labels = tuple(sorted((str(k), str(v)) for k, v in labels.items()))
            if typ == "gauge":
                if not _gauge_without_pid(mode_of_family):
                    label_items += (("pid", pid),)
                slot = (sample_name, label_items)
                if mode_of_family in ("min", "livemin"):
                    samples[slot] = min(value, samples.get(slot, value))
                elif mode_of_family in ("max", "livemax"):
                    samples[slot] = max(value, samples.get(slot, value))
                elif mode_of_family in ("sum", "livesum"):
                    samples[slot] = samples.get(slot, 0.0) + value
                elif mode_of_family in ("mostrecent", "livemostrecent"):
                    if slot not in samples or timestamp > latest.get(slot, 0.0):
                        samples[slot] = value
                        latest[slot] = timestamp
                else:
                    samples[slot] = value
            elif typ == "histogram" and "le" in labels:
                bound = float(labels["le"])
                without_le = tuple(item for item in label_items if item[0] != "le")
                buckets[without_le][bound] += value
            else:
                slot = (sample_name, label_items)
                samples[slot] = samples.get(slot, 0.0) + value
    merged = []
    for metric_name, (metric, _, samples, buckets) in families.items():
        for labels_without_le, counts in buckets.items():
            total = 0.0
            for bound, count in sorted(counts.items()):
                total += count
                le = (("le", floatToGoString(bound)),)
                samples[(metric_name + "_bucket", labels_without_le + le)] = total if accumulate else count
            if accumulate:
                samples[(metric_name + "_count", labels_without_le)] = total
        for (sample_name, label_items), value in samples.items():
            metric.add_sample(sample_name, dict(label_items), value)
        merged.append(metric)
    return merged


def _entries_of(read: _Reader, path: str) -> List[_Entry]:
    """The entries of one file, their keys parsed: all of them, or an exception."""
    entries = []
    for key, value, timestamp, *_ in read(path):
        metric_name, sample_name, labels, help_text = json.loads(key)
        if not (isinstance(labels, dict) and all(isinstance(n, str) for n in (metric_name, sample_name, help_text))):
            raise ValueError(f"unexpected key {key!r}")
        entries.append((metric_name, sample_name, labels, help_text, float(value), float(timestamp)))
    return entries


def merge(paths: Iterable[str], accumulate: bool = True) -> List[Metric]:
    """The families in these prometheus_client ``.db`` files, merged as prometheus_client's
    ``MultiProcessCollector.merge`` does (histogram buckets made cumulative when
    ``accumulate``). Raises ``RuntimeError`` without :mod:`pyrometer.mmap_dict`."""
    read = _reader()
    if read is None:
        raise RuntimeError("reading prometheus_client's .db files needs pyrometer.mmap_dict")
    return _merge_entries(((path, entries) for path in paths if (entries := _present_entries(read, path)) is not None),
                          accumulate)


def _present_entries(read: _Reader, path: str) -> Optional[List[_Entry]]:
    """A file's entries; ``None`` for a live gauge's file that has gone (its process was marked
    dead after the file was listed), which upstream skips too."""
    try:
        return _entries_of(read, path)
    except FileNotFoundError:
        parts = os.path.basename(path).split("_")
        if parts[0] == "gauge" and len(parts) > 1 and parts[1].startswith("live"):
            return None
        raise


class UpstreamFiles:
    """The collector of prometheus_client's ``.db`` files in a store directory, which
    ``MultiProcessCollector`` registers beside itself (see the module doc)."""

    def __init__(self, store: _native.MultiProcessCollector, directory: str) -> None:
        self._store = store
        self._directory = directory

    def describe(self) -> Iterable[Metric]:
        """No names: the files, and so their families, come and go."""
        return []

    def _paths(self) -> List[str]:
        try:
            with os.scandir(self._directory) as entries:
                return sorted(entry.path for entry in entries if entry.name.endswith(".db") and entry.is_file())
        except OSError:
            return []

    def _read(self, read: _Reader, paths: List[str]) -> Iterator[Tuple[str, List[_Entry]]]:
        for path in paths:
            try:
                yield path, _entries_of(read, path)
            except FileNotFoundError:
                pass  # gone since the listing: a live gauge's process was marked dead
            except Exception as error:  # noqa: BLE001 - a foreign file must not fail the scrape
                _warn_once(
                    path,
                    f"{path}: multiprocess file in prometheus_client's format, left out of the scrape: "
                    f"it could not be read ({error})",
                )

    def collect(self) -> List[Metric]:
        """The families of the ``.db`` files that pyrometer's store does not have."""
        paths = []
        for path in self._paths():
            if os.path.basename(path).partition("_")[0] in _TYPES:
                paths.append(path)
            else:
                _warn_once(path, f"{path}: not a multiprocess file of prometheus_client's, left out of the scrape")
        if not paths:
            return []
        read = _reader()
        if read is None:
            for path in paths:
                _warn_once(
                    path,
                    f"{path}: multiprocess file in prometheus_client's format, left out of the scrape: "
                    "pyrometer.mmap_dict, which reads such files, is missing",
                )
            return []
        families = _merge_entries(self._read(read, paths), accumulate=True)
        if not families:
            return []
        # Asked only while such files exist: it converts the whole store to Python objects.
        in_store = {family.name for family in _native.MultiProcessCollector.collect(self._store)}
        kept = []
        for family in families:
            if family.name in in_store:
                _warn_once(
                    "metric:" + family.name,
                    f"{family.name}: series from .db files in {self._directory} left out of the scrape: "
                    "pyrometer's store has the same metric, and the two are not added up",
                )
            else:
                kept.append(family)
        return kept
