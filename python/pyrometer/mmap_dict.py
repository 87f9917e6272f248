"""prometheus_client's multiprocess file format: a memory-mapped dict of string keys to a value
and a timestamp, as prometheus_client.mmap_dict reads and writes it.

pyrometer's own multiprocess store does not use it; it is here to read and write the ``*.db``
files of processes that run prometheus_client, and for code that uses the class directly.

The layout, in native byte order (little-endian on every platform Python ships for):

* bytes 0-3: a signed 32-bit count of the bytes in use, header included; bytes 4-7: padding;
* from byte 8, entries one after another, each
  a signed 32-bit key length ``n``, the key in UTF-8, spaces up to the next multiple of 8
  (counting the length field, so one to eight of them), the value as a 64-bit float, and a
  timestamp in seconds as a 64-bit float (``0.0``: none).

A new file is made 64 KiB long and doubles whenever an entry would not fit.
"""

import json
import mmap
import os
import struct
from typing import IO, Dict, Iterator, List, Optional, Tuple, Union

__all__ = ["MmapedDict", "mmap_key"]

_INITIAL_MMAP_SIZE = 1 << 16

_HEADER_SIZE = 8
_USED = struct.Struct("i")
_VALUE_AND_TIMESTAMP = struct.Struct("dd")

_Buffer = Union[bytes, mmap.mmap]


def _pack_integer(data: mmap.mmap, pos: int, value: int) -> None:
    """Writes a 32-bit integer (the header's count) at ``pos``, in one slice assignment."""
    data[pos : pos + _USED.size] = _USED.pack(value)


def _padded_key_length(key_length: int) -> int:
    """The length of a key with its padding: the length field plus the key end on a multiple of
    8, and there is always at least one space."""
    return key_length + 8 - (key_length + _USED.size) % 8


def _entries(data: _Buffer, used: int = 0) -> Iterator[Tuple[str, float, float, int]]:
    """``(key, value, timestamp, position of the value)`` of each entry in the first ``used``
    bytes of ``data`` (read from the header when not positive); no locking."""
    if used <= 0:
        used = _USED.unpack_from(data, 0)[0]
    position = _HEADER_SIZE
    while position < used:
        key_length = _USED.unpack_from(data, position)[0]
        if position + key_length > used:
            raise RuntimeError("Read beyond file size detected, file is corrupted.")
        position += _USED.size
        key = bytes(data[position : position + key_length]).decode("utf-8")
        position += _padded_key_length(key_length)
        value, timestamp = _VALUE_AND_TIMESTAMP.unpack_from(data, position)
        yield key, value, timestamp, position
        position += _VALUE_AND_TIMESTAMP.size


class MmapedDict:
    """A dict of floats with timestamps, kept in a memory-mapped file (layout in the module
    doc). Opened with ``read_mode`` it only reads. Not thread-safe: callers serialise writes."""

    def __init__(self, filename: str, read_mode: bool = False) -> None:
        self._f: Optional[IO[bytes]] = open(filename, "rb" if read_mode else "a+b")
        self._fname = filename
        capacity = os.fstat(self._f.fileno()).st_size
        if capacity == 0:
            self._f.truncate(_INITIAL_MMAP_SIZE)
            capacity = _INITIAL_MMAP_SIZE
        self._capacity = capacity
        self._m: Optional[mmap.mmap] = mmap.mmap(
            self._f.fileno(), capacity, access=mmap.ACCESS_READ if read_mode else mmap.ACCESS_WRITE
        )
        # Where each key's value sits, for writers; readers scan instead.
        self._positions: Dict[str, int] = {}
        self._used: int = _USED.unpack_from(self._m, 0)[0]
        if self._used == 0:
            self._used = _HEADER_SIZE
            _pack_integer(self._m, 0, self._used)
        elif not read_mode:
            for key, _, _, position in _entries(self._m, self._used):
                self._positions[key] = position

    @staticmethod
    def read_all_values_from_file(filename: str) -> Iterator[Tuple[str, float, float, int]]:
        """``(key, value, timestamp, position)`` of each entry of a file, read without mapping
        it: only the bytes in use are read."""
        with open(filename, "rb") as file:
            data = file.read(mmap.PAGESIZE)
            used = _USED.unpack_from(data, 0)[0]
            if used > len(data):
                data += file.read(used - len(data))
        return _entries(data, used)

    def _mapped(self) -> mmap.mmap:
        if self._m is None:
            raise ValueError(f"{self._fname} is closed")
        return self._m

    def _init_value(self, key: str) -> None:
        """Appends an entry for ``key`` with value and timestamp 0.0, growing the file as needed."""
        encoded = key.encode("utf-8")
        entry = b"".join(
            (
                _USED.pack(len(encoded)),
                encoded.ljust(_padded_key_length(len(encoded)), b" "),
                _VALUE_AND_TIMESTAMP.pack(0.0, 0.0),
            )
        )
        while self._used + len(entry) > self._capacity:
            self._grow()
        mapped = self._mapped()
        mapped[self._used : self._used + len(entry)] = entry
        self._used += len(entry)
        # The entry is complete before the header counts it: a reader never sees half of one.
        _pack_integer(mapped, 0, self._used)
        self._positions[key] = self._used - _VALUE_AND_TIMESTAMP.size

    def _grow(self) -> None:
        assert self._f is not None and self._m is not None, "the dict is closed"
        self._capacity *= 2
        self._f.truncate(self._capacity)
        self._m.close()
        self._m = mmap.mmap(self._f.fileno(), self._capacity)

    def _read_all_values(self) -> Iterator[Tuple[str, float, float, int]]:
        return _entries(self._mapped(), self._used)

    def read_all_values(self) -> Iterator[Tuple[str, float, float]]:
        """``(key, value, timestamp)`` of each entry, in the order written; no locking."""
        for key, value, timestamp, _ in self._read_all_values():
            yield key, value, timestamp

    def read_value(self, key: str) -> Tuple[float, float]:
        """The value and timestamp of ``key``; ``(0.0, 0.0)`` for a new key, which is added."""
        if key not in self._positions:
            self._init_value(key)
        value, timestamp = _VALUE_AND_TIMESTAMP.unpack_from(self._mapped(), self._positions[key])
        return value, timestamp

    def write_value(self, key: str, value: float, timestamp: float) -> None:
        """Sets the value and timestamp of ``key``, adding it if new."""
        if key not in self._positions:
            self._init_value(key)
        position = self._positions[key]
        # One slice assignment: pack_into would zero the bytes first, and a reader could see 0.
        self._mapped()[position : position + _VALUE_AND_TIMESTAMP.size] = _VALUE_AND_TIMESTAMP.pack(value, timestamp)

    def close(self) -> None:
        """Unmaps and closes the file; closing again does nothing."""
        if self._f is not None:
            if self._m is not None:
                self._m.close()
            self._m = None
            self._f.close()
            self._f = None


def mmap_key(metric_name: str, name: str, labelnames: List[str], labelvalues: List[str], help_text: str) -> str:
    """The key of one sample in a multiprocess file: JSON of the metric name, sample name,
    labels and help, with keys sorted so that label order does not matter."""
    labels = dict(zip(labelnames, labelvalues))
    return json.dumps([metric_name, name, labels, help_text], sort_keys=True)
