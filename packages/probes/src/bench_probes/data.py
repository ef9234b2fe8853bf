"""Token data for probe training, read from an embedding set of the store."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench_store import EmbeddingSet, TokenBatch

VALID_FRACTION = 0.1


@dataclass(frozen=True)
class SplitArrays:
    """One split as arrays: tokens stay in the stored dtype (fp16) until a batch is formed."""

    tokens: np.ndarray
    mask: np.ndarray
    cls: np.ndarray
    targets: np.ndarray
    clip_ids: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.targets)

    def subset(self, rows: np.ndarray) -> SplitArrays:
        return SplitArrays(
            self.tokens[rows],
            self.mask[rows],
            self.cls[rows],
            self.targets[rows],
            tuple(self.clip_ids[i] for i in rows),
        )

    @classmethod
    def from_batch(cls, batch: TokenBatch, task_kind: str, num_classes: int) -> SplitArrays:
        return cls(
            batch.tokens,
            batch.mask,
            batch.cls,
            batch.targets(task_kind, num_classes),
            tuple(batch.clip_ids),
        )


@dataclass(frozen=True)
class ProbeData:
    task_kind: str
    num_classes: int
    embed_dim: int
    freq_tokens: int
    train: SplitArrays
    valid: SplitArrays
    test: SplitArrays | None

    @classmethod
    def from_set(cls, embedding_set: EmbeddingSet, layer: int | None = None) -> ProbeData:
        """Load train/valid/test into RAM. Without a stored "valid" split, a fixed 10% of train
        (seeded, so every probe sees the same one) becomes the validation split."""
        info = embedding_set.info
        kind, n_classes = info.task_kind, len(info.class_names)

        def load(split: str) -> SplitArrays | None:
            if embedding_set.count(split) == 0:
                return None
            return SplitArrays.from_batch(embedding_set.load(split, layer), kind, n_classes)

        train = load("train")
        if train is None:
            raise ValueError(f"{embedding_set.name} has no train split")
        valid = load("valid")
        if valid is None:
            order = np.random.default_rng(0).permutation(len(train))
            n_valid = max(1, int(len(train) * VALID_FRACTION))
            valid, train = (
                train.subset(np.sort(order[:n_valid])),
                train.subset(np.sort(order[n_valid:])),
            )
        return cls(kind, n_classes, info.embed_dim, info.freq_tokens, train, valid, load("test"))
