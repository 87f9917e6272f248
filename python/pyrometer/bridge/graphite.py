"""``GraphiteBridge``: pushes a registry to Graphite's plaintext port, now or on an interval.

Lines are built natively: ``path value timestamp``, the path being the sample name and its
labels in name order (``.name.value``, or ``;name=value`` with ``tags=True``), every part
sanitised to ``[a-zA-Z0-9_-]``.
"""

import logging
import re
import socket
import threading
import time
from typing import Callable, Optional, Tuple

from .. import _native
from ..registry import REGISTRY, Collector

__all__ = ("GraphiteBridge",)

# What may not appear in a part of a Graphite path (the native encoder applies the same rule).
_INVALID_GRAPHITE_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def _sanitize(s: str) -> str:
    """``s`` with each character outside ``[a-zA-Z0-9_-]`` replaced by ``_``."""
    return _INVALID_GRAPHITE_CHARS.sub("_", s)


class _RegularPush(threading.Thread):
    """Pushes on the native schedule: every ``interval`` seconds, a push that overruns skipping the slots it missed."""

    def __init__(self, pusher: "GraphiteBridge", interval: float, prefix: str) -> None:
        super().__init__(daemon=True)
        self._pusher = pusher
        self._prefix = prefix
        self._schedule = _native.PushSchedule(interval)

    def run(self) -> None:
        while self._schedule.wait():
            try:
                self._pusher.push(prefix=self._prefix)
            except OSError:
                logging.exception("Push failed")

    def stop(self) -> None:
        self._schedule.stop()


class GraphiteBridge:
    """Sends the samples of ``registry`` to a Graphite (carbon) plaintext listener at ``address``."""

    def __init__(
        self,
        address: Tuple[str, int],
        registry: Collector = REGISTRY,
        timeout_seconds: float = 30,
        _timer: Callable[[], float] = time.time,
        tags: bool = False,
    ) -> None:
        self._address = address
        self._registry = registry
        self._tags = tags
        self._timeout = timeout_seconds
        self._timer = _timer
        self._pushing: Optional[_RegularPush] = None

    def push(self, prefix: str = "") -> None:
        """Sends every sample once, stamped with the current time in whole seconds."""
        now = int(self._timer())
        native = getattr(self._registry, "_generate_graphite", None)
        if native is not None:
            data: bytes = native(prefix, self._tags, now)
        else:
            data = _native.generate_graphite(self._registry.collect(), prefix, self._tags, now)
        # Resolved here, so that a name fails as `socket.create_connection` fails; connecting
        # and sending are the Rust transport's (`pyrometer_export::graphite::send`).
        host, port = self._address
        addresses = [info[4] for info in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)]
        _native.graphite_send(addresses, self._timeout, data)

    def start(self, interval: float = 60.0, prefix: str = "") -> None:
        """Pushes every ``interval`` seconds from a daemon thread; failures are logged and retried."""
        self._pushing = _RegularPush(self, interval, prefix)
        self._pushing.start()

    def stop(self) -> None:
        """Stops the pushes ``start`` began (an addition: upstream's bridge pushes until exit)."""
        if self._pushing is not None:
            self._pushing.stop()
            self._pushing.join()
            self._pushing = None
