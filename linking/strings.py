"""Compact string tables: one UTF-8 blob plus an int64 offset array.

A table of ``n`` strings is two files, ``<name>.bin`` (the concatenated UTF-8
bytes) and ``<name>.offsets.npy`` (``int64[n + 1]``). Both are memory-mapped
on load, so opening a table of millions of strings costs milliseconds and only
the pages a lookup touches are read. No pickle anywhere.
"""

from __future__ import annotations

import array
import bisect
import mmap
import pathlib
from collections.abc import Iterable

import numpy as np


def map_array(path: pathlib.Path) -> np.ndarray:
    """Memory-maps a ``.npy`` file read-only (no pickle).

    Returns a plain ``ndarray`` view of the map: ``np.memmap`` indexing runs
    Python code on every access, the view's does not, and it stays mapped.
    """
    return np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)


class StringTableBuilder:
    """Appends strings into a growing blob without keeping Python ``str`` objects."""

    def __init__(self) -> None:
        self._blob = bytearray()
        self._offsets = array.array("q", [0])

    def append(self, text: str) -> None:
        self._blob += text.encode("utf-8")
        self._offsets.append(len(self._blob))

    def extend(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.append(text)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def save(self, directory: pathlib.Path, name: str) -> None:
        (directory / f"{name}.bin").write_bytes(bytes(self._blob))
        np.save(directory / f"{name}.offsets.npy", np.frombuffer(self._offsets, dtype=np.int64))

    def freeze(self) -> "StringTable":
        """Returns an in-memory table (used when a KB is linked without `kb build`)."""
        return StringTable(bytes(self._blob), np.frombuffer(self._offsets, dtype=np.int64).copy())


class StringTable:
    """Read-only sequence of strings backed by a blob and offsets.

    Supports ``len``, ``table[i] -> str`` and, for tables saved in sorted
    order, :meth:`find` (binary search on the UTF-8 bytes, whose order equals
    code-point order).
    """

    def __init__(self, blob: bytes | mmap.mmap, offsets: np.ndarray) -> None:
        self._blob = blob
        self._offsets = offsets

    @classmethod
    def open(cls, directory: pathlib.Path, name: str) -> "StringTable":
        offsets = map_array(directory / f"{name}.offsets.npy")
        path = directory / f"{name}.bin"
        if path.stat().st_size == 0:
            return cls(b"", offsets)
        with open(path, "rb") as handle:
            blob = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return cls(blob, offsets)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def raw(self, index: int) -> bytes:
        return self._blob[int(self._offsets[index]):int(self._offsets[index + 1])]

    def __getitem__(self, index: int) -> str:
        return self.raw(index).decode("utf-8")

    def blob_and_offsets(self) -> tuple[bytes, list[int]]:
        """The whole blob and offsets as plain Python objects, for a fast full scan."""
        return bytes(self._blob[:]), np.asarray(self._offsets).tolist()

    def find(self, text: str) -> int:
        """Returns the index of ``text`` in a sorted table, or -1."""
        target = text.encode("utf-8")
        position = bisect.bisect_left(_RawView(self), target)
        if position < len(self) and self.raw(position) == target:
            return position
        return -1


class _RawView:
    """Sequence view of the raw bytes, for ``bisect``."""

    def __init__(self, table: StringTable) -> None:
        self._table = table

    def __len__(self) -> int:
        return len(self._table)

    def __getitem__(self, index: int) -> bytes:
        return self._table.raw(index)
