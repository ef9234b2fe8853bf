"""Small token problems for probe tests, as arrays and as real LanceDB embedding sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench_probes import ProbeData, SplitArrays
from bench_store import ClipTokens, EmbeddingSet, SetInfo, TokenStore

T, F, D, C = 24, 2, 32, 3


def localized_problem(n: int, seed: int, variable_length: bool = False) -> SplitArrays:
    """Multi-label toy task: a class is present iff one token carries its (dense) direction. The
    token mean dilutes that token by 1/(T*F), so only token-level scoring sees it clearly. With
    `variable_length`, clips have 12 to 24 valid time steps (the rest is zero padding)."""
    rng = np.random.default_rng(seed)
    tokens = rng.standard_normal((n, T, F, D)).astype(np.float32) * 0.5
    targets = (rng.random((n, C)) < 0.4).astype(np.float32)
    steps = rng.integers(T // 2, T + 1, size=n) if variable_length else np.full(n, T)
    mask = np.arange(T)[None, :] < steps[:, None]
    tokens[~mask] = 0
    directions = np.random.default_rng(123).standard_normal((C, D)).astype(np.float32)
    directions *= 4 / np.linalg.norm(directions, axis=1, keepdims=True)
    for i in range(n):
        for k in np.flatnonzero(targets[i]):
            tokens[i, rng.integers(steps[i]), rng.integers(F)] += directions[k]
    cls = tokens.sum(axis=(1, 2)) / (steps[:, None] * F)  # the masked token mean
    return SplitArrays(
        tokens.astype(np.float16), mask, cls, targets, tuple(f"s{seed}c{i:04d}" for i in range(n))
    )


def localized_data() -> ProbeData:
    return ProbeData(
        "multilabel",
        C,
        D,
        F,
        localized_problem(200, 0),
        localized_problem(60, 1),
        localized_problem(60, 2),
    )


def localized_store(root: Path, appends: int = 4, valid_split: bool = False) -> EmbeddingSet:
    """The localized problem (200 train, 60 test clips, of varying length) written to a real
    store in several appends (several fragments), in an order unrelated to the clip ids."""
    info = SetInfo(
        dataset="toy",
        backbone="eat",
        task_kind="multilabel",
        class_names=tuple("abc"),
        embed_dim=D,
        freq_tokens=F,
        layers=(11,),
    )
    identity = {"dataset": "toy", "backbone": "eat", "layers": [11]}
    embedding_set = TokenStore(str(root)).create_or_open_set(identity, info)
    splits = [("train", 200, 0), ("test", 60, 2)] + ([("valid", 60, 1)] if valid_split else [])
    rows = []
    for split, n, seed in splits:
        arrays = localized_problem(n, seed, variable_length=True)
        for i in range(n):
            steps = int(arrays.mask[i].sum())
            rows.append(
                ClipTokens(
                    clip_id=arrays.clip_ids[i],
                    split=split,
                    labels=tuple(int(k) for k in np.flatnonzero(arrays.targets[i])),
                    tokens=arrays.tokens[i][None, :steps],
                    cls=arrays.cls[i][None],
                )
            )
    order = np.random.default_rng(7).permutation(len(rows))
    for part in np.array_split(order, appends):
        embedding_set.append([rows[i] for i in part])
    return embedding_set
