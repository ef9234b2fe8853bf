"""The two Ray Data stages of extraction. Neither raises on a bad clip: a failure becomes a row
with its stage and reason, so one corrupt file never stops a run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bench_audio import Clip, decode_clip
from bench_core import BenchError

Batch = dict[str, np.ndarray]


@dataclass(frozen=True)
class DecodeStage:
    """Stateless decode/resample function (runs as Ray tasks on CPUs)."""

    sample_rate: int
    clip_seconds: float | None

    def __call__(self, batch: Batch) -> Batch:
        n = len(batch["clip_id"])
        waves: list[bytes] = []
        errors: list[str] = []
        for i in range(n):
            clip = Clip.from_record({key: values[i] for key, values in batch.items()})
            try:
                waves.append(decode_clip(clip, self.sample_rate, self.clip_seconds).tobytes())
                errors.append("")
            except BenchError as error:
                waves.append(b"")
                errors.append(str(error))
        out = {k: batch[k] for k in ("clip_id", "split", "fold", "labels")}
        out["wave"] = np.array(waves, dtype=object)
        out["error"] = np.array(errors, dtype=object)
        return out


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


class EncodeStage:
    """Ray actor: holds one encoder; turns decoded waves into token maps (bytes, fp16 by default)."""

    def __init__(self, spec: EncoderSpec) -> None:
        import torch

        from bench_encoders import create_encoder
        from bench_store import TokenDType

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
        self.token_dtype = TokenDType(spec.dtype).numpy_dtype
        self.sample_rate = self.encoder.info.sample_rate

    def __call__(self, batch: Batch) -> Batch:
        n = len(batch["clip_id"])
        errors = [str(e) for e in batch["error"]]
        stages = ["decode" if e else "" for e in errors]
        tokens: list[bytes] = [b""] * n
        cls: list[bytes] = [b""] * n
        grid_t = np.zeros(n, dtype=np.int32)
        seconds = np.zeros(n, dtype=np.float32)
        ok = [i for i in range(n) if not errors[i]]
        waves = {i: np.frombuffer(batch["wave"][i], dtype=np.float32).copy() for i in ok}
        try:
            groups = [ok] if ok else []
            results = [self._encode([waves[i] for i in ok])] if ok else []
        except (BenchError, ValueError, RuntimeError):
            # isolate the clip that broke the batch: encode one by one
            groups, results = [], []
            for i in ok:
                try:
                    results.append(self._encode([waves[i]]))
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
                tokens[i] = clip_tokens.astype(self.token_dtype).tobytes()
                cls[i] = clip_cls.tobytes()
                grid_t[i] = steps
                seconds[i] = len(waves[i]) / self.sample_rate
        return {
            "clip_id": batch["clip_id"],
            "split": batch["split"],
            "fold": batch["fold"],
            "labels": batch["labels"],
            "tokens": np.array(tokens, dtype=object),
            "cls": np.array(cls, dtype=object),
            "grid_t": grid_t,
            "seconds": seconds,
            "error": np.array(errors, dtype=object),
            "stage": np.array(stages, dtype=object),
        }

    def _encode(self, waves: list[np.ndarray]) -> Any:
        """Pad a list of waveforms into one batch and run the encoder's inference path."""
        import torch

        lengths = torch.tensor([len(w) for w in waves])
        padded = torch.zeros((len(waves), int(lengths.max())))
        for row, wave in enumerate(waves):
            padded[row, : len(wave)] = torch.from_numpy(wave)
        return self.encoder.encode(padded, lengths, self.spec.layers)
