"""Multiprocess mode, as prometheus_client.multiprocess names it.

The names exist so that imports keep working; the shared-memory store that backs them is not
part of this release, and using them says so instead of collecting nothing.
"""

import os
from typing import Iterable, Optional

from .metrics_core import Metric
from .registry import CollectorRegistry

_NOT_AVAILABLE = "multiprocess mode is not available in this release of pyrometer"


def _directory(path: Optional[str]) -> str:
    path = path if path is not None else os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path or not os.path.isdir(path):
        raise ValueError("env PROMETHEUS_MULTIPROC_DIR is not set or not a directory")
    return path


class MultiProcessCollector:
    """Collects the metrics every process of a multiprocess application wrote."""

    def __init__(self, registry: Optional[CollectorRegistry], path: Optional[str] = None) -> None:
        self._path = _directory(path)
        raise NotImplementedError(_NOT_AVAILABLE)

    @staticmethod
    def merge(files: Iterable[str], accumulate: bool = True) -> Iterable[Metric]:
        """Merges the metrics of the given files."""
        raise NotImplementedError(_NOT_AVAILABLE)

    def collect(self) -> Iterable[Metric]:
        """The merged metrics of every process."""
        raise NotImplementedError(_NOT_AVAILABLE)


def mark_process_dead(pid: int, path: Optional[str] = None) -> None:
    """Removes the live-gauge files of a process that has exited."""
    _directory(path)
    raise NotImplementedError(_NOT_AVAILABLE)
