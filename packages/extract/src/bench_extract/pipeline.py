"""`bench extract`: clips -> decode (CPU tasks) -> encoder actors -> fragment writers -> commits.

Ray Data streams blocks through the stages with backpressure, so memory stays bounded whatever
the dataset size. Token bytes go from the node that encoded them straight to the store: write
tasks write uncommitted Lance fragments and hand the driver a few hundred bytes each; the driver
is the single committer and makes fragments visible in atomic commits. An interrupted run (Ctrl-C,
a killed worker or driver) therefore loses only uncommitted work, and a rerun extracts exactly the
clips that are not stored: no duplicates, no gaps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_audio import Clip, Dataset, DatasetConfig, open_dataset
from bench_core import ensure_ray
from bench_encoders import AudioEncoder, Weights, create_encoder
from bench_extract.stages import DecodeStage, EncoderSpec, EncodeStage, WriteStage
from bench_store import EmbeddingSet, PendingFragment, SetInfo, TokenDType, TokenStore

EXTRACT_FORMAT_VERSION = 1
"""Bump when a code change alters stored tokens for the same inputs; part of the cache identity.
The full code version is recorded in the set's metadata but is not part of the identity: every
unrelated commit would otherwise force a re-extraction of terabytes."""


@dataclass(frozen=True)
class ExtractOptions:
    batch_size: int = 16
    """Clips per encoder batch."""
    num_actors: int = 1
    """Encoder actors (one per GPU on GPU machines)."""
    num_gpus_per_actor: float = 0.0
    cpus_per_actor: float = 1.0
    """CPUs reserved per encoder actor; also its torch thread count."""
    write_every: int = 64
    """Clips per written fragment: large enough for efficient files (bench store optimize merges
    them later), small enough that progress and an interruption are fine-grained."""
    commit_seconds: float = 30.0
    """Commit written fragments at most this often: each commit is a new table version."""
    limit: int | None = None
    """Extract at most this many of the missing clips."""

    @property
    def frontend_in_actor(self) -> bool:
        """GPU actors run the front-end on their GPU; CPU actors get features computed by the
        decode tasks, leaving the actor's CPUs to the encoder."""
        return self.num_gpus_per_actor > 0


@dataclass
class ExtractSummary:
    embedding_set: str
    total_clips: int
    already_stored: int
    written: int
    failures: list[dict[str, Any]] = field(default_factory=list)
    dataset_problems: int = 0
    seconds: float = 0.0
    nodes: dict[str, int] = field(default_factory=dict)
    """Clips encoded per Ray node id (several on a cluster)."""

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


def set_identity(
    dataset: Dataset,
    encoder: AudioEncoder,
    weights: Weights,
    layers: Sequence[int] | None,
    dtype: TokenDType,
) -> tuple[dict[str, Any], SetInfo]:
    """The cache identity and reading info of the embedding set this extraction fills."""
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
    return build_identity(dataset, encoder, weights, resolved, dtype), info


def encoder_spec(
    backbone: str,
    weights: Weights,
    random_weights: bool,
    preset: str,
    seed: int,
    info: SetInfo,
    options: ExtractOptions,
) -> EncoderSpec:
    return EncoderSpec(
        backbone=backbone,
        checkpoint=str(weights.path) if weights.path else None,
        random_weights=random_weights,
        preset=preset,
        seed=seed,
        layers=info.layers,
        dtype=str(info.dtype),
        threads=max(1, int(options.cpus_per_actor)),
        frontend_in_actor=options.frontend_in_actor,
    )


def decode_stage(encoder: AudioEncoder, data: Dataset, options: ExtractOptions) -> DecodeStage:
    return DecodeStage(
        encoder.info.sample_rate,
        data.info.clip_seconds,
        None if options.frontend_in_actor else encoder.frontend,
    )


ACTOR_START_TIMEOUT_S = 900
"""How long the encoder actors may take to start (a model load) before the run fails, saying the
cluster lacks the resources for the requested pool."""
DECODE_BATCHES_PER_TASK = 4
MAX_INPUT_BLOCKS = 5000
DECODE_TASK_MEMORY = 512 << 20
"""Memory a decode task declares: its worker with torch loaded (~300 MB) and a batch of decoded,
resampled audio and its features."""

ProgressFn = Callable[[int, int], None]
"""Called with (clips done, clips to do) each time a written fragment reaches the driver."""


def extract(
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
    address: str | None = None,
    progress: ProgressFn | None = None,
) -> ExtractSummary:
    """Extract token maps of every clip of `dataset` not yet in the store.

    Failure records (store.failures) are replaced for every clip this run attempted, so they
    always describe each clip's latest attempt; failed clips are retried by the next run."""
    options = options or ExtractOptions()
    store = store or TokenStore()
    data = open_dataset(dataset, data_root)
    encoder, weights = create_encoder(
        backbone, checkpoint=checkpoint, random_weights=random_weights, preset=preset, seed=seed
    )
    identity, info = set_identity(data, encoder, weights, layers, dtype)
    embedding_set = store.create_or_open_set(identity, info)
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
    attempted: set[str] = set()
    started = time.perf_counter()
    try:
        if todo:
            spec = encoder_spec(backbone, weights, random_weights, preset, seed, info, options)
            decode = decode_stage(encoder, data, options)
            del encoder  # the actors build their own copies
            ensure_ray(address)
            _run(todo, decode, spec, embedding_set, options, summary, attempted, progress)
    finally:
        summary.seconds = time.perf_counter() - started
        problems = [
            {"clip_id": p.clip_id, "stage": p.stage, "reason": p.reason, "created_at": time.time()}
            for p in data.problems
        ]
        store.record_failures(
            embedding_set.name,
            problems + summary.failures,
            retried=attempted | {p.clip_id for p in data.problems},
        )
    return summary


def build_pipeline(
    todo: list[Clip],
    decode: DecodeStage,
    spec: EncoderSpec,
    write: WriteStage,
    options: ExtractOptions,
) -> Any:
    """The Ray Dataset of the run: one output row per written fragment."""
    import ray

    # a few encoder batches per decode task: enough to amortise a task's scheduling, few enough
    # that encoding starts soon and work spreads over the whole cluster
    per_block = DECODE_BATCHES_PER_TASK * options.batch_size
    blocks = max(1, min(-(-len(todo) // per_block), MAX_INPUT_BLOCKS))
    # start encoding only once every encoder actor is up: otherwise the first actor ready (loading
    # weights takes seconds) takes the whole queue of a short run and the other GPUs/nodes idle
    ray.data.DataContext.get_current().wait_for_min_actors_s = ACTOR_START_TIMEOUT_S
    return (
        ray.data.from_items([c.to_record() for c in todo], override_num_blocks=blocks)
        .map_batches(
            decode,
            batch_size=options.batch_size,
            batch_format="numpy",
            num_cpus=1,
            # declaring its memory also keeps Ray from fusing these tasks into the encoder actor
            # (fusion needs equal resource requests), so decoding overlaps encoding instead of
            # running in the actor before each batch
            memory=DECODE_TASK_MEMORY,
        )
        .map_batches(
            EncodeStage,
            fn_constructor_args=(spec,),
            batch_size=options.batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=options.num_actors),
            num_cpus=options.cpus_per_actor,
            num_gpus=options.num_gpus_per_actor,
        )
        .map_batches(
            write,
            batch_size=options.write_every,
            batch_format="numpy",
            # writing is I/O and a copy: reserving a CPU would queue the writes behind the decode
            # tasks (which take every free CPU), so fragments would only land once all input is
            # decoded, and progress and commits would wait until the end
            num_cpus=0,
        )
    )


def _run(
    todo: list[Clip],
    decode: DecodeStage,
    spec: EncoderSpec,
    embedding_set: EmbeddingSet,
    options: ExtractOptions,
    summary: ExtractSummary,
    attempted: set[str],
    progress: ProgressFn | None,
) -> None:
    dataset = build_pipeline(
        todo, decode, spec, WriteStage(embedding_set.fragment_writer()), options
    )
    pending: list[PendingFragment] = []
    last_commit = time.monotonic()
    try:
        for row in dataset.iter_rows():
            now = time.time()
            for clip_id, stage, reason in zip(
                row["failed_ids"], row["failed_stages"], row["failed_reasons"], strict=True
            ):
                summary.failures.append(
                    {"clip_id": clip_id, "stage": stage, "reason": reason, "created_at": now}
                )
            if row["fragments"]:
                pending.append(PendingFragment(tuple(row["fragments"]), tuple(row["clip_ids"])))
            for node in row["nodes"]:
                summary.nodes[node] = summary.nodes.get(node, 0) + 1
            attempted.update(row["clip_ids"], row["failed_ids"])
            if time.monotonic() - last_commit >= options.commit_seconds:
                _commit(embedding_set, pending, summary)
                last_commit = time.monotonic()
            if progress:
                progress(len(attempted), len(todo))
    finally:
        # also on Ctrl-C: fragments that reached the driver are complete, keep them
        _commit(embedding_set, pending, summary)


def _commit(
    embedding_set: EmbeddingSet, pending: list[PendingFragment], summary: ExtractSummary
) -> None:
    if not pending:
        return
    outcome = embedding_set.commit(pending)
    pending.clear()
    summary.written += outcome.written
    for clip_id in outcome.rejected:
        summary.failures.append(
            {
                "clip_id": clip_id,
                "stage": "write",
                "reason": "another writer stored part of its fragment meanwhile; rerun to store it",
                "created_at": time.time(),
            }
        )
