"""Batched, vectorised Kaldi fbank vs the per-clip torchaudio loop it replaced (same run, CPU).

Batch: 16 clips of 10 s at 16 kHz with EAT's parameters. The baseline is what the front-end did
before: `torchaudio.compliance.kaldi.fbank` clip by clip, normalised into a padded batch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from common import Ratio, best_of

from bench_encoders.eat import EAT_FBANK
from bench_encoders.frontends import KaldiFbank

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for tests/
from tests.encoders.common import official_fbank


def per_clip_loop(waves: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    cfg = EAT_FBANK
    out = waves.new_full((len(waves), cfg.num_frames(int(lengths.max())), cfg.num_mel_bins), 0.0)
    for i, n in enumerate(lengths.tolist()):
        fbank = official_fbank(waves[i, :n], cfg)
        out[i, : fbank.shape[0]] = fbank
    return out


def run() -> list[Ratio]:
    torch.manual_seed(0)
    waves = torch.randn(16, 160000) * 0.1
    lengths = torch.full((16,), 160000)
    fbank = KaldiFbank(EAT_FBANK)
    with torch.inference_mode():
        fbank(waves, lengths)  # warm-up
        ours = best_of(lambda: fbank(waves, lengths), repeats=5)
        loop = best_of(lambda: per_clip_loop(waves, lengths), repeats=5)
    clips = len(waves)
    return [
        Ratio(
            "kaldi fbank, 16 x 10 s, batched vs per-clip loop (CPU)",
            clips / ours,
            clips / loop,
            "clips/s",
            ">= 1.0",
        )
    ]
