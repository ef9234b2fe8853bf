"""Probe training throughput: streaming from the store vs in RAM, and k heads on one pass vs k
separate passes.

The embedding set is written to a real LanceDB store in a temporary folder: EAT-base-sized token
maps (5 s clips: 32 x 8 tokens x 768 dims, fp16) in several appends, with stored train, valid and
test splits (what a set too large for RAM should have, see `ProbeData.from_set`). Its files sit
in the page cache once written, so "streamed" measures what reading adds (scan, Arrow decoding,
padding, shuffle window, read-ahead), not a cold disk. Throughput is training samples per second
over whole epochs (validation passes included: they are part of every epoch's cost). One torch
thread, so that the numbers stay comparable on a shared machine.
(The module is not called bench_probes.py: that name would shadow the `bench_probes` package.)
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

import numpy as np
import torch
from common import Ratio, best_of

from bench_probes import ProbeData, ProbeSpec, TrainSettings, train_probes
from bench_store import ClipTokens, SetInfo, TokenStore

CLIPS, STEPS, FREQ, DIM, CLASSES = 320, 32, 8, 768, 20
EPOCHS, BATCH = 2, 64
POOLINGS = ("linpre", "mhca", "protobin")
LEARNING_RATES = (1e-4, 1e-3, 1e-2, 1e-1)
PARAMS = {"protobin": {"prototypes_per_class": 5}}


def write_set(root: Path) -> ProbeData:
    info = SetInfo("bench", "eat", "multilabel", tuple(map(str, range(CLASSES))), DIM, FREQ, (11,))
    embedding_set = TokenStore(str(root)).create_or_open_set({"bench": 1}, info)
    rng = np.random.default_rng(0)
    for start in range(0, CLIPS, 96):
        rows = [
            ClipTokens(
                clip_id=f"c{i:05d}",
                split={0: "test", 1: "valid"}.get(i % 10, "train"),
                labels=tuple(int(c) for c in rng.choice(CLASSES, 2, replace=False)),
                tokens=rng.standard_normal((1, STEPS, FREQ, DIM), dtype=np.float32),
                cls=rng.standard_normal((1, DIM), dtype=np.float32),
            )
            for i in range(start, min(start + 96, CLIPS))
        ]
        embedding_set.append(rows)
    return ProbeData.from_set(embedding_set, memory_budget=0)


def spec(head: str, lr: float = 1e-3) -> ProbeSpec:
    settings = TrainSettings(lr=lr, weight_decay=1e-4, epochs=EPOCHS, batch_size=BATCH)
    return ProbeSpec(head, PARAMS.get(head, {}), settings)


def one_pass_vs_separate(
    label: str, data: ProbeData, specs: list[ProbeSpec], goal: str = ""
) -> Ratio:
    one_pass = best_of(lambda: train_probes(data, specs), repeats=3)
    separate = best_of(lambda: [train_probes(data, [s]) for s in specs], repeats=3)
    return Ratio(f"{label}: one pass / separate passes", one_pass, separate, "s", goal)


def run() -> list[Ratio]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # shared CI machines: OpenMP teams stall under foreign load
    try:
        with tempfile.TemporaryDirectory(prefix="bench-probes-") as tmp:
            streamed = write_set(Path(tmp) / "store")
            in_ram = ProbeData.from_set(streamed.train.embedding_set)  # type: ignore[union-attr]
            return measure(streamed, in_ram)
    finally:
        torch.set_num_threads(threads)


def measure(streamed: ProbeData, in_ram: ProbeData) -> list[Ratio]:
    assert streamed.streamed == ("train", "valid", "test") and in_ram.streamed == ()
    samples = EPOCHS * len(in_ram.train)
    ratios = []
    for head in ("linpre", "protobin"):
        ram_s = best_of(partial(train_probes, in_ram, [spec(head)]), repeats=2)
        stream_s = best_of(partial(train_probes, streamed, [spec(head)]), repeats=2)
        ratios.append(
            Ratio(
                f"train {head}: streamed from the store / in RAM",
                samples / stream_s,
                samples / ram_s,
                "samples/s",
            )
        )
    # reading dominates a light head: k settings on one pass cost far less than k passes
    lrs = [spec("linpre", lr) for lr in LEARNING_RATES]
    ratios.append(
        one_pass_vs_separate(f"{len(lrs)} lrs of linpre, streamed", streamed, lrs, "<= 0.75")
    )
    ratios.append(one_pass_vs_separate(f"{len(lrs)} lrs of linpre, in RAM", in_ram, lrs))
    # heavier heads on a CPU: compute dominates and read-ahead hides most reading behind it, so
    # the saving is smaller here (informative; on a GPU reading dominates again)
    poolings = [spec(head) for head in POOLINGS]
    ratios.append(one_pass_vs_separate(f"{', '.join(POOLINGS)}, streamed", streamed, poolings))
    return ratios
