"""Process metrics (CPU, memory, file descriptors, start time) read from a procfs tree."""

import os
from typing import Callable, Iterable, List, Optional, Union

from .metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from .registry import REGISTRY, Collector, CollectorRegistry

try:
    import resource
except ImportError:  # pragma: no cover - only on platforms without the resource module
    _PAGESIZE = 4096
else:
    _PAGESIZE = resource.getpagesize()


def _clock_ticks() -> float:
    """Kernel clock ticks per second, or 100 when the system cannot say."""
    try:
        return os.sysconf("SC_CLK_TCK")
    except (ValueError, TypeError, AttributeError, OSError):
        return 100.0


def _self_pid() -> Union[int, str]:
    """The procfs entry of the running process."""
    return "self"


class ProcessCollector(Collector):
    """Exports the process's CPU time, memory, open file descriptors and start time."""

    def __init__(
        self,
        namespace: str = "",
        pid: Callable[[], Union[int, str]] = _self_pid,
        proc: str = "/proc",
        registry: Optional[CollectorRegistry] = REGISTRY,
    ) -> None:
        self._namespace = namespace
        self._pid = pid
        self._proc = proc
        self._prefix = f"{namespace}_process_" if namespace else "process_"
        self._ticks: float = _clock_ticks()
        self._pagesize = _PAGESIZE
        # A falsy boot time means procfs is unusable and collect() reports nothing.
        self._btime: Optional[float] = 0
        try:
            self._btime = self._boot_time()
        except OSError:
            pass
        if registry:
            registry.register(self)

    def _boot_time(self) -> Optional[float]:
        """Seconds since the epoch at which the system booted, from the `btime` line of `<proc>/stat`."""
        with open(os.path.join(self._proc, "stat"), "rb") as system_stat:
            for line in system_stat:
                if line.startswith(b"btime "):
                    return float(line.split()[1])
        return None

    def _gauge(self, suffix: str, documentation: str, value: float) -> GaugeMetricFamily:
        return GaugeMetricFamily(self._prefix + suffix, documentation, value=value)

    def _stat_metrics(self, process_dir: str, btime: float) -> List[Metric]:
        """Memory, start time and CPU time from `<pid>/stat`."""
        with open(os.path.join(process_dir, "stat"), "rb") as process_stat:
            # The command name may hold spaces or parentheses; the fields of interest follow its last ')'.
            fields = process_stat.read().split(b")")[-1].split()
        virtual = self._gauge("virtual_memory_bytes", "Virtual memory size in bytes.", float(fields[20]))
        resident = self._gauge(
            "resident_memory_bytes", "Resident memory size in bytes.", float(fields[21]) * self._pagesize
        )
        started = self._gauge(
            "start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            float(fields[19]) / self._ticks + btime,
        )
        user_seconds = float(fields[11]) / self._ticks
        system_seconds = float(fields[12]) / self._ticks
        cpu = CounterMetricFamily(
            self._prefix + "cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            value=user_seconds + system_seconds,
        )
        return [virtual, resident, started, cpu]

    def _fd_metrics(self, process_dir: str) -> List[Metric]:
        """Open and maximum file descriptors, from `<pid>/fd` and `<pid>/limits`."""
        max_open: Optional[float] = None
        with open(os.path.join(process_dir, "limits"), "rb") as limits:
            for line in limits:
                if line.startswith(b"Max open file"):
                    max_open = float(line.split()[3])
                    break
        open_count = len(os.listdir(os.path.join(process_dir, "fd")))
        if max_open is None:
            return []
        return [
            self._gauge("open_fds", "Number of open file descriptors.", open_count),
            self._gauge("max_fds", "Maximum number of open file descriptors.", max_open),
        ]

    def collect(self) -> Iterable[Metric]:
        """Reads procfs afresh; any part that cannot be read is left out."""
        btime = self._btime
        if not btime:
            return []
        process_dir = os.path.join(self._proc, str(self._pid()).strip())
        metrics: List[Metric] = []
        try:
            metrics.extend(self._stat_metrics(process_dir, btime))
        except OSError:
            pass
        try:
            metrics.extend(self._fd_metrics(process_dir))
        except OSError:
            pass
        return metrics


PROCESS_COLLECTOR = ProcessCollector()
"""The process collector registered in the default registry."""
