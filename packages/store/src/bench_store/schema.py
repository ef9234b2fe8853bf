"""What an embedding-set row is, and how rows become Arrow (shared by every writer and reader).

One row per clip holds only the clip's valid tokens, flattened from (layers, T, F, D), so nothing
is spent on padding; readers pad when they batch. The tokens are one run of raw bytes per clip in
Lance's blob encoding (`TOKENS_FIELD`). Table-level metadata (Arrow schema metadata) carries the identity and what a reader needs to interpret rows (dims, layers, classes, dtype).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from bench_core import code_version
from bench_store.codecs import TokenDType
from bench_store.identity import canonical_json

IDENTITY_KEY = b"bench.identity"
INFO_KEY = b"bench.info"
BLOB_KEY = b"lance-encoding:blob"

TOKENS_FIELD = pa.field("tokens", pa.large_binary(), metadata={BLOB_KEY: b"true"})
"""A clip's stored values (`TokenDType.storage_dtype`, (layers, T, F, D) in C order) as one run of
bytes. Lance's blob encoding writes the runs of a data file back to back and a scan returns each
row's (position, size) in that file instead of its bytes, so a reader can take the bytes straight
from the file (`blobs.BlobReader`): on a local store, views of the memory-mapped file with no
decode and no copy, and only the layer it wants. A `list<halffloat>` column, which this replaced,
spent 3x a memory copy decoding every batch."""


def is_blob_tokens(field: pa.Field) -> bool:
    """Whether a table's tokens field is `TOKENS_FIELD` (Arrow field equality ignores metadata)."""
    metadata = field.metadata or {}
    return field.type == TOKENS_FIELD.type and metadata.get(BLOB_KEY) == b"true"


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
    tokens: np.ndarray
    """(L, T, F, D), valid time steps only: floats, or values already in the set's storage dtype."""
    cls: np.ndarray  # (L, D)
    fold: int = -1
    duration: float = 0.0


@dataclass(frozen=True)
class TokenBatch:
    """Clips of one split as padded arrays: what probes consume."""

    clip_ids: list[str]
    tokens: np.ndarray
    """(N, T, F, D). When no clip needs padding this is a read-only view of the stored bytes (on
    a local store, of the memory-mapped data file: a page is read when first touched); copy it
    before writing into it."""
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
        TOKENS_FIELD,
        pa.field("cls", pa.list_(pa.float32(), cls_width)),
    ]
    info_json = json.dumps(asdict(info), default=str)
    return pa.schema(
        fields,
        metadata={IDENTITY_KEY: canonical_json(identity).encode(), INFO_KEY: info_json.encode()},
    )


def rows_to_arrow(rows: Sequence[ClipTokens], info: SetInfo, schema: pa.Schema) -> pa.Table:
    """Validate rows against the set's geometry and build the Arrow table a writer stores."""
    for row in rows:
        if row.tokens.ndim != 4 or row.tokens.shape[0] != len(info.layers):
            raise ValueError(
                f"{row.clip_id}: tokens must be (layers, T, F, D), got {row.tokens.shape}"
            )
        if row.tokens.shape[2:] != (info.freq_tokens, info.embed_dim):
            raise ValueError(f"{row.clip_id}: token grid {row.tokens.shape} does not match the set")
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
    return pa.table(columns, schema=schema)
