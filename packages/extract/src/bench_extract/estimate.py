"""`bench extract --dry-run`: what a run would do, measured on a few clips, without Ray or writes.

The sample runs the pipeline's own stages in this process (decode + front-end, then the encoder on
this machine's device), so bytes per clip are the bytes the run will store and the time per clip is
this machine's. The estimate takes the slower of the two stages, as the pipeline overlaps them:
encoding shared by the actors, decoding by the CPUs the actors leave free.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bench_audio import DatasetConfig, open_dataset
from bench_encoders import create_encoder
from bench_extract.pipeline import (
    ExtractOptions,
    decode_stage,
    encoder_spec,
    set_identity,
)
from bench_extract.stages import EncodeStage, as_batch
from bench_store import TokenDType, TokenStore, table_name

ROW_OVERHEAD_BYTES = 64
"""Per-row bytes beside tokens and cls: ids, split, labels, shape columns and file framing."""


@dataclass(frozen=True)
class ExtractEstimate:
    embedding_set: str
    total_clips: int
    already_stored: int
    to_extract: int
    sample_clips: int
    sample_failures: int
    bytes_per_clip: float
    decode_seconds_per_clip: float
    encode_seconds_per_clip: float
    estimated_seconds: float
    """Steady-state time of the run, without the start-up of Ray and the actors (seconds to a
    minute, once per run)."""

    @property
    def total_bytes(self) -> float:
        return self.bytes_per_clip * self.to_extract


def estimate(
    dataset: str | DatasetConfig,
    backbone: str,
    *,
    store: TokenStore | None = None,
    checkpoint: str | Path | None = None,
    random_weights: bool = False,
    preset: str = "base",
    seed: int = 0,
    layers: Sequence[int] | None = None,
    dtype: TokenDType = TokenDType.FP16,
    data_root: str | Path | None = None,
    options: ExtractOptions | None = None,
    sample: int = 8,
) -> ExtractEstimate:
    """Clips to extract, bytes per clip, total size and time, from a sample of `sample` clips."""
    options = options or ExtractOptions()
    store = store or TokenStore()
    data = open_dataset(dataset, data_root)
    encoder, weights = create_encoder(
        backbone, checkpoint=checkpoint, random_weights=random_weights, preset=preset, seed=seed
    )
    identity, info = set_identity(data, encoder, weights, layers, dtype)
    existing = store.existing_set(identity, info)
    stored = existing.existing_ids() if existing else set()
    missing = [c for c in data.clips if c.clip_id not in stored]
    todo = missing if options.limit is None else missing[: options.limit]
    # spread the sample over the clips to extract (datasets are often sorted by class or length)
    picks = np.unique(np.linspace(0, len(todo) - 1, min(sample, len(todo))).round().astype(int))
    records = [todo[i].to_record() for i in picks] if todo else []
    decode_s = encode_s = 0.0
    bytes_per_clip, failures = 0.0, 0
    if records:
        decode = decode_stage(encoder, data, options)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as in a decode task (Ray gives it one CPU)
        decode(as_batch(records[:1]))  # warm-up: first calls pay for lazy imports and caches
        started = time.perf_counter()
        decoded = decode(as_batch(records))
        decode_s = (time.perf_counter() - started) / len(records)
        torch.set_num_threads(threads)
        stage = EncodeStage(
            encoder_spec(backbone, weights, random_weights, preset, seed, info, options)
        )
        stage(decoded)  # warm-up: first calls pay for allocation and kernel selection
        started = time.perf_counter()
        encoded = stage(decoded)
        encode_s = (time.perf_counter() - started) / len(records)
        good = [i for i in range(len(records)) if not encoded["error"][i]]
        failures = len(records) - len(good)
        if good:
            bytes_per_clip = ROW_OVERHEAD_BYTES + float(
                np.mean([len(encoded["tokens"][i]) + len(encoded["cls"][i]) for i in good])
            )
    decode_workers = max(1.0, (os.cpu_count() or 1) - options.num_actors * options.cpus_per_actor)
    per_clip = max(encode_s / options.num_actors, decode_s / decode_workers)
    return ExtractEstimate(
        embedding_set=table_name(info.dataset, info.backbone, identity),
        total_clips=len(data.clips),
        already_stored=len(data.clips) - len(missing),
        to_extract=len(todo),
        sample_clips=len(records),
        sample_failures=failures,
        bytes_per_clip=bytes_per_clip,
        decode_seconds_per_clip=decode_s,
        encode_seconds_per_clip=encode_s,
        estimated_seconds=per_clip * len(todo),
    )
