"""Writing rows from any process, committing them from one.

A worker (a Ray task on any node) writes its rows as Lance data files and returns a
`PendingFragment`: a few hundred bytes naming the files and the clips inside. Nothing is visible
to readers until the single committer (`EmbeddingSet.commit`) appends pending fragments to the
table in one atomic Lance commit. Token bytes therefore go from the worker straight to storage
(never through the driver), and an interrupted run leaves only unreferenced files behind, which
`bench store optimize` deletes: a clip is either committed exactly once or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
from lance.fragment import write_fragments

from bench_store.schema import ClipTokens, SetInfo, rows_to_arrow


@dataclass(frozen=True)
class PendingFragment:
    """Written but uncommitted rows: the fragments' Lance metadata (JSON) and their clip ids."""

    fragments: tuple[str, ...]
    clip_ids: tuple[str, ...]


@dataclass(frozen=True)
class FragmentWriter:
    """Everything a worker needs to write rows of one embedding set; picklable, holds nothing
    open (a Ray task on another node rebuilds its connection from these fields)."""

    uri: str
    schema: pa.Schema
    info: SetInfo
    data_storage_version: str
    storage_options: dict[str, str] | None = None

    def write(self, rows: Sequence[ClipTokens]) -> PendingFragment:
        """Write `rows` (one file, or more past Lance's file size limit); commit nothing."""
        table = rows_to_arrow(rows, self.info, self.schema)
        written = write_fragments(
            table,
            self.uri,
            schema=self.schema,
            max_rows_per_file=max(1, len(rows)),
            data_storage_version=self.data_storage_version,
            storage_options=self.storage_options,
        )
        return PendingFragment(
            fragments=tuple(json.dumps(fragment.to_json()) for fragment in written),
            clip_ids=tuple(row.clip_id for row in rows),
        )
