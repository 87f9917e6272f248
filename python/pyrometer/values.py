"""The storage mode, and the values of metrics written in Python, as prometheus_client.values
has them.

``ValueClass`` is chosen once, at import: a class made by :func:`MultiProcessValue` when
``PROMETHEUS_MULTIPROC_DIR`` (or the deprecated ``prometheus_multiproc_dir``) is set, else
:class:`MutexValue`. Assign it before metrics are created to change the mode, as upstream's
tests and some servers do. pyrometer's native metrics keep their values natively; a native
metric created while ``ValueClass`` is a multiprocess class takes that class's process
identifier (its ``_process_identifier``) for the file it writes to.

The classes themselves hold the values of metric types written in Python (subclasses of
:class:`pyrometer.metrics.MetricWrapperBase`), with upstream's API: ``inc``, ``set``, ``get``,
``set_exemplar`` and ``get_exemplar``.
"""

import os
import warnings
from threading import Lock
from typing import Any, Callable, Dict, List, Optional, Type, Union

from . import _native
from .samples import Exemplar

__all__ = ["MultiProcessValue", "MutexValue", "ValueClass", "close_all_multiprocess_files", "get_value_class"]

# What close_all_multiprocess_files() runs: one entry per class MultiProcessValue made.
_multi_process_cleanups: List[Callable[[], None]] = []


def close_all_multiprocess_files() -> None:
    """Closes the multiprocess files this process has open, those of native metrics included;
    values made before cannot be updated after it. For tests between runs, and a process about
    to exit."""
    for cleanup in _multi_process_cleanups:
        cleanup()
    _multi_process_cleanups.clear()
    close_native_files = getattr(_native, "close_process_files", None)
    if close_native_files is not None:
        close_native_files()


class MutexValue:
    """A float and its latest exemplar, behind a lock: one series of a metric in one process."""

    _multiprocess = False

    def __init__(
        self, typ: str, metric_name: str, name: str, labelnames: Any, labelvalues: Any, help_text: str, **kwargs: Any
    ) -> None:
        self._value = 0.0
        self._exemplar: Optional[Exemplar] = None
        self._lock = Lock()

    def inc(self, amount: float) -> None:
        """Adds ``amount`` (negative to subtract)."""
        with self._lock:
            self._value += amount

    def set(self, value: float, timestamp: Optional[float] = None) -> None:
        """Sets the value; the timestamp only matters in multiprocess mode."""
        with self._lock:
            self._value = value

    def set_exemplar(self, exemplar: Exemplar) -> None:
        """Keeps ``exemplar`` as the latest."""
        with self._lock:
            self._exemplar = exemplar

    def get(self) -> float:
        """The value."""
        with self._lock:
            return self._value

    def get_exemplar(self) -> Optional[Exemplar]:
        """The latest exemplar, if any."""
        with self._lock:
            return self._exemplar


_DEPRECATED_VARIABLE = "prometheus_multiproc_dir"
_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def _adopt_deprecated_variable() -> None:
    """Copies ``prometheus_multiproc_dir`` to ``PROMETHEUS_MULTIPROC_DIR``, warning, when only
    the former is set."""
    if _DEPRECATED_VARIABLE in os.environ and _VARIABLE not in os.environ:
        os.environ[_VARIABLE] = os.environ[_DEPRECATED_VARIABLE]
        warnings.warn(
            "prometheus_multiproc_dir variable has been deprecated in favor of the upper case naming "
            "PROMETHEUS_MULTIPROC_DIR",
            DeprecationWarning,
            stacklevel=3,
        )


def MultiProcessValue(process_identifier: Callable[[], Union[int, str]] = os.getpid) -> Type[Any]:  # noqa: N802 - upstream's name
    """A new value class for multiprocess mode, whose processes are told apart by
    ``process_identifier()`` (``os.getpid`` by default; a different function must give
    processes running at the same time different results, e.g. a server's worker number).

    Assign it to ``ValueClass`` before metrics are created. Its values, used directly, write
    prometheus_client's ``<type>_<identifier>.db`` files (see :mod:`pyrometer.mmap_dict`) in
    ``PROMETHEUS_MULTIPROC_DIR``, and notice a fork by a change of identifier.
    """
    from .mmap_dict import MmapedDict, mmap_key

    files: Dict[str, MmapedDict] = {}
    live: List["MmapedValue"] = []
    identifier = {"value": process_identifier()}
    # One lock for all the class's values: files are shared between values and not thread-safe.
    lock = Lock()

    def close_files() -> None:
        for file in files.values():
            file.close()
        files.clear()
        live.clear()

    _multi_process_cleanups.append(close_files)

    class MmapedValue:
        """A float kept in this process's multiprocess file."""

        _multiprocess = True
        _process_identifier = staticmethod(process_identifier)

        def __init__(
            self,
            typ: str,
            metric_name: str,
            name: str,
            labelnames: Any,
            labelvalues: Any,
            help_text: str,
            multiprocess_mode: str = "",
            **kwargs: Any,
        ) -> None:
            self._params = typ, metric_name, name, labelnames, labelvalues, help_text, multiprocess_mode
            _adopt_deprecated_variable()
            with lock:
                self._follow_fork()
                self._open()
                live.append(self)

        def _open(self) -> None:
            typ, metric_name, name, labelnames, labelvalues, help_text, multiprocess_mode = self._params
            prefix = f"{typ}_{multiprocess_mode}" if typ == "gauge" else typ
            if prefix not in files:
                directory = os.environ.get(_VARIABLE)
                if directory is None:
                    raise TypeError("PROMETHEUS_MULTIPROC_DIR is not set")
                files[prefix] = MmapedDict(os.path.join(directory, f"{prefix}_{identifier['value']}.db"))
            self._file = files[prefix]
            self._key = mmap_key(metric_name, name, labelnames, labelvalues, help_text)
            self._value, self._timestamp = self._file.read_value(self._key)

        def _follow_fork(self) -> None:
            # A new identifier means a new process (a fork): every value moves to its files.
            current = process_identifier()
            if identifier["value"] != current:
                identifier["value"] = current
                for file in files.values():
                    file.close()
                files.clear()
                for value in live:
                    value._open()

        def _write(self) -> None:
            self._file.write_value(self._key, self._value, self._timestamp)

        def inc(self, amount: float) -> None:
            """Adds ``amount`` (negative to subtract) and writes it through."""
            with lock:
                self._follow_fork()
                self._value += amount
                self._timestamp = 0.0
                self._write()

        def set(self, value: float, timestamp: Optional[float] = None) -> None:
            """Sets the value, and the time it was set for the ``mostrecent`` gauge modes."""
            with lock:
                self._follow_fork()
                self._value = value
                self._timestamp = timestamp or 0.0
                self._write()

        def set_exemplar(self, exemplar: Exemplar) -> None:
            """Exemplars are not kept in these files (nor are they upstream)."""

        def get(self) -> float:
            """The value."""
            with lock:
                self._follow_fork()
                return self._value

        def get_exemplar(self) -> Optional[Exemplar]:
            """Always ``None``: see :meth:`set_exemplar`."""
            return None

        @classmethod
        def close_all_files(cls) -> None:
            """Closes this class's files; its values reopen them only when made again."""
            with lock:
                close_files()

    return MmapedValue


def get_value_class() -> Type[Any]:
    """The value class the environment asks for: a new :func:`MultiProcessValue` class when
    ``PROMETHEUS_MULTIPROC_DIR`` or ``prometheus_multiproc_dir`` is set (the latter copied to
    the former, with a ``DeprecationWarning``), else :class:`MutexValue`."""
    if _DEPRECATED_VARIABLE in os.environ or _VARIABLE in os.environ:
        _adopt_deprecated_variable()
        return MultiProcessValue()
    return MutexValue


ValueClass: Type[Any] = get_value_class()


def __getattr__(name: str) -> Any:
    # Upstream's module holds these too; loaded on first use, as most processes never need them.
    if name in ("MmapedDict", "mmap_key"):
        from . import mmap_dict

        return getattr(mmap_dict, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
