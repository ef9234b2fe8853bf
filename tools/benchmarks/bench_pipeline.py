"""Pipeline efficiency of `bench extract`: clips/s end to end against the bare encoder.

Ours: `extract()` over the synthetic set (decode + front-end tasks, one encoder actor, fragment
writes and commits) through a local Ray. Baseline: the same encoder (EAT "small" preset, seeded
random weights) over the same clips' front-end features already in memory, in batches of the same
size, with the same thread count (one). A run pays a fixed start-up (the actor imports torch and
builds its encoder) that a real extraction amortises over hours, so the goal is on the steady
rate, measured as the marginal rate of two whole runs: (large - small clips) / (large run's wall
time - small run's), after a first run that warms Ray's worker processes. Both runs pay the same
start-up (the encoder actor's), which cancels; wall times of whole runs do not depend on how Ray
Data bunches its output (rates between progress marks did, by up to 2x). The large run's rate,
start-up included, is informational.
"""

from __future__ import annotations

import os
import tempfile
import time

import torch
from common import Ratio, best_of

from bench_audio import DatasetConfig, decode_clip, open_dataset
from bench_core import ensure_ray
from bench_encoders import create_encoder
from bench_extract import ExtractOptions, extract
from bench_store import TokenStore

SMALL, LARGE = 320, 1600
BATCH = 16
PRESET = "small"


def bare_encoder_clips_per_second(config: DatasetConfig) -> float:
    torch.set_num_threads(1)
    encoder, _ = create_encoder("eat", random_weights=True, preset=PRESET)
    data = open_dataset(config)
    features = []
    with torch.inference_mode():
        for clip in data.clips:
            wave = torch.from_numpy(decode_clip(clip, 16000, data.info.clip_seconds))
            feats, frames = encoder.frontend(wave[None], torch.tensor([len(wave)]))
            features.append(feats[0, : int(frames[0])])
    batches = []
    for start in range(0, len(features), BATCH):
        group = features[start : start + BATCH]
        frames = torch.tensor([len(f) for f in group])
        padded = torch.full(
            (len(group), int(frames.max()), group[0].shape[1]), encoder.frontend.pad_value
        )
        for row, f in enumerate(group):
            padded[row, : len(f)] = f
        batches.append((padded, frames))

    def forward() -> None:
        with torch.inference_mode():
            for padded, frames in batches:
                encoder.encode_features(padded, frames)

    forward()  # warm-up
    return len(features) / best_of(forward, repeats=2)


def synthetic(root: str, clips: int) -> DatasetConfig:
    config = DatasetConfig(
        name="synthetic",
        reader="synthetic",
        root=root,
        options={"kind": "multilabel", "n_clips": clips, "clip_seconds": 4.0, "seed": 0},
    )
    open_dataset(config)  # generate the audio before timing anything
    return config


def extraction_seconds(config: DatasetConfig, store: str, clips: int) -> float:
    start = time.perf_counter()
    summary = extract(
        config,
        "eat",
        store=TokenStore(store),
        random_weights=True,
        preset=PRESET,
        options=ExtractOptions(batch_size=BATCH, write_every=4 * BATCH, commit_seconds=5.0),
    )
    seconds = time.perf_counter() - start
    assert summary.written == clips, summary
    return seconds


def run() -> list[Ratio]:
    ensure_ray(num_cpus=min(4, os.cpu_count() or 2), object_store_memory=1 << 30)
    with tempfile.TemporaryDirectory() as tmp:
        small = synthetic(f"{tmp}/small", SMALL)
        large = synthetic(f"{tmp}/large", LARGE)
        # the first extraction of a Ray session also starts and warms its worker processes
        extraction_seconds(small, f"{tmp}/store-warm-up", SMALL)
        small_seconds = extraction_seconds(small, f"{tmp}/store-small", SMALL)
        large_seconds = extraction_seconds(large, f"{tmp}/store-large", LARGE)
        bare = bare_encoder_clips_per_second(large)
    return [
        Ratio(
            f"extract: pipeline efficiency, steady ({LARGE} - {SMALL} clips)",
            (LARGE - SMALL) / (large_seconds - small_seconds),
            bare,
            "clips/s",
            ">= 0.85",
        ),
        Ratio(
            f"extract: pipeline efficiency, whole run of {LARGE} clips",
            LARGE / large_seconds,
            bare,
            "clips/s",
        ),
    ]


if __name__ == "__main__":
    for ratio in run():
        print(ratio, f"ratio={ratio.ratio:.3f}")
