"""Looking inside embedding sets from Python (the `bench query` command calls these).

from bench_store import TokenStore
from bench_store.query import ClipQuery, export_clips, neighbours, select_clips

emb = TokenStore().latest_set("esc50", "eat")
table = select_clips(emb, ClipQuery(split="test", labels=("dog",)))   # pyarrow.Table
frame = table.to_pandas()
close = neighbours(emb, "1-100038-A-14", k=5)
export_clips(emb, "dogs.parquet", ClipQuery(labels=("dog",)))       # streams, any size
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bench_core import BenchError
from bench_store.blobs import BlobReader
from bench_store.embeddings import EmbeddingSet
from bench_store.filters import ids_filter, labels_filter, split_filter, sql_string
from bench_store.maintenance import VECTOR_COLUMN, has_vector_index
from bench_store.schema import TOKENS_FIELD
from bench_store.store import TokenStore

META_COLUMNS = ("clip_id", "split", "fold", "labels", "duration", "grid_t", "grid_f", "n_valid")
"""Everything but the arrays: what listing clips needs."""


@dataclass(frozen=True)
class ClipQuery:
    """A selection of clips; empty fields select everything. A clip matches `labels` if it
    carries any of them (class names of the set)."""

    split: str | None = None
    labels: tuple[str, ...] = ()
    clip_ids: tuple[str, ...] = ()

    def where(self, embedding_set: EmbeddingSet) -> str | None:
        names = embedding_set.info.class_names
        unknown = [label for label in self.labels if label not in names]
        if unknown:
            raise BenchError(
                f"unknown class {', '.join(unknown)} in {embedding_set.name}; "
                f"classes: {', '.join(names)}"
            )
        parts = []
        if self.split:
            parts.append(split_filter(self.split))
        if self.labels:
            parts.append(f"({labels_filter(names.index(label) for label in self.labels)})")
        if self.clip_ids:
            parts.append(ids_filter(self.clip_ids))
        return " AND ".join(parts) or None


def select_clips(
    embedding_set: EmbeddingSet,
    query: ClipQuery | None = None,
    *,
    columns: tuple[str, ...] = META_COLUMNS,
    limit: int | None = None,
) -> pa.Table:
    """The selected clips' columns as one Arrow table (`.to_pandas()` for a DataFrame)."""
    where = (query or ClipQuery()).where(embedding_set)
    return embedding_set.table.to_lance().to_table(columns=list(columns), filter=where, limit=limit)


def iter_clips(
    embedding_set: EmbeddingSet,
    query: ClipQuery | None = None,
    *,
    columns: tuple[str, ...] | None = None,
    batch_size: int = 256,
) -> Iterator[pa.RecordBatch]:
    """The selected clips as a stream of record batches (all columns unless `columns`). Tokens
    come as one flat list of values per clip (`TokenDType.list_type`, (layers, T, F, D) in C
    order; bf16 as its uint16 bit patterns), which any Arrow reader understands."""
    dataset = embedding_set.table.to_lance()
    with_tokens = columns is None or TOKENS_FIELD.name in columns
    scanner = dataset.scanner(
        columns=None if columns is None else list(columns),
        filter=(query or ClipQuery()).where(embedding_set),
        batch_size=batch_size,
        with_row_address=with_tokens,
    )
    if not with_tokens:
        yield from scanner.to_batches()
        return
    reader = BlobReader(dataset)
    dtype = embedding_set.info.dtype
    for batch in scanner.to_batches():
        index = batch.schema.get_field_index(TOKENS_FIELD.name)
        addresses = batch.column("_rowaddr").to_numpy()
        values = dtype.to_lists(reader.rows(batch.column(index), addresses))
        batch = batch.set_column(index, pa.field(TOKENS_FIELD.name, dtype.list_type), values)
        yield batch.drop_columns(["_rowaddr"])


class ExportFormat(StrEnum):
    PARQUET = "parquet"
    ARROW = "arrow"


def export_clips(
    embedding_set: EmbeddingSet,
    path: str | Path,
    query: ClipQuery | None = None,
    *,
    file_format: ExportFormat = ExportFormat.PARQUET,
    with_tokens: bool = True,
) -> int:
    """Write the selected rows to a Parquet or Arrow IPC file, streaming (the selection may be
    larger than RAM). The file's schema metadata keeps the set's identity and reading info, so
    an exported file says what its tokens are. Returns rows written."""
    stored = embedding_set.table.schema
    columns = None if with_tokens else META_COLUMNS
    fields = [
        pa.field(TOKENS_FIELD.name, embedding_set.info.dtype.list_type)
        if field.name == TOKENS_FIELD.name
        else field
        for field in stored
        if columns is None or field.name in columns
    ]
    schema = pa.schema(fields, metadata=stored.metadata)
    rows = 0
    Writer = pq.ParquetWriter if file_format is ExportFormat.PARQUET else pa.ipc.new_file
    with Writer(str(path), schema) as writer:
        for batch in iter_clips(embedding_set, query, columns=columns):
            writer.write_batch(batch.replace_schema_metadata(schema.metadata))
            rows += batch.num_rows
    return rows


def neighbours(embedding_set: EmbeddingSet, clip_id: str, k: int = 10) -> pa.Table:
    """The k clips whose cls (or mean) vector is closest to `clip_id`'s, by cosine distance
    (column `_distance`), the clip itself excluded. Uses the vector index when the set has one
    (`bench store optimize` builds it on large sets), with exact re-ranking; a flat scan
    otherwise. For sets of several layers the vector is their concatenation."""
    found = select_clips(embedding_set, ClipQuery(clip_ids=(clip_id,)), columns=(VECTOR_COLUMN,))
    if found.num_rows == 0:
        raise BenchError(f"no clip '{clip_id}' in {embedding_set.name}")
    vector = found.column(VECTOR_COLUMN)[0].values.to_numpy()
    search = (
        embedding_set.table.search(vector, vector_column_name=VECTOR_COLUMN)
        .distance_type("cosine")
        .where(f"clip_id != {sql_string(clip_id)}", prefilter=True)
        .select([*META_COLUMNS, "_distance"])
        .limit(k)
    )
    if has_vector_index(embedding_set):
        search = search.refine_factor(10)
    return search.to_arrow()


@dataclass(frozen=True)
class SetOverview:
    """One line of `bench query sets`: what a set is (its identity) and what it weighs."""

    name: str
    dataset: str
    backbone: str
    layers: tuple[int, ...]
    dtype: str
    clips: int
    bytes: int
    identity_hash: str
    weights: str
    """"checkpoint <sha256 prefix>", "random seed <n>" or "imported <content sha256 prefix>"."""
    indexed: bool
    created_at: float


def describe_sets(store: TokenStore) -> list[SetOverview]:
    overviews = []
    for emb in store.embedding_sets():
        weights = emb.identity.get("weights", {})
        imported = emb.identity.get("imported")
        if imported:
            source = f"imported {imported['sha256'][:12]}"
        elif weights.get("source") == "checkpoint":
            source = f"checkpoint {weights.get('sha256', '')[:12]}"
        else:
            source = f"random seed {weights.get('seed')}"
        overviews.append(
            SetOverview(
                name=emb.name,
                dataset=emb.info.dataset,
                backbone=emb.info.backbone,
                layers=emb.info.layers,
                dtype=str(emb.info.dtype),
                clips=emb.count(),
                bytes=emb.size_bytes(),
                identity_hash=emb.identity_hash,
                weights=source,
                indexed=has_vector_index(emb),
                created_at=emb.info.created_at,
            )
        )
    return overviews
