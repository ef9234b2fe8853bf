"""The token store: one LanceDB database (a local directory or an object-store URI)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import timedelta
from typing import Any

import lancedb
import pyarrow as pa

from bench_core import BenchError, default_store_uri
from bench_store.embeddings import EmbeddingSet
from bench_store.filters import ids_filter, sql_string
from bench_store.identity import table_name
from bench_store.results import RESULTS_SCHEMA, RESULTS_TABLE, RunRecord
from bench_store.schema import SetInfo, arrow_schema

FAILURES_TABLE = "failures"
FAILURES_SCHEMA = pa.schema(
    [
        pa.field("embedding_set", pa.string()),
        pa.field("clip_id", pa.string()),
        pa.field("stage", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("created_at", pa.float64()),
    ]
)


TOKEN_FILE_VERSION = "2.0"
"""Lance file format of embedding sets. Measured on rows of 393k fp16 token values (EAT-base):
2.0 writes ~300 MB/s and scans ~2.6 GB/s at 2.0001 bytes a value; LanceDB's default (2.2) writes
~60 MB/s and scans ~200 MB/s at 2.03 bytes a value (its structural encodings suit many small
values, not one long list per row). tools/benchmarks/bench_storage.py measures the result."""


class TokenStore:
    """One LanceDB database: a local directory, a shared path, or an object-store URI.

    `storage_options` go to LanceDB/Lance unchanged (e.g. for s3://: `aws_region`,
    `aws_endpoint`, `aws_access_key_id`, `allow_http`); the store hands them to every writer,
    including Ray workers on other nodes.
    """

    def __init__(
        self, uri: str | None = None, storage_options: dict[str, str] | None = None
    ) -> None:
        self.uri = uri or default_store_uri()
        self.storage_options = dict(storage_options) if storage_options else None
        try:
            # every read sees the latest committed version (a writer may be another process)
            self.db = lancedb.connect(
                self.uri,
                storage_options=self.storage_options,
                read_consistency_interval=timedelta(0),
            )
        except (OSError, ValueError) as error:  # unreachable object store, bad credentials
            raise BenchError(f"cannot open store {self.uri}: {error}") from None

    def _table_names(self) -> list[str]:
        names: list[str] = []
        token = None
        while True:
            page = self.db.list_tables(page_token=token)
            names.extend(page.tables)
            token = page.page_token
            if not token:
                return names

    def _open_or_create(self, name: str, schema: pa.Schema, file_version: str | None = None) -> Any:
        if name in self._table_names():
            return self.db.open_table(name)
        return self.db.create_table(
            name, schema=schema, exist_ok=True, data_storage_version=file_version
        )

    # embedding sets -------------------------------------------------------------------------
    def embedding_sets(self) -> list[EmbeddingSet]:
        return [self.open_set(n) for n in sorted(self._table_names()) if n.startswith("emb__")]

    def open_set(self, name: str) -> EmbeddingSet:
        if name not in self._table_names():
            raise BenchError(f"no embedding set '{name}' in store {self.uri}")
        return EmbeddingSet(self.db.open_table(name), self.uri, self.storage_options)

    def find_sets(
        self, dataset: str | None = None, backbone: str | None = None
    ) -> list[EmbeddingSet]:
        """Sets matching the filters, newest first."""
        sets = [
            s
            for s in self.embedding_sets()
            if (dataset is None or s.info.dataset == dataset)
            and (backbone is None or s.info.backbone == backbone)
        ]
        return sorted(sets, key=lambda s: s.info.created_at, reverse=True)

    def latest_set(self, dataset: str, backbone: str) -> EmbeddingSet:
        sets = self.find_sets(dataset, backbone)
        if not sets:
            raise BenchError(
                f"no embeddings of dataset '{dataset}' with backbone '{backbone}' in store {self.uri}; "
                f"run `bench extract --dataset {dataset} --backbone {backbone}` first"
            )
        return sets[0]

    def create_or_open_set(self, identity: dict[str, Any], info: SetInfo) -> EmbeddingSet:
        """The set for this identity: opened if it exists (to add missing clips), else created."""
        name = table_name(info.dataset, info.backbone, identity)
        table = self._open_or_create(name, arrow_schema(identity, info), TOKEN_FILE_VERSION)
        return self._checked(EmbeddingSet(table, self.uri, self.storage_options), identity)

    def existing_set(self, identity: dict[str, Any], info: SetInfo) -> EmbeddingSet | None:
        """The set for this identity if one was created, without creating it (dry runs)."""
        name = table_name(info.dataset, info.backbone, identity)
        if name not in self._table_names():
            return None
        return self._checked(self.open_set(name), identity)

    @staticmethod
    def _checked(embedding_set: EmbeddingSet, identity: dict[str, Any]) -> EmbeddingSet:
        if embedding_set.identity != identity:
            raise BenchError(
                f"table {embedding_set.name} holds a different identity (hash collision?); "
                "refusing to mix"
            )
        return embedding_set

    # failures -------------------------------------------------------------------------------
    def record_failures(
        self,
        embedding_set: str,
        failures: Iterable[dict[str, Any]],
        *,
        retried: Collection[str] = (),
    ) -> int:
        """Add failure records (clip_id, stage, reason, created_at) of `embedding_set`.

        The table holds each clip's latest failure: records of the `retried` clips (every clip a
        run attempted) are replaced, so a clip that failed before and is stored now has none, and
        one that failed again has one, with the newest reason."""
        rows = [{"embedding_set": embedding_set, **f} for f in failures]
        stale = {f["clip_id"] for f in self.failures(embedding_set)} & (
            set(retried) | {r["clip_id"] for r in rows}
        )
        if not rows and not stale:
            return 0
        table = self._open_or_create(FAILURES_TABLE, FAILURES_SCHEMA)
        sorted_stale = sorted(stale)
        for start in range(0, len(sorted_stale), 1000):
            ids = ids_filter(sorted_stale[start : start + 1000])
            table.delete(f"embedding_set = {sql_string(embedding_set)} AND {ids}")
        if rows:
            table.add(pa.Table.from_pylist(rows, schema=FAILURES_SCHEMA))
        return len(rows)

    def failures(self, embedding_set: str | None = None) -> list[dict[str, Any]]:
        if FAILURES_TABLE not in self._table_names():
            return []
        table = self.db.open_table(FAILURES_TABLE).to_lance()
        where = None if embedding_set is None else f"embedding_set = {sql_string(embedding_set)}"
        return table.to_table(filter=where).to_pylist()

    # results --------------------------------------------------------------------------------
    def add_runs(self, runs: Iterable[RunRecord]) -> int:
        """Write the runs whose run_id is not stored yet; returns how many were new. Idempotent, so a
        resumed search can store everything it knows without duplicating what an earlier,
        interrupted call already stored."""
        rows = [r.to_row() for r in runs]
        if not rows:
            return 0
        table = self._open_or_create(RESULTS_TABLE, RESULTS_SCHEMA)
        result = (
            table.merge_insert("run_id")
            .when_not_matched_insert_all()
            .execute(pa.Table.from_pylist(rows, schema=RESULTS_SCHEMA))
        )
        return int(result.num_inserted_rows)

    def compact_runs(self) -> None:
        """Merge the results table's small files: searches store each trial as it finishes, one
        small commit per trial, and a grid of thousands of searches would otherwise leave the
        table in tens of thousands of fragments that every read has to open."""
        if RESULTS_TABLE in self._table_names():
            self.db.open_table(RESULTS_TABLE).optimize()

    def runs(self, **equals: str) -> list[RunRecord]:
        """Runs whose columns equal the given values (e.g. dataset="esc50", kind="final"); the
        filter runs inside LanceDB, so a lookup never reads the whole results table."""
        if RESULTS_TABLE not in self._table_names():
            return []
        unknown = set(equals) - set(RESULTS_SCHEMA.names)
        if unknown:
            raise ValueError(f"unknown results columns: {', '.join(sorted(unknown))}")
        where = " AND ".join(
            f"{k} = '{str(v).replace(chr(39), chr(39) * 2)}'" for k, v in equals.items()
        )
        rows = (
            self.db.open_table(RESULTS_TABLE).to_lance().to_table(filter=where or None).to_pylist()
        )
        return [RunRecord.from_row(r) for r in rows]
