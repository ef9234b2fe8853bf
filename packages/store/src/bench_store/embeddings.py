"""Embedding sets: one LanceDB table per (dataset, backbone, layer selection, identity).

Rows are written by `FragmentWriter`s (any process) and made visible by `commit` (one process: the
single writer of the set), so a clip is stored exactly once however a run is interrupted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import lance
import numpy as np
import pyarrow as pa
from lance.fragment import FragmentMetadata

from bench_core import BenchError
from bench_store.blobs import BlobReader
from bench_store.filters import split_filter
from bench_store.fragments import FragmentWriter, PendingFragment
from bench_store.identity import identity_hash
from bench_store.schema import (
    IDENTITY_KEY,
    INFO_KEY,
    TOKENS_FIELD,
    ClipTokens,
    SetInfo,
    TokenBatch,
    arrow_schema,
    is_blob_tokens,
)

BATCH_COLUMNS = ("clip_id", "labels", "grid_t", "tokens", "cls")
"""What a TokenBatch is made of: readers fetch nothing else."""

__all__ = ["ClipTokens", "CommitOutcome", "EmbeddingSet", "SetInfo", "TokenBatch", "arrow_schema"]


@dataclass(frozen=True)
class CommitOutcome:
    """What a commit stored, and the clips of rejected fragments that are still not stored."""

    written: int
    rejected: tuple[str, ...] = ()


class EmbeddingSet:
    """A handle on one embedding-set table. Readers may be anywhere; `commit` (and `append`,
    which writes and commits) must run in one process per set at a time.

    Opened through a `TokenStore`, a set knows its store URI and pickles as (URI, table name,
    storage options), so it can travel to Ray workers, which reopen it (the write tasks receive
    the same storage options).
    """

    def __init__(
        self,
        table: Any,
        store_uri: str | None = None,
        storage_options: dict[str, str] | None = None,
    ) -> None:
        self.table = table
        self.store_uri = store_uri
        self.storage_options = storage_options
        metadata = table.schema.metadata or {}
        if IDENTITY_KEY not in metadata or INFO_KEY not in metadata:
            raise BenchError(
                f"table {table.name} is not a bench embedding set (no identity metadata)"
            )
        if not is_blob_tokens(table.schema.field(TOKENS_FIELD.name)):
            raise BenchError(
                f"table {table.name} stores tokens as {table.schema.field('tokens').type}, the "
                "layout of an older bench; extract it again (a new table is created beside it)"
            )
        self.identity: dict[str, Any] = json.loads(metadata[IDENTITY_KEY])
        self.info = SetInfo.from_json(metadata[INFO_KEY])
        self._known_ids: set[str] | None = None
        self._known_version = -1

    def __reduce__(self) -> tuple[Any, tuple[str, str, dict[str, str] | None]]:
        if self.store_uri is None:
            raise TypeError(f"embedding set {self.name} was opened without its store URI")
        return _reopen, (self.store_uri, self.name, self.storage_options)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def identity_hash(self) -> str:
        return identity_hash(self.identity)

    def count(self, split: str | None = None) -> int:
        return self.table.count_rows(None if split is None else split_filter(split))

    def clip_ids(self, split: str) -> list[str]:
        """Clip ids of one split (reads only the id column)."""
        table = self.table.to_lance().to_table(columns=["clip_id"], filter=split_filter(split))
        return table.column("clip_id").to_pylist()

    def fragment_ids(self) -> list[int]:
        """Ids of the table's fragments (units a reader can visit in any order)."""
        return [fragment.fragment_id for fragment in self.table.to_lance().get_fragments()]

    def existing_ids(self) -> set[str]:
        """Clip ids stored now. Cached, and re-read when another process committed since."""
        dataset = self.table.to_lance()
        if self._known_ids is None or dataset.version != self._known_version:
            column = dataset.to_table(columns=["clip_id"]).column("clip_id")
            self._known_ids = set(column.to_pylist())
            self._known_version = dataset.version
        return self._known_ids

    # writing --------------------------------------------------------------------------------
    def fragment_writer(self) -> FragmentWriter:
        dataset = self.table.to_lance()
        return FragmentWriter(
            uri=dataset.uri,
            schema=self.table.schema,
            info=self.info,
            data_storage_version=dataset.data_storage_version,
            storage_options=self.storage_options,
        )

    def commit(self, pending: Sequence[PendingFragment]) -> CommitOutcome:
        """Make written fragments visible in one atomic commit. A fragment holding a clip that is
        already stored (another writer was at work) is rejected whole, never half-committed: its
        clips that are not stored are returned so that the caller can report them."""
        known = self.existing_ids()
        accepted: list[PendingFragment] = []
        rejected: list[str] = []
        seen: set[str] = set()
        for item in pending:
            ids = set(item.clip_ids)
            if len(ids) != len(item.clip_ids) or ids & known or ids & seen:
                rejected.extend(i for i in item.clip_ids if i not in known and i not in seen)
                continue
            accepted.append(item)
            seen |= ids
        if accepted:
            dataset = self.table.to_lance()
            fragments = [FragmentMetadata.from_json(f) for item in accepted for f in item.fragments]
            committed = lance.LanceDataset.commit(
                dataset.uri,
                lance.LanceOperation.Append(fragments),
                read_version=dataset.version,
                storage_options=self.storage_options,
            )
            known |= seen
            if committed.version == dataset.version + 1:  # nobody else committed in between
                self._known_version = committed.version
        return CommitOutcome(written=len(seen), rejected=tuple(sorted(set(rejected))))

    def append(self, rows: Sequence[ClipTokens]) -> int:
        """Write the rows whose clip_id is not stored yet, as one commit. Returns rows written."""
        known = self.existing_ids()
        fresh: dict[str, ClipTokens] = {}
        for row in rows:
            if row.clip_id not in known:
                fresh.setdefault(row.clip_id, row)
        if not fresh:
            return 0
        return self.commit([self.fragment_writer().write(list(fresh.values()))]).written

    # reading --------------------------------------------------------------------------------
    def layer_position(self, layer: int | None) -> int:
        """Position of encoder layer `layer` among the stored ones (default: the last stored)."""
        if layer is None:
            return len(self.info.layers) - 1
        if layer not in self.info.layers:
            raise BenchError(
                f"layer {layer} is not stored in {self.name}; stored: {list(self.info.layers)}"
            )
        return self.info.layers.index(layer)

    def load(self, split: str | None = None, layer: int | None = None) -> TokenBatch:
        """All clips of `split` (all splits if None) as one padded batch, in clip_id order, in
        memory of its own (no view of the store's files: it outlives the read)."""
        dataset = self.table.to_lance()
        table = dataset.to_table(
            columns=list(BATCH_COLUMNS),
            filter=None if split is None else split_filter(split),
            with_row_address=True,
        )
        table = table.sort_by("clip_id")
        return self._to_batch(table, self.layer_position(layer), BlobReader(dataset), copy=True)

    def iter_batches(
        self,
        split: str | None,
        batch_size: int,
        layer: int | None = None,
        fragments: Sequence[int] | None = None,
    ) -> Iterator[TokenBatch]:
        """Stream padded batches without materialising the split (for sets larger than RAM).

        Memory is a few batches' metadata: token bytes are views of the store's data files
        (`blobs.BlobReader`), read from the page cache when touched.

        `fragments` (ids from `fragment_ids`) restricts the scan to those fragments, read in the
        order given: how a shuffling reader visits the table in a different order every epoch."""
        position = self.layer_position(layer)
        dataset = self.table.to_lance()
        reader = BlobReader(dataset)
        chosen = None if fragments is None else [dataset.get_fragment(i) for i in fragments]
        scanner = dataset.scanner(
            columns=list(BATCH_COLUMNS),
            filter=None if split is None else split_filter(split),
            batch_size=batch_size,
            fragments=chosen,
            with_row_address=True,
        )
        for record_batch in scanner.to_batches():
            if record_batch.num_rows:
                yield self._to_batch(record_batch, position, reader, copy=False)

    def _to_batch(
        self, rows: pa.Table | pa.RecordBatch, position: int, reader: BlobReader, copy: bool
    ) -> TokenBatch:
        info = self.info
        n = rows.num_rows
        grid_t = _array(rows, "grid_t").to_numpy()
        f, d, n_layers = info.freq_tokens, info.embed_dim, len(info.layers)
        t_max = int(grid_t.max()) if n else 0
        described = _array(rows, TOKENS_FIELD.name)
        addresses = _array(rows, "_rowaddr").to_numpy()
        block = reader.block(described, addresses) if n and (grid_t == t_max).all() else None
        if block is not None:
            # nothing to pad and rows side by side in one file: a view, nothing read yet
            layers = info.dtype.decode(block).reshape(n, n_layers, t_max, f, d)
            tokens = np.array(layers[:, position]) if copy else layers[:, position]
            mask = np.ones((n, t_max), dtype=bool)
        else:
            tokens = np.zeros((n, t_max, f, d), dtype=info.dtype.numpy_dtype)
            mask = np.zeros((n, t_max), dtype=bool)
            for i, stored in enumerate(reader.rows(described, addresses)):
                t = int(grid_t[i])
                layer_bytes = stored.size // n_layers
                own = stored[position * layer_bytes : (position + 1) * layer_bytes]
                tokens[i, :t] = info.dtype.decode(own).reshape(t, f, d)
                mask[i, :t] = True
        cls_all = np.asarray(_array(rows, "cls").flatten()).reshape(n, n_layers, d)
        return TokenBatch(
            clip_ids=_array(rows, "clip_id").to_pylist(),
            tokens=tokens,
            mask=mask,
            cls=cls_all[:, position].astype(np.float32),
            labels=[tuple(x) for x in _array(rows, "labels").to_pylist()],
        )

    def size_bytes(self) -> int:
        """Bytes of the current version's data files (what a reader scans)."""
        return sum(
            data_file.file_size_bytes or 0
            for fragment in self.table.to_lance().get_fragments()
            for data_file in fragment.data_files()
        )


def _array(rows: pa.Table | pa.RecordBatch, name: str) -> pa.Array:
    """One contiguous Arrow array of a column (copies only a table split into several chunks)."""
    column = rows.column(name)
    if isinstance(column, pa.ChunkedArray):
        return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return column


def _reopen(store_uri: str, name: str, storage_options: dict[str, str] | None) -> EmbeddingSet:
    from bench_store.store import TokenStore

    return TokenStore(store_uri, storage_options).open_set(name)
