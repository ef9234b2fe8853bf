"""The token store's write and read paths against plain files and memory.

Rows are EAT-base sized (64 x 8 tokens of 768 dims, fp16: 786 KB a clip) with random values
(embeddings do not compress). Write: `EmbeddingSet.append` in fragments of 64 clips against one
`np.save` per clip; also the bytes on disk per token value. Read: `iter_batches` (padded batches
with mask, cls and labels) against slicing the same batches out of an in-memory array. Batches
from the store are views of the memory-mapped data files, so both sides hand each batch to the
same consumer, which reads every token byte (a XOR over it as uint64): a batch counts as read only
once its bytes have been touched, and the in-memory side pays nothing but that touch.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from common import Ratio, best_of

from bench_store import ClipTokens, SetInfo, TokenStore

CLIPS = 256
T, F, D = 64, 8, 768
BATCH = 32
FRAGMENT = 64

INFO = SetInfo(
    dataset="bench",
    backbone="eat",
    task_kind="multilabel",
    class_names=tuple(f"c{i}" for i in range(10)),
    embed_dim=D,
    freq_tokens=F,
    layers=(11,),
)


def make_rows() -> list[ClipTokens]:
    rng = np.random.default_rng(0)
    return [
        ClipTokens(
            clip_id=f"clip{i:06d}",
            split="train",
            labels=(i % 10,),
            tokens=rng.standard_normal((1, T, F, D), dtype=np.float32).astype(np.float16),
            cls=rng.standard_normal((1, D), dtype=np.float32),
            duration=10.0,
        )
        for i in range(CLIPS)
    ]


def consume(tokens: np.ndarray) -> int:
    """Read every byte of a batch's tokens."""
    return int(np.bitwise_xor.reduce(np.ascontiguousarray(tokens).reshape(-1).view(np.uint64)))


def run() -> list[Ratio]:
    rows = make_rows()
    token_bytes = CLIPS * T * F * D * 2
    with tempfile.TemporaryDirectory() as tmp:
        attempt = iter(range(100))

        def write_store() -> None:
            store = TokenStore(f"{tmp}/store{next(attempt)}")
            emb = store.create_or_open_set({"bench": "write"}, INFO)
            for start in range(0, CLIPS, FRAGMENT):
                emb.append(rows[start : start + FRAGMENT])

        def write_npy() -> None:
            folder = Path(tmp) / f"npy{next(attempt)}"
            folder.mkdir()
            for row in rows:
                np.save(folder / f"{row.clip_id}.npy", row.tokens)

        store_seconds = best_of(write_store)
        npy_seconds = best_of(write_npy)
        emb = TokenStore(f"{tmp}/store0").open_set(
            TokenStore(f"{tmp}/store0").embedding_sets()[0].name
        )
        bytes_per_value = emb.size_bytes() / (CLIPS * T * F * D)

        in_memory = np.stack([r.tokens[0] for r in rows])
        cls = np.stack([r.cls[0] for r in rows])

        def read_store() -> None:
            for batch in emb.iter_batches(None, BATCH):
                consume(batch.tokens)

        def read_memory() -> None:
            for start in range(0, CLIPS, BATCH):
                tokens = in_memory[start : start + BATCH]
                np.ones(tokens.shape[:2], dtype=bool)
                cls[start : start + BATCH].copy()
                consume(tokens)

        batches = CLIPS / BATCH
        read_store()  # warm the page cache for both sides
        store_read = batches / best_of(read_store, repeats=15)  # milliseconds each: many tries
        memory_read = batches / best_of(read_memory, repeats=15)
    mb = token_bytes / 1e6
    return [
        Ratio(
            "store: bytes on disk per fp16 value (vs raw 2 B)",
            bytes_per_value,
            2.0,
            "B",
            "<= 1.025",
        ),
        Ratio(
            "store: write, append vs one .npy per clip",
            mb / store_seconds,
            mb / npy_seconds,
            "MB/s",
        ),
        Ratio(
            "store: read, iter_batches vs in-memory array",
            store_read,
            memory_read,
            "batches/s",
            ">= 0.8",
        ),
    ]


if __name__ == "__main__":
    for ratio in run():
        print(ratio, f"ratio={ratio.ratio:.3f}")
