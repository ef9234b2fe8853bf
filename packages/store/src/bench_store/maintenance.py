"""`bench store optimize`: compaction, old-version cleanup and the vector index on cls.

An explicit step with a single writer: extraction commits many mid-sized fragments (so that an
interruption loses little) and creates a manifest version per commit; this step rewrites them
into large files, deletes old versions and the unreferenced files an interrupted run left behind,
and indexes the cls/mean vectors once a table is large enough for brute force to be slow.
Nothing else may write to the set meanwhile (deleting "unverified" files would race a writer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bench_store.embeddings import EmbeddingSet

INDEX_MIN_ROWS = 100_000
"""Below this many clips a flat scan of cls vectors takes milliseconds; above, an IVF-PQ index."""
TARGET_FILE_BYTES = 1 << 30
"""Compaction target: files large enough for sequential reads, small enough to parallelise."""
VECTOR_COLUMN = "cls"


@dataclass(frozen=True)
class OptimizeReport:
    embedding_set: str
    rows: int
    fragments_before: int
    fragments_after: int
    bytes_before: int
    bytes_after: int
    bytes_removed: int
    """Bytes deleted from storage: old versions and files of interrupted runs."""
    indexed: bool
    """Whether the cls column has a vector index now."""


def has_vector_index(embedding_set: EmbeddingSet) -> bool:
    return any(VECTOR_COLUMN in index.columns for index in embedding_set.table.list_indices())


def optimize_set(
    embedding_set: EmbeddingSet, *, index_min_rows: int = INDEX_MIN_ROWS
) -> OptimizeReport:
    """Compact, index (when large enough) and clean up one embedding set."""
    dataset = embedding_set.table.to_lance()
    rows = dataset.count_rows()
    fragments_before = len(dataset.get_fragments())
    bytes_before = embedding_set.size_bytes()
    bytes_per_row = max(1, bytes_before // max(1, rows))
    dataset.optimize.compact_files(
        target_rows_per_fragment=max(1024, TARGET_FILE_BYTES // bytes_per_row),
        max_bytes_per_file=TARGET_FILE_BYTES,
    )
    indexed = has_vector_index(embedding_set)
    if indexed:
        embedding_set.table.to_lance().optimize.optimize_indices()
    elif rows >= index_min_rows:
        embedding_set.table.create_index(
            metric="cosine", vector_column_name=VECTOR_COLUMN, index_type="IVF_PQ"
        )
        indexed = True
    stats = embedding_set.table.to_lance().cleanup_old_versions(
        older_than=timedelta(0), delete_unverified=True
    )
    return OptimizeReport(
        embedding_set=embedding_set.name,
        rows=rows,
        fragments_before=fragments_before,
        fragments_after=len(embedding_set.table.to_lance().get_fragments()),
        bytes_before=bytes_before,
        bytes_after=embedding_set.size_bytes(),
        bytes_removed=stats.bytes_removed,
        indexed=indexed,
    )
