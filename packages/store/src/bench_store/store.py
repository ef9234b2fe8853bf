"""The token store: one LanceDB database (a local directory or an object-store URI)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import lancedb
import pyarrow as pa

from bench_core import BenchError, default_store_uri
from bench_store.embeddings import EmbeddingSet, SetInfo, arrow_schema
from bench_store.identity import table_name
from bench_store.results import RESULTS_SCHEMA, RESULTS_TABLE, RunRecord

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


class TokenStore:
    def __init__(
        self, uri: str | None = None, storage_options: dict[str, str] | None = None
    ) -> None:
        self.uri = uri or default_store_uri()
        # every read sees the latest committed version (a writer may be another process)
        self.db = lancedb.connect(
            self.uri, storage_options=storage_options, read_consistency_interval=timedelta(0)
        )

    def _table_names(self) -> list[str]:
        names: list[str] = []
        token = None
        while True:
            page = self.db.list_tables(page_token=token)
            names.extend(page.tables)
            token = page.page_token
            if not token:
                return names

    def _open_or_create(self, name: str, schema: pa.Schema) -> Any:
        if name in self._table_names():
            return self.db.open_table(name)
        return self.db.create_table(name, schema=schema, exist_ok=True)

    # embedding sets -------------------------------------------------------------------------
    def embedding_sets(self) -> list[EmbeddingSet]:
        return [self.open_set(n) for n in sorted(self._table_names()) if n.startswith("emb__")]

    def open_set(self, name: str) -> EmbeddingSet:
        if name not in self._table_names():
            raise BenchError(f"no embedding set '{name}' in store {self.uri}")
        return EmbeddingSet(self.db.open_table(name), self.uri)

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
        table = self._open_or_create(name, arrow_schema(identity, info))
        embedding_set = EmbeddingSet(table, self.uri)
        if embedding_set.identity != identity:
            raise BenchError(
                f"table {name} holds a different identity (hash collision?); refusing to mix"
            )
        return embedding_set

    # failures -------------------------------------------------------------------------------
    def record_failures(self, embedding_set: str, failures: Iterable[dict[str, Any]]) -> int:
        rows = [{"embedding_set": embedding_set, **f} for f in failures]
        if rows:
            self._open_or_create(FAILURES_TABLE, FAILURES_SCHEMA).add(
                pa.Table.from_pylist(rows, schema=FAILURES_SCHEMA)
            )
        return len(rows)

    def failures(self, embedding_set: str | None = None) -> list[dict[str, Any]]:
        if FAILURES_TABLE not in self._table_names():
            return []
        rows = self.db.open_table(FAILURES_TABLE).to_arrow().to_pylist()
        return [r for r in rows if embedding_set is None or r["embedding_set"] == embedding_set]

    # results --------------------------------------------------------------------------------
    def add_runs(self, runs: Iterable[RunRecord]) -> int:
        rows = [r.to_row() for r in runs]
        if rows:
            self._open_or_create(RESULTS_TABLE, RESULTS_SCHEMA).add(
                pa.Table.from_pylist(rows, schema=RESULTS_SCHEMA)
            )
        return len(rows)

    def runs(self, **equals: str) -> list[RunRecord]:
        """Runs whose columns equal the given values (e.g. dataset="esc50", kind="final")."""
        if RESULTS_TABLE not in self._table_names():
            return []
        rows = self.db.open_table(RESULTS_TABLE).to_arrow().to_pylist()
        return [
            RunRecord.from_row(r) for r in rows if all(r.get(k) == v for k, v in equals.items())
        ]
