"""Does an encoder keep the promises the store and the probes rely on? (`bench check-backbone`)

In the spirit of X-ARES's encoder check: seeded random audio of three lengths (shorter than one
encoder window, exactly one window, several windows) goes through the encoder's inference path,
and the token maps are checked for shape and valid-token count, dtype and finiteness,
determinism, independence from batch padding (each clip's pooled mean over its valid tokens, alone
and inside a batch with longer clips), and layer selection. Throughput on one-window clips is
measured and reported, never asserted. For users adding an encoder, and run over every registered
architecture by the test suite.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from bench_encoders.base import AudioEncoder, EncoderInfo, EncoderOutput


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class CheckReport:
    info: EncoderInfo
    device: str
    precision: str
    checks: tuple[Check, ...]
    window_seconds: float
    batch_size: int
    clips_per_second: float
    """One-window clips per second through `encode` (front-end included), best of the repeats."""

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


def default_tolerance(encoder: AudioEncoder) -> float:
    """Relative tolerance of the padding check: float32 batching noise, or bf16/fp16 rounding."""
    return 1e-4 if encoder.autocast_dtype is None else 3e-2


def check_encoder(
    encoder: AudioEncoder,
    *,
    tolerance: float | None = None,
    batch_size: int = 4,
    repeats: int = 3,
    seed: int = 0,
) -> CheckReport:
    """Run the checks on an encoder already `prepare`d for its device."""
    tol = default_tolerance(encoder) if tolerance is None else tolerance
    info, frontend = encoder.info, encoder.frontend
    window = frontend.samples_for_frames(info.window_frames)
    lengths = {
        "shorter than a window": max(frontend.min_samples, window * 2 // 5),
        "exactly one window": window,
        "several windows": 2 * window + window // 2,
    }
    generator = torch.Generator().manual_seed(seed)
    clips = {k: torch.randn(n, generator=generator) * 0.1 for k, n in lengths.items()}
    alone = {k: _run(encoder, [wave]) for k, wave in clips.items()}
    checks = [_shape_check(encoder, label, clips[label], out) for label, out in alone.items()]
    checks.append(_dtype_check(encoder, alone))
    short = "shorter than a window"
    again = _run(encoder, [clips[short]])
    diff = _max_diff(again.tokens, alone[short].tokens)
    exact = encoder.device.type == "cpu"
    checks.append(
        Check(
            "determinism",
            diff == 0 if exact else diff <= tol,
            f"same clip twice: max |diff| {diff:.2g}" + ("" if exact else f" (tolerance {tol:g})"),
        )
    )
    checks.append(_padding_check(encoder, clips, alone, tol))
    checks.append(_layer_check(encoder, clips[short], alone[short], tol))
    batch = [torch.randn(window, generator=generator) * 0.1 for _ in range(batch_size)]
    _run(encoder, batch)  # warm-up (allocator, kernels)
    seconds = _best_of(lambda: _run(encoder, batch), repeats)
    precision = "float32" if encoder.autocast_dtype is None else str(encoder.autocast_dtype)
    return CheckReport(
        info=info,
        device=str(encoder.device),
        precision=precision.removeprefix("torch."),
        checks=tuple(checks),
        window_seconds=window / info.sample_rate,
        batch_size=batch_size,
        clips_per_second=batch_size / seconds,
    )


def _run(
    encoder: AudioEncoder, waves: list[Tensor], layers: list[int] | None = None
) -> EncoderOutput:
    lengths = torch.tensor([len(w) for w in waves])
    batch = torch.zeros(len(waves), int(lengths.max()))
    for i, wave in enumerate(waves):
        batch[i, : len(wave)] = wave
    out = encoder.encode(batch, lengths, layers)
    if encoder.device.type == "cuda":
        torch.cuda.synchronize()
    return out


def _best_of(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _max_diff(a: Tensor, b: Tensor) -> float:
    return float((a.float() - b.float()).abs().max()) if a.shape == b.shape else float("inf")


def _pooled(out: EncoderOutput, row: int) -> Tensor:
    """Mean of one clip's valid tokens per layer (L, D)."""
    steps = int(out.mask[row].sum())
    return out.tokens[row, :, :steps].float().mean(dim=(1, 2))


def _shape_check(encoder: AudioEncoder, label: str, wave: Tensor, out: EncoderOutput) -> Check:
    info = encoder.info
    frames = int(encoder.frontend.num_frames(torch.tensor(len(wave))))
    expected = encoder.token_steps(frames)
    b, n_layers, t, f, d = out.tokens.shape if out.tokens.ndim == 5 else (0,) * 5
    valid = int(out.mask.sum())
    problems = [
        what
        for what, bad in (
            ("tokens not (B, L, T, F, D)", out.tokens.ndim != 5),
            (f"F {f} != {info.freq_tokens}", f != info.freq_tokens),
            (f"D {d} != {info.embed_dim}", d != info.embed_dim),
            (f"mask {tuple(out.mask.shape)} != (1, {t})", tuple(out.mask.shape) != (1, t)),
            (f"cls {tuple(out.cls.shape)} != (1, 1, {d})", tuple(out.cls.shape) != (1, 1, d)),
            (f"{valid} valid time tokens, expected {expected}", valid != expected),
            ("batch or layer axis wrong", (b, n_layers) != (1, 1)),
        )
        if bad
    ]
    seconds = len(wave) / info.sample_rate
    detail = "; ".join(problems) or f"T x F x D = {t} x {f} x {d}, {valid} valid time tokens"
    return Check(f"shape: {label} ({seconds:.2f} s)", not problems, detail)


def _dtype_check(encoder: AudioEncoder, outputs: dict[str, EncoderOutput]) -> Check:
    allowed = {torch.float32} | ({encoder.autocast_dtype} if encoder.autocast_dtype else set())
    dtypes = {o.tokens.dtype for o in outputs.values()} | {o.cls.dtype for o in outputs.values()}
    finite = all(
        bool(o.tokens.isfinite().all() and o.cls.isfinite().all()) for o in outputs.values()
    )
    names = ", ".join(sorted(str(d).removeprefix("torch.") for d in dtypes))
    ok = dtypes <= allowed and finite
    return Check(
        "dtype and finite values", ok, f"{names}; {'all finite' if finite else 'NaN or inf'}"
    )


def _padding_check(
    encoder: AudioEncoder, clips: dict[str, Tensor], alone: dict[str, EncoderOutput], tol: float
) -> Check:
    order = ["several windows", "exactly one window", "shorter than a window"]
    batched = _run(encoder, [clips[k] for k in order])
    worst, problems = 0.0, []
    for row, label in enumerate(order):
        ref = alone[label]
        if int(batched.mask[row].sum()) != int(ref.mask[0].sum()):
            problems.append(f"{label}: valid tokens change in a batch")
            continue
        reference = _pooled(ref, 0)
        err = float((_pooled(batched, row) - reference).abs().max())
        worst = max(worst, err / max(float(reference.abs().max()), 1e-12))
    ok = not problems and worst <= tol
    detail = (
        "; ".join(problems)
        or f"pooled valid-token mean, max relative diff {worst:.2g} (tol {tol:g})"
    )
    return Check("padding invariance", ok, detail)


def _layer_check(encoder: AudioEncoder, wave: Tensor, last: EncoderOutput, tol: float) -> Check:
    out = _run(encoder, [wave], layers=[0, -1])
    diff = _max_diff(out.tokens[:, 1:], last.tokens)
    scale = max(float(last.tokens.float().abs().max()), 1e-12)
    ok = out.tokens.shape[1] == 2 and diff / scale <= tol
    return Check(
        "layer selection",
        ok,
        f"layers [0, -1]: last equals the default, rel. diff {diff / scale:.2g}",
    )
