"""Embedding sets: one LanceDB table per (dataset, backbone, layer selection, identity).

One row per clip holds only the clip's valid tokens, flattened from (layers, T, F, D), so nothing
is spent on padding; readers pad when they batch. Table-level metadata (Arrow schema metadata)
carries the identity and what a reader needs to interpret rows (dims, layers, classes, dtype).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from bench_core import BenchError, code_version
from bench_store.codecs import TokenDType
from bench_store.identity import canonical_json, identity_hash

IDENTITY_KEY = b"bench.identity"
INFO_KEY = b"bench.info"


@dataclass(frozen=True)
class SetInfo:
    """How to read an embedding set's rows, and what they are about."""

    dataset: str
    backbone: str
    task_kind: str
    class_names: tuple[str, ...]
    embed_dim: int
    freq_tokens: int
    layers: tuple[int, ...]
    dtype: TokenDType = TokenDType.FP16
    has_cls: bool = True
    created_at: float = field(default_factory=time.time)
    code_version: str = field(default_factory=code_version)

    @classmethod
    def from_json(cls, text: str | bytes) -> SetInfo:
        data = json.loads(text)
        data["class_names"] = tuple(data["class_names"])
        data["layers"] = tuple(data["layers"])
        data["dtype"] = TokenDType(data["dtype"])
        return cls(**data)


@dataclass(frozen=True)
class ClipTokens:
    """One clip's extraction result, ready to be written."""

    clip_id: str
    split: str
    labels: tuple[int, ...]
    tokens: np.ndarray  # (L, T, F, D), valid time steps only
    cls: np.ndarray  # (L, D)
    fold: int = -1
    duration: float = 0.0


@dataclass(frozen=True)
class TokenBatch:
    """Clips of one split as padded arrays: what probes consume."""

    clip_ids: list[str]
    tokens: np.ndarray  # (N, T, F, D)
    mask: np.ndarray  # (N, T) bool, True = valid time step
    cls: np.ndarray  # (N, D) float32
    labels: list[tuple[int, ...]]

    def __len__(self) -> int:
        return len(self.clip_ids)

    def targets(self, task_kind: str, num_classes: int) -> np.ndarray:
        """Multi-hot float32 (N, C) for multi-label tasks, class indices int64 (N,) otherwise."""
        if task_kind == "multiclass":
            return np.array([labels[0] for labels in self.labels], dtype=np.int64)
        out = np.zeros((len(self.labels), num_classes), dtype=np.float32)
        for row, labels in enumerate(self.labels):
            out[row, list(labels)] = 1.0
        return out


def arrow_schema(identity: dict[str, Any], info: SetInfo) -> pa.Schema:
    cls_width = len(info.layers) * info.embed_dim
    fields = [
        pa.field("clip_id", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("fold", pa.int32()),
        pa.field("labels", pa.list_(pa.int32())),
        pa.field("duration", pa.float32()),
        pa.field("grid_t", pa.int32()),
        pa.field("grid_f", pa.int32()),
        pa.field("n_valid", pa.int32()),
        pa.field("tokens", info.dtype.arrow_type),
        pa.field("cls", pa.list_(pa.float32(), cls_width)),
    ]
    info_json = json.dumps(asdict(info), default=str)
    return pa.schema(
        fields,
        metadata={IDENTITY_KEY: canonical_json(identity).encode(), INFO_KEY: info_json.encode()},
    )


class EmbeddingSet:
    """A handle on one embedding-set table. Writes go through `append` (single writer).

    Opened through a `TokenStore`, a set knows its store URI and pickles as (URI, table name), so
    it can travel to Ray workers, which reopen it (object-store credentials come from their
    environment, as for any `TokenStore`).
    """

    def __init__(self, table: Any, store_uri: str | None = None) -> None:
        self.table = table
        self.store_uri = store_uri
        metadata = table.schema.metadata or {}
        if IDENTITY_KEY not in metadata or INFO_KEY not in metadata:
            raise BenchError(
                f"table {table.name} is not a bench embedding set (no identity metadata)"
            )
        self.identity: dict[str, Any] = json.loads(metadata[IDENTITY_KEY])
        self.info = SetInfo.from_json(metadata[INFO_KEY])
        self._known_ids: set[str] | None = None

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        if self.store_uri is None:
            raise TypeError(f"embedding set {self.name} was opened without its store URI")
        return _reopen, (self.store_uri, self.name)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def identity_hash(self) -> str:
        return identity_hash(self.identity)

    def count(self, split: str | None = None) -> int:
        return self.table.count_rows(None if split is None else _split_filter(split))

    def clip_ids(self, split: str) -> list[str]:
        """Clip ids of one split (reads only the id column)."""
        table = self.table.to_lance().to_table(columns=["clip_id"], filter=_split_filter(split))
        return table.column("clip_id").to_pylist()

    def fragment_ids(self) -> list[int]:
        """Ids of the table's fragments (units a reader can visit in any order)."""
        return [fragment.fragment_id for fragment in self.table.to_lance().get_fragments()]

    def existing_ids(self) -> set[str]:
        if self._known_ids is None:
            column = self.table.to_lance().to_table(columns=["clip_id"]).column("clip_id")
            self._known_ids = set(column.to_pylist())
        return self._known_ids

    def append(self, rows: Sequence[ClipTokens]) -> int:
        """Write the rows whose clip_id is not stored yet, as one commit. Returns rows written."""
        known = self.existing_ids()
        fresh, seen = [], set()
        for row in rows:
            if row.clip_id not in known and row.clip_id not in seen:
                fresh.append(row)
                seen.add(row.clip_id)
        if not fresh:
            return 0
        self.table.add(self._to_arrow(fresh))
        known.update(seen)
        return len(fresh)

    def _to_arrow(self, rows: Sequence[ClipTokens]) -> pa.Table:
        info = self.info
        for row in rows:
            if row.tokens.ndim != 4 or row.tokens.shape[0] != len(info.layers):
                raise ValueError(
                    f"{row.clip_id}: tokens must be (layers, T, F, D), got {row.tokens.shape}"
                )
            if row.tokens.shape[2:] != (info.freq_tokens, info.embed_dim):
                raise ValueError(
                    f"{row.clip_id}: token grid {row.tokens.shape} does not match the set"
                )
        cls_width = len(info.layers) * info.embed_dim
        cls_values = np.concatenate([r.cls.astype(np.float32).reshape(-1) for r in rows])
        columns = {
            "clip_id": pa.array([r.clip_id for r in rows], pa.string()),
            "split": pa.array([r.split for r in rows], pa.string()),
            "fold": pa.array([r.fold for r in rows], pa.int32()),
            "labels": pa.array([list(r.labels) for r in rows], pa.list_(pa.int32())),
            "duration": pa.array([r.duration for r in rows], pa.float32()),
            "grid_t": pa.array([r.tokens.shape[1] for r in rows], pa.int32()),
            "grid_f": pa.array([r.tokens.shape[2] for r in rows], pa.int32()),
            "n_valid": pa.array([r.tokens.shape[1] * r.tokens.shape[2] for r in rows], pa.int32()),
            "tokens": info.dtype.encode([r.tokens for r in rows]),
            "cls": pa.FixedSizeListArray.from_arrays(pa.array(cls_values), cls_width),
        }
        return pa.table(columns, schema=self.table.schema)

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
        """All clips of `split` (all splits if None) as one padded batch, in clip_id order."""
        table = self.table.to_lance().to_table(
            filter=None if split is None else _split_filter(split)
        )
        table = table.sort_by("clip_id")
        return self._to_batch(table, self.layer_position(layer))

    def iter_batches(
        self,
        split: str | None,
        batch_size: int,
        layer: int | None = None,
        fragments: Sequence[int] | None = None,
    ) -> Iterator[TokenBatch]:
        """Stream padded batches without materialising the split (for sets larger than RAM).
        `fragments` (ids from `fragment_ids`) restricts the scan to those fragments, read in the
        order given: how a shuffling reader visits the table in a different order every epoch."""
        position = self.layer_position(layer)
        dataset = self.table.to_lance()
        chosen = None if fragments is None else [dataset.get_fragment(i) for i in fragments]
        scanner = dataset.scanner(
            filter=None if split is None else _split_filter(split),
            batch_size=batch_size,
            fragments=chosen,
        )
        for record_batch in scanner.to_batches():
            if record_batch.num_rows:
                yield self._to_batch(pa.Table.from_batches([record_batch]), position)

    def _to_batch(self, table: pa.Table, position: int) -> TokenBatch:
        info = self.info
        n = table.num_rows
        grid_t = table.column("grid_t").to_numpy()
        f, d, n_layers = info.freq_tokens, info.embed_dim, len(info.layers)
        t_max = int(grid_t.max()) if n else 0
        tokens = np.zeros((n, t_max, f, d), dtype=info.dtype.numpy_dtype)
        mask = np.zeros((n, t_max), dtype=bool)
        column = table.column("tokens").combine_chunks()
        values = column.values.to_numpy(zero_copy_only=False)
        offsets = column.offsets.to_numpy()
        for i in range(n):
            t = int(grid_t[i])
            clip = values[offsets[i] : offsets[i + 1]].reshape(n_layers, t, f, d)
            tokens[i, :t] = clip[position]
            mask[i, :t] = True
        cls_all = np.asarray(table.column("cls").combine_chunks().flatten()).reshape(n, n_layers, d)
        return TokenBatch(
            clip_ids=table.column("clip_id").to_pylist(),
            tokens=tokens,
            mask=mask,
            cls=cls_all[:, position].astype(np.float32),
            labels=[tuple(x) for x in table.column("labels").to_pylist()],
        )

    def size_bytes(self) -> int:
        """Bytes of the current version's data files (what a reader scans)."""
        return sum(
            data_file.file_size_bytes or 0
            for fragment in self.table.to_lance().get_fragments()
            for data_file in fragment.data_files()
        )


def _reopen(store_uri: str, name: str) -> EmbeddingSet:
    from bench_store.store import TokenStore

    return TokenStore(store_uri).open_set(name)


def _split_filter(split: str) -> str:
    if not split.replace("_", "").replace("-", "").isalnum():
        raise BenchError(f"invalid split name {split!r}")
    return f"split = '{split}'"
