"""Helpers shared by the encoder tests."""

from __future__ import annotations

import torch
from torchaudio.compliance import kaldi

from bench_encoders import AudioEncoder, EncoderOutput
from bench_encoders.frontends import FbankConfig


def encode(encoder: AudioEncoder, waves: list[torch.Tensor], **kwargs: object) -> EncoderOutput:
    """Zero-pad `waves` into one batch and run the encoder's inference path."""
    lengths = torch.tensor([len(w) for w in waves])
    batch = torch.zeros(len(waves), int(lengths.max()))
    for i, w in enumerate(waves):
        batch[i, : len(w)] = w
    return encoder.encode(batch, lengths, **kwargs)  # type: ignore[arg-type]


def noise(seconds: float, seed: int, sample_rate: int = 16000, scale: float = 0.1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(int(seconds * sample_rate), generator=generator) * scale


def official_fbank(wave: torch.Tensor, cfg: FbankConfig) -> torch.Tensor:
    """One clip through torchaudio's Kaldi fbank, as the official recipes call it: the reference
    the batched front-end is held to (and the per-clip baseline it is benchmarked against)."""
    wave = wave * cfg.wave_scale
    if cfg.subtract_wave_mean:
        wave = wave - wave.mean()
    fbank = kaldi.fbank(
        wave[None],
        htk_compat=cfg.htk_compat,
        sample_frequency=cfg.sample_rate,
        use_energy=False,
        window_type=cfg.window,
        num_mel_bins=cfg.num_mel_bins,
        dither=0.0,
        frame_length=cfg.frame_length_ms,
        frame_shift=cfg.frame_shift_ms,
    )
    return (fbank - cfg.norm_mean) / (2 * cfg.norm_std)
