"""Helpers shared by the encoder tests."""

from __future__ import annotations

import torch

from bench_encoders import AudioEncoder, EncoderOutput


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
