"""Token maps computed elsewhere, one array per clip, in the three formats `bench import` reads:

* a folder of `<clip_id>.npy` files, or of `<clip_id>.npz` files holding the array under `key`
  (default "tokens"); searched recursively, the clip id is the file name without its suffix;
* one HDF5 file (.h5/.hdf5) with one dataset per clip, named by its clip id, in the group `key`
  (default: the file's root);
* one Parquet file (.parquet) with a clip-id column and a list column `key` (default "tokens")
  nested once per array axis (a T x D map is a list of T lists of D numbers).

A source lists every clip's array shape before any token is read (npy headers, HDF5 metadata,
Parquet list lengths), so a wrong layout is reported before anything is written; and it hashes its
bytes, which the imported set's identity records.
"""

from __future__ import annotations

import hashlib
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from bench_core import BenchError, MissingResourceError

DEFAULT_KEY = "tokens"


class TokenSourceError(BenchError):
    """A token source that cannot be read as documented: says which file or clip, and why."""


def _sha256(path: Path, digest: Any = None) -> Any:
    digest = digest or hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest


def _numeric(clip_id: str, array: np.ndarray) -> np.ndarray:
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TokenSourceError(f"clip {clip_id}: token map has dtype {array.dtype}, not numbers")
    return array


class TokenSource(ABC):
    """Clip id -> token array, from one file or folder."""

    kind: str

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key

    @abstractmethod
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Every clip's array shape, in source order, read without the token values."""

    @abstractmethod
    def read(self, clip_ids: Collection[str]) -> Iterator[tuple[str, np.ndarray]]:
        """(clip id, array) for the wanted clips, in source order."""

    def content_sha256(self) -> str:
        return _sha256(self.path).hexdigest()


class NpyFolder(TokenSource):
    kind = "npy-folder"

    def __init__(self, path: Path, key: str) -> None:
        super().__init__(path, key)
        self.files: dict[str, Path] = {}
        for file in sorted(
            p for p in path.rglob("*") if p.suffix in {".npy", ".npz"} and p.is_file()
        ):
            if file.stem in self.files:
                raise TokenSourceError(
                    f"clip id {file.stem!r} appears twice: {self.files[file.stem]} and {file}"
                )
            self.files[file.stem] = file
        if not self.files:
            raise TokenSourceError(f"{path} holds no .npy or .npz files")

    def _npz_member(self, archive: zipfile.ZipFile, file: Path) -> str:
        member = f"{self.key}.npy"
        if member not in archive.namelist():
            keys = ", ".join(n.removesuffix(".npy") for n in archive.namelist())
            raise TokenSourceError(f"{file} has no array '{self.key}' (it has: {keys}); use --key")
        return member

    def shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = {}
        for clip_id, file in self.files.items():
            try:
                if file.suffix == ".npy":
                    shapes[clip_id] = tuple(np.load(file, mmap_mode="r").shape)
                    continue
                with (
                    zipfile.ZipFile(file) as archive,
                    archive.open(self._npz_member(archive, file)) as handle,
                ):
                    version = np.lib.format.read_magic(handle)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shapes[clip_id] = tuple(read_header(handle)[0])
            except (OSError, ValueError, zipfile.BadZipFile) as error:
                raise TokenSourceError(f"cannot read {file}: {error}") from None
        return shapes

    def read(self, clip_ids: Collection[str]) -> Iterator[tuple[str, np.ndarray]]:
        for clip_id, file in self.files.items():
            if clip_id not in clip_ids:
                continue
            if file.suffix == ".npy":
                array = np.load(file)
            else:
                with np.load(file) as archive:
                    array = archive[self.key]
            yield clip_id, _numeric(clip_id, array)

    def content_sha256(self) -> str:
        """Hash of every file's relative path and bytes."""
        digest = hashlib.sha256()
        for file in self.files.values():
            digest.update(str(file.relative_to(self.path)).encode() + b"\0")
            digest.update(_sha256(file).digest())
        return digest.hexdigest()


class HDF5File(TokenSource):
    kind = "hdf5"

    def _datasets(self, handle: Any) -> dict[str, Any]:
        import h5py

        group = handle[self.key] if self.key else handle
        if not isinstance(group, h5py.Group):
            raise TokenSourceError(f"{self.path}: '{self.key}' is not a group")
        datasets = {name: item for name, item in group.items() if isinstance(item, h5py.Dataset)}
        if not datasets:
            groups = [name for name, item in group.items() if isinstance(item, h5py.Group)]
            hint = f"; its groups: {', '.join(groups)} (choose one with --key)" if groups else ""
            raise TokenSourceError(f"{self.path}: no datasets in '{self.key or '/'}'{hint}")
        return datasets

    def _open(self) -> Any:
        import h5py

        try:
            return h5py.File(self.path, "r")
        except OSError as error:
            raise TokenSourceError(f"cannot read {self.path} as HDF5: {error}") from None

    def shapes(self) -> dict[str, tuple[int, ...]]:
        with self._open() as handle:
            return {name: tuple(ds.shape) for name, ds in self._datasets(handle).items()}

    def read(self, clip_ids: Collection[str]) -> Iterator[tuple[str, np.ndarray]]:
        with self._open() as handle:
            for name, ds in self._datasets(handle).items():
                if name in clip_ids:
                    yield name, _numeric(name, np.asarray(ds[()]))


class ParquetFile(TokenSource):
    kind = "parquet"

    def __init__(self, path: Path, key: str, id_column: str) -> None:
        super().__init__(path, key)
        import pyarrow.parquet as pq

        self.id_column = id_column
        try:
            self.file = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as error:
            raise TokenSourceError(f"cannot read {path} as Parquet: {error}") from None
        schema = self.file.schema_arrow
        for column in (id_column, key):
            if column not in schema.names:
                raise TokenSourceError(
                    f"{path} has no column '{column}' (it has: {', '.join(schema.names)}); "
                    "use --id-column / --key"
                )
        if not _is_list(schema.field(key).type):
            raise TokenSourceError(f"{path}: column '{key}' is {schema.field(key).type}, not lists")

    def _rows(self) -> Iterator[tuple[str, pa.Scalar]]:
        for batch in self.file.iter_batches(columns=[self.id_column, self.key], batch_size=256):
            ids, maps = batch.column(self.id_column), batch.column(self.key)
            for i in range(batch.num_rows):
                yield str(ids[i].as_py()), maps[i]

    def shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}
        for clip_id, value in self._rows():
            if clip_id in shapes:
                raise TokenSourceError(f"{self.path}: clip id {clip_id!r} appears twice")
            shapes[clip_id] = _nested(clip_id, value)[1]
        return shapes

    def read(self, clip_ids: Collection[str]) -> Iterator[tuple[str, np.ndarray]]:
        for clip_id, value in self._rows():
            if clip_id in clip_ids:
                flat, shape = _nested(clip_id, value)
                array = flat.to_numpy(zero_copy_only=False).reshape(shape)
                yield clip_id, _numeric(clip_id, array)


def _is_list(type_: pa.DataType) -> bool:
    return (
        pa.types.is_list(type_)
        or pa.types.is_large_list(type_)
        or pa.types.is_fixed_size_list(type_)
    )


def _nested(clip_id: str, value: pa.Scalar) -> tuple[pa.Array, tuple[int, ...]]:
    """A nested-list value as its innermost values and the shape of the array it spells."""
    if not value.is_valid:
        raise TokenSourceError(f"clip {clip_id}: token map is null")
    values: pa.Array = value.values
    shape = [len(values)]
    while _is_list(values.type):
        if pa.types.is_fixed_size_list(values.type):
            shape.append(values.type.list_size)
        else:
            lengths = np.unique(values.value_lengths().to_numpy(zero_copy_only=False))
            if len(lengths) > 1:
                raise TokenSourceError(
                    f"clip {clip_id}: ragged lists at depth {len(shape)} "
                    f"(lengths {lengths.tolist()})"
                )
            shape.append(int(lengths[0]) if len(lengths) else 0)
        values = values.flatten()
    if values.null_count:
        raise TokenSourceError(f"clip {clip_id}: token map holds nulls")
    return values, tuple(shape)


def open_source(
    path: str | Path, key: str | None = None, id_column: str = "clip_id"
) -> TokenSource:
    """The source at `path`: a folder (npy/npz), an .h5/.hdf5 file, or a .parquet file."""
    path = Path(path).expanduser().resolve()
    if not path.exists():
        raise MissingResourceError(f"token source {path} does not exist")
    if path.is_dir():
        return NpyFolder(path, key or DEFAULT_KEY)
    if path.suffix in {".h5", ".hdf5"}:
        return HDF5File(path, key or "")
    if path.suffix == ".parquet":
        return ParquetFile(path, key or DEFAULT_KEY, id_column)
    raise TokenSourceError(
        f"{path}: unknown token source; give a folder of .npy/.npz files, an .h5/.hdf5 file "
        "or a .parquet file"
    )
