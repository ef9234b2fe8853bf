"""Parquet and Arrow tables as Hugging Face `datasets` writes them, read without loading the audio.

A split of a Hugging Face dataset on disk is one or more tables: Parquet shards (a Hub repository
or its `refs/convert/parquet` branch: `<split>/0000.parquet`, `data/<split>-00000-of-00004.parquet`)
or Arrow IPC stream files (`save_to_disk`: `<split>/data-00000-of-00004.arrow`; the `datasets` cache:
`<builder>-<split>-00000-of-00004.arrow`). The `audio` column is an `Audio` feature: a struct
`{bytes, path}` (or plain binary), with bytes present when the audio is embedded and only a path when
it lives in a file beside the table. Class names travel in the schema's `huggingface` metadata
(`ClassLabel` features), or in a `dataset_info.json` beside an Arrow file.

Readers take metadata columns from these tables; the audio bytes are read one row group (Parquet) or
one memory-mapped row (Arrow) at a time, when a clip is decoded.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench_audio.files import list_audio
from bench_core import MissingResourceError

AUDIO_COLUMN = "audio"
TABLE_SUFFIXES = (".parquet", ".arrow")


class AudioTable:
    """One Parquet or Arrow file: metadata columns, class names, and audio bytes row by row."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._parquet: pq.ParquetFile | None = None
        self._arrow: pa.Table | None = None
        if self.path.suffix == ".parquet":
            self._parquet = pq.ParquetFile(self.path, memory_map=True)
            self.schema = self._parquet.schema_arrow
            self.num_rows = self._parquet.metadata.num_rows
            sizes = [
                self._parquet.metadata.row_group(i).num_rows
                for i in range(self._parquet.metadata.num_row_groups)
            ]
            self._group_starts = np.cumsum([0, *sizes])
        else:
            self._arrow = _read_arrow(self.path)
            self.schema = self._arrow.schema
            self.num_rows = self._arrow.num_rows
        self._cached_group: tuple[int, pa.Array] | None = None

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    def features(self) -> dict[str, Any]:
        """The Hugging Face feature spec: from the schema metadata, else `dataset_info.json`."""
        metadata = self.schema.metadata or {}
        if b"huggingface" in metadata:
            return json.loads(metadata[b"huggingface"]).get("info", {}).get("features", {})
        info = self.path.parent / "dataset_info.json"
        if info.is_file():
            return json.loads(info.read_text()).get("features", {})
        return {}

    def class_names(self, column: str) -> tuple[str, ...] | None:
        """Names of the `ClassLabel` behind `column` (itself or its list elements), if declared."""
        feature: Any = self.features().get(column)
        while feature is not None:
            if isinstance(feature, list):  # a plain Python list of one feature
                feature = feature[0] if feature else None
            elif feature.get("_type") == "ClassLabel":
                return tuple(feature["names"])
            else:  # Sequence / List / LargeList wrap their element in "feature"
                feature = feature.get("feature")
        return None

    def read(self, columns: list[str]) -> Iterator[pa.RecordBatch]:
        """Record batches of the named columns only (never the audio bytes)."""
        if self._parquet is not None:
            yield from self._parquet.iter_batches(batch_size=8192, columns=columns)
        else:
            assert self._arrow is not None
            yield from self._arrow.select(columns).to_batches(max_chunksize=8192)

    def audio_paths(self) -> list[str | None]:
        """The `path` of every row's audio struct (None for plain binary audio or a null path)."""
        audio_type = self.schema.field(AUDIO_COLUMN).type
        if not pa.types.is_struct(audio_type) or audio_type.get_field_index("path") < 0:
            return [None] * self.num_rows
        paths: list[str | None] = []
        if self._parquet is not None:
            for batch in self._parquet.iter_batches(batch_size=8192, columns=["audio.path"]):
                paths.extend(_child(batch.column(0), "path").to_pylist())
        else:
            assert self._arrow is not None
            for chunk in self._arrow.column(AUDIO_COLUMN).chunks:  # never concatenate the bytes
                paths.extend(_child(chunk, "path").to_pylist())
        return paths

    def audio_present(self) -> np.ndarray:
        """Which rows carry audio bytes. Parquet row-group statistics answer without reading the
        bytes; a row group whose statistics are missing or mixed is read, one at a time."""
        if self._parquet is None:
            assert self._arrow is not None
            chunks = self._arrow.column(AUDIO_COLUMN).chunks  # never concatenate the bytes
            masks = [_bytes_of(c).is_valid().to_numpy(zero_copy_only=False) for c in chunks]
            return np.concatenate(masks) if masks else np.zeros(0, dtype=bool)
        present = np.zeros(self.num_rows, dtype=bool)
        metadata = self._parquet.metadata
        for group in range(metadata.num_row_groups):
            lo, hi = int(self._group_starts[group]), int(self._group_starts[group + 1])
            nulls = self._bytes_null_count(group)
            if nulls == 0:
                present[lo:hi] = True
            elif nulls is None or nulls < hi - lo:
                column = self._group_audio(group)
                present[lo:hi] = ~_bytes_of(column).is_null().to_numpy(zero_copy_only=False)
        return present

    def audio_bytes(self, row: int) -> bytes | None:
        """The encoded audio file of `row` (None when that row has no bytes)."""
        if not 0 <= row < self.num_rows:
            raise IndexError(f"row {row} is outside {self.path} ({self.num_rows} rows)")
        if self._parquet is None:
            assert self._arrow is not None
            value = _bytes_of(self._arrow.column(AUDIO_COLUMN).slice(row, 1).combine_chunks())[0]
        else:
            group = int(np.searchsorted(self._group_starts, row, side="right")) - 1
            value = _bytes_of(self._group_audio(group))[row - int(self._group_starts[group])]
        return value.as_py()

    def _bytes_null_count(self, group: int) -> int | None:
        assert self._parquet is not None
        row_group = self._parquet.metadata.row_group(group)
        for j in range(row_group.num_columns):
            column = row_group.column(j)
            if column.path_in_schema in ("audio.bytes", AUDIO_COLUMN):
                stats = column.statistics
                return stats.null_count if stats is not None and stats.has_null_count else None
        return None

    def _group_audio(self, group: int) -> pa.Array:
        """The audio column of one row group, cached: clips are decoded in table order, so
        consecutive rows of one group cost one read."""
        assert self._parquet is not None
        if self._cached_group is None or self._cached_group[0] != group:
            table = self._parquet.read_row_group(group, columns=[AUDIO_COLUMN])
            self._cached_group = (group, table.column(AUDIO_COLUMN).combine_chunks())
        return self._cached_group[1]


def _read_arrow(path: Path) -> pa.Table:
    """A memory-mapped Arrow file (stream format as `datasets` writes it, or file format)."""
    source = pa.memory_map(str(path))
    try:
        return pa.ipc.open_stream(source).read_all()
    except pa.ArrowInvalid:
        return pa.ipc.open_file(pa.memory_map(str(path))).read_all()


def _child(audio: pa.Array, name: str) -> pa.Array:
    """A field of the audio struct, null where the whole struct is null (`field()` is not)."""
    return audio.flatten()[audio.type.get_field_index(name)]


def _bytes_of(audio: pa.Array) -> pa.Array:
    return _child(audio, "bytes") if pa.types.is_struct(audio.type) else audio


@functools.lru_cache(maxsize=16)
def open_table(path: str) -> AudioTable:
    """A per-process cache of open tables, so decoding row after row reopens nothing."""
    return AudioTable(path)


def split_tables(folder: Path, split: str) -> list[Path]:
    """The table files of one split under `folder`, in name order.

    A file belongs to `split` when a folder between `folder` and it is named `split`
    (`train/0000.parquet`), when `split` is a dash-separated part of its name
    (`train-00000-of-00002.parquet`, `bird_set-test_5s-00000-of-00001.arrow`), or when its name ends
    in `_<split>` (`HSN_metadata_test_5s.parquet`).
    """
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix in TABLE_SUFFIXES and p.is_file()):
        parts = path.relative_to(folder).parts[:-1]
        if split in parts or split in path.stem.split("-") or path.stem.endswith(f"_{split}"):
            found.append(path)
    return found


class RowAudio(NamedTuple):
    """Where one table row's audio is: embedded in the table (row >= 0) or a file (row == -1)."""

    path: str | None
    """The table for embedded audio, the audio file otherwise; None when neither was found."""
    row: int
    name: str | None
    """The audio's own file name when the table records one (a natural clip id)."""


def row_audio(table: AudioTable, search: Path, path_column: str = "filepath") -> list[RowAudio]:
    """The audio source of every row of `table`.

    Embedded bytes win. A row without bytes points at a file through its audio `path` (or, for
    tables without an audio column such as BirdSet's raw metadata, through `path_column`): taken as
    is when it exists, else relative to the table's folder, else looked up by file name among the
    audio files under `search` (listed once, only if needed).
    """
    if AUDIO_COLUMN in table.columns:
        present = table.audio_present()
        paths = table.audio_paths()
    elif path_column in table.columns:
        present = np.zeros(table.num_rows, dtype=bool)
        paths = [v for batch in table.read([path_column]) for v in batch.column(0).to_pylist()]
    else:
        raise MissingResourceError(
            f"{table.path} has neither an '{AUDIO_COLUMN}' nor a '{path_column}' column"
        )
    files: dict[str, str] | None = None
    out = []
    for row, (has_bytes, value) in enumerate(zip(present, paths, strict=True)):
        name = Path(value).name if value else None
        if has_bytes:
            out.append(RowAudio(str(table.path), row, name))
            continue
        found: str | None = None
        if value:
            for candidate in (Path(value), table.path.parent / value):
                if candidate.is_file():
                    found = str(candidate)
                    break
            else:
                if files is None:
                    files = list_audio(search)
                found = files.get(Path(value).name)
        out.append(RowAudio(found, -1, name))
    return out
