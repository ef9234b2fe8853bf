"""`bench extract`: clips -> decode (CPU tasks) -> encoder actors -> one streaming store writer.

Ray Data streams blocks through the stages with backpressure, so memory stays bounded whatever the
dataset size. The driver is the single writer: it appends rows to the embedding set in large
commits, so an interrupted run loses at most the rows of one uncommitted write, and a rerun skips
every clip already stored (no duplicates, no gaps).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench_audio import Clip, Dataset, open_dataset
from bench_core import ensure_ray
from bench_encoders import AudioEncoder, Weights, create_encoder
from bench_extract.stages import DecodeStage, EncoderSpec, EncodeStage
from bench_store import ClipTokens, EmbeddingSet, SetInfo, TokenDType, TokenStore

EXTRACT_FORMAT_VERSION = 1
"""Bump when a code change alters stored tokens for the same inputs; part of the cache identity
(the full code version is recorded too, but must not force re-extraction on unrelated commits)."""


@dataclass(frozen=True)
class ExtractOptions:
    batch_size: int = 16
    num_actors: int = 1
    num_gpus_per_actor: float = 0.0
    cpus_per_actor: float = 1.0
    write_every: int = 256
    """Rows per store commit: large commits keep Lance fragments big and writes fast."""
    limit: int | None = None


@dataclass
class ExtractSummary:
    embedding_set: str
    total_clips: int
    already_stored: int
    written: int
    failures: list[dict[str, Any]] = field(default_factory=list)
    dataset_problems: int = 0
    seconds: float = 0.0

    @property
    def clips_per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


def build_identity(
    dataset: Dataset, encoder: AudioEncoder, weights: Weights, layers: list[int], dtype: TokenDType
) -> dict[str, Any]:
    info = encoder.info
    return {
        "format": EXTRACT_FORMAT_VERSION,
        "dataset": dataset.info.name,
        "manifest_sha256": dataset.fingerprint(),
        "backbone": info.name,
        "arch": info.arch,
        "preset": info.preset,
        "weights": weights.identity(),
        "frontend": encoder.frontend.config.identity(),
        "layers": layers,
        "dtype": str(dtype),
    }


def prepare_set(
    store: TokenStore,
    dataset: Dataset,
    encoder: AudioEncoder,
    weights: Weights,
    layers: Sequence[int] | None,
    dtype: TokenDType,
) -> EmbeddingSet:
    resolved = encoder.resolve_layers(layers)
    info = SetInfo(
        dataset=dataset.info.name,
        backbone=encoder.info.name,
        task_kind=str(dataset.info.kind),
        class_names=dataset.info.class_names,
        embed_dim=encoder.info.embed_dim,
        freq_tokens=encoder.info.freq_tokens,
        layers=tuple(resolved),
        dtype=dtype,
        has_cls=encoder.info.has_cls,
    )
    return store.create_or_open_set(
        build_identity(dataset, encoder, weights, resolved, dtype), info
    )


ProgressFn = Callable[[int, int], None]
"""Called with (clips done, clips to do) after each batch reaches the writer."""


def extract(
    dataset: str,
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
    address: str | None = None,
    progress: ProgressFn | None = None,
) -> ExtractSummary:
    """Extract token maps of every clip of `dataset` not yet in the store."""
    options = options or ExtractOptions()
    store = store or TokenStore()
    data = open_dataset(dataset, data_root)
    encoder, weights = create_encoder(
        backbone, checkpoint=checkpoint, random_weights=random_weights, preset=preset, seed=seed
    )
    embedding_set = prepare_set(store, data, encoder, weights, layers, dtype)
    stored = embedding_set.existing_ids()
    missing = [c for c in data.clips if c.clip_id not in stored]
    todo = missing if options.limit is None else missing[: options.limit]
    summary = ExtractSummary(
        embedding_set=embedding_set.name,
        total_clips=len(data.clips),
        already_stored=len(data.clips) - len(missing),
        written=0,
        dataset_problems=len(data.problems),
    )
    if data.problems:
        store.record_failures(
            embedding_set.name,
            [
                {
                    "clip_id": p.clip_id,
                    "stage": p.stage,
                    "reason": p.reason,
                    "created_at": time.time(),
                }
                for p in data.problems
            ],
        )
    if not todo:
        return summary
    spec = EncoderSpec(
        backbone=backbone,
        checkpoint=str(weights.path) if weights.path else None,
        random_weights=random_weights,
        preset=preset,
        seed=seed,
        layers=tuple(embedding_set.info.layers),
        dtype=str(dtype),
        threads=max(1, int(options.cpus_per_actor)),
    )
    decode = DecodeStage(encoder.info.sample_rate, data.info.clip_seconds)
    del encoder  # the actors build their own copies
    started = time.perf_counter()
    _run(todo, decode, spec, embedding_set, store, options, address, summary, progress)
    summary.seconds = time.perf_counter() - started
    return summary


def _run(
    todo: list[Clip],
    decode: DecodeStage,
    spec: EncoderSpec,
    embedding_set: EmbeddingSet,
    store: TokenStore,
    options: ExtractOptions,
    address: str | None,
    summary: ExtractSummary,
    progress: ProgressFn | None,
) -> None:
    import ray

    ensure_ray(address)
    blocks = max(1, min(len(todo) // options.batch_size, 200))
    ds = (
        ray.data.from_items([c.to_record() for c in todo], override_num_blocks=blocks)
        .map_batches(decode, batch_size=options.batch_size, batch_format="numpy", num_cpus=1)
        .map_batches(
            EncodeStage,
            fn_constructor_args=(spec,),
            batch_size=options.batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=options.num_actors),
            num_cpus=options.cpus_per_actor,
            num_gpus=options.num_gpus_per_actor,
        )
    )
    buffer: list[ClipTokens] = []
    done = 0
    info = embedding_set.info
    for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
        for i, clip_id in enumerate(batch["clip_id"]):
            if batch["error"][i]:
                summary.failures.append(
                    {
                        "clip_id": str(clip_id),
                        "stage": str(batch["stage"][i]),
                        "reason": str(batch["error"][i]),
                        "created_at": time.time(),
                    }
                )
                continue
            t = int(batch["grid_t"][i])
            tokens = np.frombuffer(batch["tokens"][i], dtype=info.dtype.numpy_dtype).reshape(
                len(info.layers), t, info.freq_tokens, info.embed_dim
            )
            cls = np.frombuffer(batch["cls"][i], dtype=np.float32).reshape(len(info.layers), -1)
            buffer.append(
                ClipTokens(
                    clip_id=str(clip_id),
                    split=str(batch["split"][i]),
                    labels=tuple(int(x) for x in batch["labels"][i]),
                    tokens=tokens,
                    cls=cls,
                    fold=int(batch["fold"][i]),
                    duration=float(batch["seconds"][i]),
                )
            )
        done += len(batch["clip_id"])
        if len(buffer) >= options.write_every:
            summary.written += embedding_set.append(buffer)
            buffer.clear()
        if progress:
            progress(done, len(todo))
    summary.written += embedding_set.append(buffer)
    store.record_failures(embedding_set.name, summary.failures)
