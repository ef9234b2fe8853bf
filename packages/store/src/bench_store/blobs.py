"""Taking stored token bytes out of an embedding set's data files.

A scan of the blob-encoded tokens column (`schema.TOKENS_FIELD`) yields each row's (position,
size) in the data file of its fragment, and the row address tells the fragment. On a local store
a process maps each data file once (the mappings outlive readers, so the next epoch finds the
pages mapped already: Lance data files never change once written) and serves rows as views of the
mapping: no decode, no copy, no fresh buffer to fault in, and a reader that wants one layer of a
multi-layer set touches only that layer's pages. Rows written together lie back to back, so a streamed batch is usually one
strided view. Stores behind a URL scheme (s3://, gs://, az://) read through Lance's blob API.
"""

from __future__ import annotations

import mmap
import os
import threading
from collections import OrderedDict
from urllib.parse import urlparse

import lance
import numpy as np
import pyarrow as pa

from bench_store.schema import TOKENS_FIELD

OPEN_FILES = 64
"""Mappings kept open per process: each holds a file descriptor, and a big table has thousands of
data files; a streaming reader moves through them in order, so a small window suffices."""

_mapped: OrderedDict[str, np.ndarray] = OrderedDict()
_mapping = threading.Lock()  # readers run in prefetch threads too


class BlobReader:
    """Reads the token bytes of scanned rows (scan with `with_row_address=True`)."""

    def __init__(self, dataset: lance.LanceDataset) -> None:
        self._dataset = dataset
        self._root = _local_root(dataset.uri)
        self._field_id = dataset.lance_schema.field(TOKENS_FIELD.name).id()
        self._paths: dict[int, str] = {}

    def rows(self, described: pa.StructArray, addresses: np.ndarray) -> list[np.ndarray]:
        """Each row's stored bytes (uint8): views of the mapped files on a local store."""
        positions, sizes = _parts(described)
        if self._root is None:
            blobs = self._dataset.take_blobs(TOKENS_FIELD.name, addresses=addresses.tolist())
            return [np.frombuffer(blob.readall(), np.uint8) for blob in blobs]
        fragments = addresses >> np.uint64(32)
        return [
            self._file(int(fragment))[position : position + size]
            for fragment, position, size in zip(fragments, positions, sizes, strict=True)
        ]

    def block(self, described: pa.StructArray, addresses: np.ndarray) -> np.ndarray | None:
        """All rows as one (rows, size) uint8 view, when they are local, of one size and at one
        stride in one file (rows written together); None otherwise."""
        positions, sizes = _parts(described)
        fragments = addresses >> np.uint64(32)
        if self._root is None or not len(sizes) or (fragments != fragments[0]).any():
            return None
        strides = np.diff(positions)
        if (sizes != sizes[0]).any() or (strides != (strides[0] if len(strides) else 0)).any():
            return None
        stride = int(strides[0]) if len(strides) else int(sizes[0])
        if stride < sizes[0]:
            return None
        mapped = self._file(int(fragments[0]))
        start = int(positions[0])
        end = start + stride * (len(sizes) - 1) + int(sizes[0])
        return np.lib.stride_tricks.as_strided(
            mapped[start:end],
            shape=(len(sizes), int(sizes[0])),
            strides=(stride, 1),
            writeable=False,
        )

    def _file(self, fragment_id: int) -> np.ndarray:
        path = self._paths.get(fragment_id)
        if path is None:
            path = self._paths[fragment_id] = self._data_file(fragment_id)
        return mapped_file(path)

    def _data_file(self, fragment_id: int) -> str:
        fragment = self._dataset.get_fragment(fragment_id)
        for data_file in fragment.data_files():
            if self._field_id in data_file.fields:
                return os.path.join(self._root, "data", data_file.path)  # type: ignore[arg-type]
        raise FileNotFoundError(f"fragment {fragment_id} has no data file holding the tokens")


def mapped_file(path: str) -> np.ndarray:
    """A read-only uint8 view of the whole file, mapped once per process (least recently used
    mappings are dropped past `OPEN_FILES`; views handed out keep theirs alive until the last of
    them goes)."""
    with _mapping:
        mapped = _mapped.get(path)
        if mapped is not None:
            _mapped.move_to_end(path)
            return mapped
        with open(path, "rb") as handle:
            mapped = np.frombuffer(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ), np.uint8)
        _mapped[path] = mapped
        if len(_mapped) > OPEN_FILES:
            _mapped.popitem(last=False)
        return mapped


def _parts(described: pa.StructArray) -> tuple[np.ndarray, np.ndarray]:
    """(positions, sizes) of scanned blob descriptions, as int64."""
    positions = described.field("position").to_numpy().astype(np.int64)
    sizes = described.field("size").to_numpy().astype(np.int64)
    return positions, sizes


def _local_root(uri: str) -> str | None:
    """The dataset's folder when it is a plain local path, else None (object stores, and local
    files behind Lance's object-store layer such as file-object-store://)."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return parsed.path
    return uri if parsed.scheme == "" else None
