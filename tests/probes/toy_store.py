"""A small embedding set written straight into a store (no audio, no encoder): what search tests
train on. A class is present iff one token carries its direction, as in the trainer tests."""

from __future__ import annotations

import numpy as np

from bench_store import ClipTokens, EmbeddingSet, SetInfo, TokenStore


def write_toy_set(
    store: TokenStore,
    clips: int = 120,
    time_steps: int = 8,
    freq: int = 2,
    dim: int = 16,
    classes: int = 3,
    dataset: str = "toy",
    backbone: str = "eat",
) -> EmbeddingSet:
    info = SetInfo(
        dataset=dataset,
        backbone=backbone,
        task_kind="multilabel",
        class_names=tuple(f"c{k}" for k in range(classes)),
        embed_dim=dim,
        freq_tokens=freq,
        layers=(0,),
    )
    identity = {
        "dataset": dataset,
        "backbone": backbone,
        "clips": clips,
        "dim": dim,
        "t": time_steps,
    }
    embedding_set = store.create_or_open_set(identity, info)
    rng = np.random.default_rng(0)
    directions = rng.standard_normal((classes, dim)).astype(np.float32)
    directions *= 4 / np.linalg.norm(directions, axis=1, keepdims=True)
    rows = []
    for i in range(clips):
        tokens = rng.standard_normal((1, time_steps, freq, dim)).astype(np.float32) * 0.5
        labels = tuple(int(k) for k in np.flatnonzero(rng.random(classes) < 0.4)) or (i % classes,)
        for k in labels:
            tokens[0, rng.integers(time_steps), rng.integers(freq)] += directions[k]
        rows.append(
            ClipTokens(
                clip_id=f"clip{i:05d}",
                split="test" if i % 5 == 0 else "train",
                labels=labels,
                tokens=tokens,
                cls=tokens.mean(axis=(1, 2)),
            )
        )
    embedding_set.append(rows)
    return embedding_set
