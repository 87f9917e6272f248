"""Multiprocess mode, as prometheus_client.multiprocess has it, on pyrometer's store.

Set ``PROMETHEUS_MULTIPROC_DIR`` to an existing directory before metrics are created, and each
process writes its series to a memory-mapped file of its own there; serve a registry holding a
``MultiProcessCollector`` to expose every process's series merged. A process's file is locked
while the process lives, so the files of dead workers are found (after ``SIGKILL`` too) and
merged into an archive at the next scrape, with no hook: ``mark_process_dead`` is accepted but
no longer needed.
"""

import os
from typing import Iterable, List, Optional

from . import _native
from .metrics import Gauge as Gauge
from .metrics_core import Metric
from .mmap_dict import MmapedDict as MmapedDict
from .registry import CollectorRegistry
from .samples import Sample as Sample
from .utils import floatToGoString as floatToGoString

__all__ = ("MultiProcessCollector", "mark_process_dead")

# The gauge modes whose series leave with their process.
_LIVE_GAUGE_MULTIPROCESS_MODES = {"liveall", "livemin", "livemax", "livesum", "livemostrecent"}


class MultiProcessCollector(_native.MultiProcessCollector):
    """Collects the series every process of a multiprocess application wrote, merged:
    counters, histograms and summaries add up (dead processes included), gauges follow their
    ``multiprocess_mode``."""

    def __init__(self, registry: Optional[CollectorRegistry], path: Optional[str] = None) -> None:
        if registry:
            registry.register(self)
            # prometheus_client's own *.db files in the same directory are read, or reported:
            # never dropped silently.
            from ._upstream_files import UpstreamFiles

            directory = path or os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")
            registry.register(UpstreamFiles(self, directory or "."))

    @staticmethod
    def merge(files: Iterable[str], accumulate: bool = True) -> Iterable[Metric]:
        """The metrics of prometheus_client's own ``*.db`` files, merged by its rules (files
        that have gone are skipped). pyrometer's store has no such files: its processes are
        merged by directory, by collecting."""
        from . import _upstream_files

        return _upstream_files.merge(files, accumulate)


def mark_process_dead(pid: int, path: Optional[str] = None) -> None:
    """Merges now the files of processes that are dead. A real process needs no marking: its
    file is found by its released lock and merged at the next scrape anyway. A process this one
    stands in for (``values.ValueClass = MultiProcessValue(lambda: pid)``) is taken for dead
    from now on, as upstream's ``mark_process_dead`` has it."""
    path = path or os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")
    _native.retire_process(str(pid), path)
    if path and os.path.isdir(path):
        _native.MultiProcessCollector(None, path).reap()


def main(argv: Optional[List[str]] = None) -> None:
    """The sidecar: serves a store directory over HTTP for an application without a metrics
    endpoint of its own (``python -m pyrometer.multiprocess --dir DIR --port 9464``), and with
    ``--remote-write URL`` writes it to a remote-write receiver too."""
    import argparse
    import signal
    import threading

    from .exposition import start_http_server

    parser = argparse.ArgumentParser(prog="python -m pyrometer.multiprocess", description=main.__doc__)
    parser.add_argument("--dir", default=os.environ.get("PROMETHEUS_MULTIPROC_DIR"), help="the store directory")
    parser.add_argument("--addr", default="127.0.0.1", help="the address to listen on")
    parser.add_argument("--port", type=int, default=9464, help="the port to listen on (0: any free one)")
    parser.add_argument("--remote-write", metavar="URL", help="also write to this remote-write receiver")
    parser.add_argument("--remote-write-interval", type=float, default=15.0, metavar="S",
                        help="seconds between remote writes (15)")
    args = parser.parse_args(argv)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=args.dir)
    writer = None
    if args.remote_write:
        from .remote_write import RemoteWriter

        writer = RemoteWriter(args.remote_write, registry, args.remote_write_interval).start()
    server, thread = start_http_server(args.port, addr=args.addr, registry=registry)
    print(f"serving {args.dir} on http://{args.addr}:{server.server_port}/metrics", flush=True)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    if writer is not None:
        writer.close()
    server.shutdown()
    server.server_close()
    thread.join()


if __name__ == "__main__":
    main()
