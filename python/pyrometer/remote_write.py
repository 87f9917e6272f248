"""Remote write: a registry written to a Prometheus remote-write receiver (Prometheus,
VictoriaMetrics, Mimir, Cortex, Thanos Receive) from inside the process.

Scraping suits long-lived processes a Prometheus can reach. Batch jobs, short-lived workers and
hosts behind NAT are better off writing their metrics to the fleet's TSDB themselves::

    from pyrometer.remote_write import RemoteWriter

    with RemoteWriter("http://victoria:8428/api/v1/write", interval=15) as writer:
        run_the_job()          # every 15 s, and once more at the end

The registry is collected on the interval (and at :meth:`RemoteWriter.flush` and
:meth:`RemoteWriter.close`) and its samples sent as a Prometheus scrape would store them, with
the ``external_labels`` added, over remote write 1.0 (``protocol="1.0"``, which every receiver
reads) or 2.0 (``"2.0"``: interned strings, metadata and start times). Native histograms travel
as native histograms. Collecting, queueing, compressing and sending run on a native thread,
off the GIL (only Python collectors in the registry take it while they are collected).

The queue is bounded (``max_pending_samples``, ``max_pending_bytes``): while the receiver is
down, points wait and are sent in order once it is back; beyond the bound the oldest are
dropped and counted. 5xx and 429 answers and broken connections are retried with jittered
exponential backoff between ``min_backoff`` and ``max_backoff`` (a ``Retry-After`` is honoured);
any other answer is final, its points counted as failed. A series that disappears from the
registry gets a staleness marker, and at :meth:`RemoteWriter.close` every series does (unless
``stale_on_close=False``), as Prometheus marks the series of a target that went away.

In multiprocess mode, give the writer the registry that merges every process's series (with a
``MultiProcessCollector``), in one process only, or run the sidecar:
``pyrometer multiprocess --dir DIR --remote-write URL``.

The writer's own counts are metrics of the registry it writes (``self_metrics=True``):
``pyrometer_remote_write_samples_{sent,failed,retried,dropped}_total``,
``pyrometer_remote_write_samples_pending`` and
``pyrometer_remote_write_last_success_timestamp_seconds``, labelled with the URL (the writers of
one registry share these families); and a dict, from :meth:`RemoteWriter.stats`.

A writer lives until :meth:`RemoteWriter.close` (or the end of its ``with`` block); writers
still open when the interpreter exits are closed then, so that a job's last values are written.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from types import TracebackType
from typing import Any, Dict, Mapping, Optional, Set, Tuple, Type, cast

from . import _native
from .registry import REGISTRY, CollectorRegistry

__all__ = ["RemoteWriter"]

# Writers not closed yet, held until closed: closed at exit, so that a job's last values are
# written.
_OPEN: Set["RemoteWriter"] = set()
_OPEN_LOCK = threading.Lock()
# The self-metrics collector of each registry that has writers reporting in it.
_SELF_METRICS: "weakref.WeakKeyDictionary[CollectorRegistry, _native.RemoteWriteMetrics]" = (
    weakref.WeakKeyDictionary()
)


class RemoteWriter:
    """Writes ``registry`` to the remote-write receiver at ``url`` every ``interval`` seconds
    once started. See the module documentation for what is sent and how failures are handled.

    Authentication is ``basic_auth=(user, password)`` or ``bearer_token``; ``headers`` are sent
    with every request (a tenant id, say). For an ``https://`` URL, ``tls_ca_file`` holds the
    authorities the receiver's certificate is checked against, ``tls_cert_file`` and
    ``tls_key_file`` a client certificate. Bad settings raise ``ValueError``.
    """

    def __init__(
        self,
        url: str,
        registry: CollectorRegistry = REGISTRY,
        interval: float = 15.0,
        *,
        protocol: str = "1.0",
        external_labels: Optional[Mapping[str, str]] = None,
        headers: Optional[Mapping[str, str]] = None,
        basic_auth: Optional[Tuple[str, str]] = None,
        bearer_token: Optional[str] = None,
        timeout: float = 30.0,
        max_samples_per_send: int = 2000,
        max_pending_samples: int = 100_000,
        max_pending_bytes: int = 64 << 20,
        batch_send_deadline: float = 5.0,
        shards: int = 4,
        min_backoff: float = 0.03,
        max_backoff: float = 5.0,
        native_histograms: bool = True,
        exemplars: bool = False,
        stale_on_close: bool = True,
        shutdown_timeout: float = 5.0,
        tls_ca_file: Optional[str] = None,
        tls_cert_file: Optional[str] = None,
        tls_key_file: Optional[str] = None,
        self_metrics: bool = True,
    ) -> None:
        self.url = url
        self._native = _native.RemoteWriter(
            registry,
            url,
            interval=interval,
            protocol=protocol,
            external_labels=dict(external_labels) if external_labels else None,
            headers=dict(headers) if headers else None,
            basic_auth=basic_auth,
            bearer_token=bearer_token,
            timeout=timeout,
            max_samples_per_send=max_samples_per_send,
            max_pending_samples=max_pending_samples,
            max_pending_bytes=max_pending_bytes,
            batch_send_deadline=batch_send_deadline,
            shards=shards,
            min_backoff=min_backoff,
            max_backoff=max_backoff,
            native_histograms=native_histograms,
            exemplars=exemplars,
            stale_on_close=stale_on_close,
            shutdown_timeout=shutdown_timeout,
            tls_ca_file=tls_ca_file,
            tls_cert_file=tls_cert_file,
            tls_key_file=tls_key_file,
        )
        self._registry: Optional[CollectorRegistry] = None
        if self_metrics:
            try:
                _report_in(registry, self._native)
            except ValueError as e:
                self._native.close()
                raise ValueError(f"the writer's self-metrics cannot be registered ({e}); pass self_metrics=False") from e
            self._registry = registry
        with _OPEN_LOCK:
            _OPEN.add(self)

    def start(self) -> "RemoteWriter":
        """Starts writing on the interval (the first write one interval from now)."""
        self._native.start()
        return self

    def flush(self, timeout: float = 30.0) -> bool:
        """Collects now and waits at most ``timeout`` seconds until everything queued is sent
        or given up; whether it was."""
        return self._native.flush(timeout)

    def close(self) -> None:
        """Collects a last time, marks the series stale, sends what is queued within
        ``shutdown_timeout`` and stops; its self-metrics leave the registry. Later calls do
        nothing. Writers still open when the interpreter exits are closed then."""
        self._native.close()
        registry, self._registry = self._registry, None
        if registry is not None:
            _stop_reporting_in(registry, self._native)
        with _OPEN_LOCK:
            _OPEN.discard(self)

    def stats(self) -> Dict[str, Any]:
        """Samples sent, failed, retried, dropped and pending, bytes pending, the time of the
        last accepted request and the last error."""
        return self._native.stats()

    def __enter__(self) -> "RemoteWriter":
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()


def _report_in(registry: CollectorRegistry, writer: _native.RemoteWriter) -> None:
    """Adds `writer`'s counts to the registry's self-metrics, registering them if new."""
    with _OPEN_LOCK:
        metrics = _SELF_METRICS.get(registry)
        if metrics is None:
            metrics = _native.RemoteWriteMetrics()
            registry.register(cast(Any, metrics))
            _SELF_METRICS[registry] = metrics
        metrics.add(writer)


def _stop_reporting_in(registry: CollectorRegistry, writer: _native.RemoteWriter) -> None:
    """Takes `writer`'s counts out of the registry's self-metrics, unregistered when empty."""
    with _OPEN_LOCK:
        metrics = _SELF_METRICS.get(registry)
        if metrics is not None and not metrics.remove(writer):
            del _SELF_METRICS[registry]
            try:
                registry.unregister(cast(Any, metrics))
            except KeyError:
                pass


@atexit.register
def _close_all() -> None:
    with _OPEN_LOCK:
        writers = list(_OPEN)
    for writer in writers:
        writer.close()
