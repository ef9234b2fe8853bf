"""The front-end of backbones that take the waveform itself (BirdNET computes its spectrograms
inside the model).

Each sample is one "frame", so AudioEncoder's chunking (fixed windows of `window_frames`, token maps
concatenated along time, cls averaged) applies to waveform backbones unchanged, with no second copy
of that logic. Padding is silence (0.0), the way BirdNET pads its own short chunks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class WaveformConfig:
    sample_rate: int

    def identity(self) -> dict[str, object]:
        return {"type": "waveform", **asdict(self)}


class RawWaveform(nn.Module):
    """Identity front-end over padded waveforms (B, S) with their true lengths (B,)."""

    pad_value = 0.0

    def __init__(self, config: WaveformConfig) -> None:
        super().__init__()
        self.config = config

    def forward(self, waves: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Returns features (B, max length, 1), silent past each clip's end, and lengths (B,)."""
        if int(lengths.min()) <= 0:
            raise ValueError("a clip has no samples")
        waves = waves[:, : int(lengths.max())].float()
        valid = torch.arange(waves.shape[1], device=waves.device)[None] < lengths[:, None]
        return torch.where(valid, waves, self.pad_value).unsqueeze(-1), lengths
