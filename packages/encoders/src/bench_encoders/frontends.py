"""Front-ends: waveforms to the normalised log-mel features each backbone's official recipe uses.

Padding rule (shared by all fbank backbones): a clip's features are padded at the end with the
value a zero fbank frame takes after normalisation, exactly as the official extraction scripts pad
the raw fbank with zeros before normalising. A clip therefore gets the same features whether it
is processed alone or inside a batch of longer clips.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn
from torchaudio.compliance import kaldi


@dataclass(frozen=True)
class FbankConfig:
    """Kaldi-compatible fbank parameters and the normalisation (x - mean) / (2 * std)."""

    sample_rate: int = 16000
    num_mel_bins: int = 128
    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0
    window: str = "hanning"
    htk_compat: bool = True
    wave_scale: float = 1.0
    subtract_wave_mean: bool = True
    norm_mean: float = 0.0
    norm_std: float = 0.5

    def identity(self) -> dict[str, object]:
        return {"type": "kaldi_fbank", **asdict(self)}

    @property
    def window_samples(self) -> int:
        return int(self.sample_rate * self.frame_length_ms / 1000)

    @property
    def shift_samples(self) -> int:
        return int(self.sample_rate * self.frame_shift_ms / 1000)

    def num_frames(self, num_samples: int) -> int:
        """Frames Kaldi produces for `num_samples` (snip_edges=True); 0 if shorter than a window."""
        if num_samples < self.window_samples:
            return 0
        return 1 + (num_samples - self.window_samples) // self.shift_samples


class KaldiFbank(nn.Module):
    """Batched front-end over padded waveforms (B, S) with their true lengths (B,)."""

    def __init__(self, config: FbankConfig) -> None:
        super().__init__()
        self.config = config

    @property
    def pad_value(self) -> float:
        return (0.0 - self.config.norm_mean) / (2 * self.config.norm_std)

    def forward(self, waves: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Returns features (B, frames, mels) padded with `pad_value`, and frame counts (B,)."""
        cfg = self.config
        frame_counts = [cfg.num_frames(int(n)) for n in lengths.tolist()]
        if min(frame_counts) <= 0:
            raise ValueError(
                f"a clip is shorter than one analysis window ({cfg.frame_length_ms} ms)"
            )
        out = waves.new_full((waves.shape[0], max(frame_counts), cfg.num_mel_bins), self.pad_value)
        for i, n in enumerate(lengths.tolist()):
            wave = waves[i, :n].float() * cfg.wave_scale
            if cfg.subtract_wave_mean:
                wave = wave - wave.mean()
            fbank = kaldi.fbank(
                wave.unsqueeze(0),
                htk_compat=cfg.htk_compat,
                sample_frequency=cfg.sample_rate,
                use_energy=False,
                window_type=cfg.window,
                num_mel_bins=cfg.num_mel_bins,
                dither=0.0,
                frame_length=cfg.frame_length_ms,
                frame_shift=cfg.frame_shift_ms,
            )
            out[i, : fbank.shape[0]] = (fbank - cfg.norm_mean) / (2 * cfg.norm_std)
        return out, torch.tensor(frame_counts, device=waves.device)
