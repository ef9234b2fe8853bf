"""A tiny embedding set for store tests: 4-d tokens on a 2-wide frequency grid, one layer."""

from __future__ import annotations

import numpy as np

from bench_store import ClipTokens, SetInfo

INFO = SetInfo(
    dataset="toy",
    backbone="eat",
    task_kind="multilabel",
    class_names=("a", "b", "c"),
    embed_dim=4,
    freq_tokens=2,
    layers=(11,),
)
IDENTITY = {
    "dataset": "toy",
    "backbone": "eat",
    "weights": {"source": "random", "seed": 0},
    "layers": [11],
}


def clip(i: int, steps: int = 3, split: str = "train") -> ClipTokens:
    rng = np.random.default_rng(i)
    return ClipTokens(
        clip_id=f"c{i}",
        split=split,
        labels=(i % 3,),
        tokens=rng.standard_normal((1, steps, 2, 4)).astype(np.float32),
        cls=rng.standard_normal((1, 4)).astype(np.float32),
        duration=float(steps),
    )
