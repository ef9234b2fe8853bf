"""The three Ray Data stages of extraction: decode (CPU tasks) -> encode (actors) -> write (tasks).

No stage raises on a bad clip: a failure becomes a row with its stage and reason, so one corrupt
file never stops a run. Each stage records the Ray node it ran on, so a cluster run shows where
its work went.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from bench_audio import Clip, decode_clip
from bench_core import BenchError
from bench_store import ClipTokens, FragmentWriter, TokenDType

Batch = dict[str, np.ndarray]
PASSED_ON = ("clip_id", "split", "fold", "labels")


def node_id() -> str:
    """The Ray node this code runs on ("local" outside Ray, e.g. in a dry run)."""
    import ray

    return ray.get_runtime_context().get_node_id() if ray.is_initialized() else "local"


def as_batch(records: list[dict[str, Any]]) -> Batch:
    """Row dicts as the column batch Ray Data hands a stage (one object per row), for running
    the stages in-process (dry runs, tests)."""
    batch = {}
    for key in records[0]:
        column = np.empty(len(records), dtype=object)
        column[:] = [r[key] for r in records]
        batch[key] = column
    return batch


@dataclass(frozen=True)
class DecodeStage:
    """Decode and resample each clip; with `frontend` set (CPU encoders), also compute its
    front-end features here, so that the encoder actor spends its time in the encoder only.

    Runs as Ray tasks, separate from the encoder actors (see `pipeline.build_pipeline`), so that
    decoding the next batches overlaps encoding the current one."""

    sample_rate: int
    clip_seconds: float | None
    frontend: Any | None = None
    """The encoder's front-end module, or None to ship waveforms to the actor (GPU encoders run
    their front-end on the GPU)."""

    def __call__(self, batch: Batch) -> Batch:
        n = len(batch["clip_id"])
        payloads: list[bytes] = [b""] * n
        lengths = np.zeros(n, dtype=np.int64)
        seconds = np.zeros(n, dtype=np.float32)
        errors, stages = [""] * n, [""] * n
        for i in range(n):
            clip = Clip.from_record({key: values[i] for key, values in batch.items()})
            try:
                wave = decode_clip(clip, self.sample_rate, self.clip_seconds)
            except BenchError as error:
                errors[i], stages[i] = str(error), "decode"
                continue
            seconds[i] = len(wave) / self.sample_rate
            try:
                payload = wave if self.frontend is None else self._features(wave)
            except ValueError as error:
                errors[i], stages[i] = f"front-end failed: {error}", "frontend"
                continue
            payloads[i], lengths[i] = payload.tobytes(), len(payload)
        out = {k: batch[k] for k in PASSED_ON}
        out["payload"] = np.array(payloads, dtype=object)
        out["length"] = lengths
        out["seconds"] = seconds
        out["error"] = np.array(errors, dtype=object)
        out["stage"] = np.array(stages, dtype=object)
        return out

    def _features(self, wave: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            features, frames = self.frontend(
                torch.from_numpy(wave)[None], torch.tensor([len(wave)])
            )
        return features[0, : int(frames[0])].float().numpy()


@dataclass(frozen=True)
class EncoderSpec:
    """Everything an encoder actor needs to rebuild the driver's encoder (picklable)."""

    backbone: str
    checkpoint: str | None
    random_weights: bool
    preset: str
    seed: int
    layers: tuple[int, ...]
    dtype: str
    threads: int
    frontend_in_actor: bool
    """True: payloads are waveforms and the actor runs the front-end; False: they are features."""


class EncodeStage:
    """Ray actor: holds one encoder; turns payloads into token maps in the storage dtype."""

    def __init__(self, spec: EncoderSpec) -> None:
        import torch

        from bench_encoders import create_encoder

        torch.set_num_threads(spec.threads)
        self.spec = spec
        self.encoder, _ = create_encoder(
            spec.backbone,
            checkpoint=spec.checkpoint,
            random_weights=spec.random_weights,
            preset=spec.preset,
            seed=spec.seed,
        )
        self.encoder.prepare()
        self.token_dtype = TokenDType(spec.dtype)
        self.node = node_id()

    def __call__(self, batch: Batch) -> Batch:
        n = len(batch["clip_id"])
        errors = [str(e) for e in batch["error"]]
        stages = [str(s) for s in batch["stage"]]
        tokens: list[bytes] = [b""] * n
        cls: list[bytes] = [b""] * n
        grid_t = np.zeros(n, dtype=np.int32)
        ok = [i for i in range(n) if not errors[i]]
        payloads = {i: self._payload(batch["payload"][i], int(batch["length"][i])) for i in ok}
        try:
            groups = [ok] if ok else []
            results = [self._encode([payloads[i] for i in ok])] if ok else []
        except (BenchError, ValueError, RuntimeError):
            # isolate the clip that broke the batch: encode one by one
            groups, results = [], []
            for i in ok:
                try:
                    results.append(self._encode([payloads[i]]))
                    groups.append([i])
                except (BenchError, ValueError, RuntimeError) as error:
                    errors[i], stages[i] = f"encoder failed: {error}", "encode"
        for group, out in zip(groups, results, strict=True):
            for row, i in enumerate(group):
                steps = int(out.mask[row].sum())
                clip_tokens = out.tokens[row, :, :steps].float().cpu().numpy()
                clip_cls = out.cls[row].float().cpu().numpy()
                if not (np.isfinite(clip_tokens).all() and np.isfinite(clip_cls).all()):
                    errors[i], stages[i] = "encoder produced NaN or infinite values", "encode"
                    continue
                tokens[i] = self.token_dtype.to_storage(clip_tokens).tobytes()
                cls[i] = clip_cls.tobytes()
                grid_t[i] = steps
        out_batch = {k: batch[k] for k in (*PASSED_ON, "seconds")}
        out_batch["tokens"] = np.array(tokens, dtype=object)
        out_batch["cls"] = np.array(cls, dtype=object)
        out_batch["grid_t"] = grid_t
        out_batch["error"] = np.array(errors, dtype=object)
        out_batch["stage"] = np.array(stages, dtype=object)
        out_batch["node"] = np.array([self.node] * n, dtype=object)
        return out_batch

    def _payload(self, data: bytes, length: int) -> np.ndarray:
        values = np.frombuffer(data, dtype=np.float32)
        return values if self.spec.frontend_in_actor else values.reshape(length, -1)

    def _encode(self, payloads: list[np.ndarray]) -> Any:
        """Pad payloads (waveforms, or front-end features) into one batch and run the encoder's
        inference path."""
        import torch

        longest = max(len(p) for p in payloads)
        if self.spec.frontend_in_actor:
            filled = np.zeros((len(payloads), longest), dtype=np.float32)
        else:
            width = payloads[0].shape[1]
            filled = np.full(
                (len(payloads), longest, width), self.encoder.frontend.pad_value, np.float32
            )
        for row, payload in enumerate(payloads):
            filled[row, : len(payload)] = payload
        lengths = torch.tensor([len(p) for p in payloads])
        return self.encoder.encode(
            torch.from_numpy(filled),
            lengths,
            self.spec.layers,
            features=not self.spec.frontend_in_actor,
        )


WRITE_SCHEMA = pa.schema(
    [
        pa.field("fragments", pa.list_(pa.string())),
        pa.field("clip_ids", pa.list_(pa.string())),
        pa.field("nodes", pa.list_(pa.string())),
        pa.field("failed_ids", pa.list_(pa.string())),
        pa.field("failed_stages", pa.list_(pa.string())),
        pa.field("failed_reasons", pa.list_(pa.string())),
    ]
)
"""One row per written fragment: small enough for the driver to gather, whatever the tokens weigh."""


@dataclass(frozen=True)
class WriteStage:
    """Ray task: writes a batch of encoded clips as one uncommitted Lance fragment, straight
    from the node that holds them to the store, and returns what the committer needs."""

    writer: FragmentWriter

    def __call__(self, batch: Batch) -> pa.Table:
        info = self.writer.info
        rows, nodes, failed = [], [], []
        for i, clip_id in enumerate(batch["clip_id"]):
            if batch["error"][i]:
                failed.append((str(clip_id), str(batch["stage"][i]), str(batch["error"][i])))
                continue
            t = int(batch["grid_t"][i])
            tokens = np.frombuffer(batch["tokens"][i], dtype=info.dtype.storage_dtype)
            rows.append(
                ClipTokens(
                    clip_id=str(clip_id),
                    split=str(batch["split"][i]),
                    labels=tuple(int(x) for x in batch["labels"][i]),
                    tokens=tokens.reshape(len(info.layers), t, info.freq_tokens, info.embed_dim),
                    cls=np.frombuffer(batch["cls"][i], dtype=np.float32).reshape(
                        len(info.layers), -1
                    ),
                    fold=int(batch["fold"][i]),
                    duration=float(batch["seconds"][i]),
                )
            )
            nodes.append(str(batch["node"][i]))
        pending = self.writer.write(rows) if rows else None
        return pa.Table.from_pylist(
            [
                {
                    "fragments": list(pending.fragments) if pending else [],
                    "clip_ids": [row.clip_id for row in rows],
                    "nodes": nodes,
                    "failed_ids": [f[0] for f in failed],
                    "failed_stages": [f[1] for f in failed],
                    "failed_reasons": [f[2] for f in failed],
                }
            ],
            schema=WRITE_SCHEMA,
        )
