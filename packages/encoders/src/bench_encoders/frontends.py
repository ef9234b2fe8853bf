"""Front-ends: waveforms to the features each backbone's official recipe feeds its encoder.

Every front-end is batched and vectorised over padded waveforms (B, S) with their true lengths,
runs on the encoder's device in float32 (autocast is switched off: log-mel features in bf16 lose
the precision the encoders were trained with), and returns features (B, frames, channels) plus
the frame count of each clip.

Padding rule (shared by all front-ends): a clip's features are computed from its own samples only
and padded at the end with `pad_value`. For the fbank backbones that is the value a zero fbank
frame takes after normalisation, exactly as the official extraction scripts pad the raw fbank with
zeros before normalising. A clip therefore gets the same features whether it is processed alone
or inside a batch of longer clips.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Protocol

import torch
from torch import Tensor, nn
from torchaudio.compliance import kaldi
from torchaudio.functional import melscale_fbanks


class FrontendConfig(Protocol):
    """What the store records about a front-end (part of an embedding set's cache identity)."""

    sample_rate: int

    def identity(self) -> dict[str, object]: ...


class Frontend(nn.Module, ABC):
    """Batched waveform -> feature transform; subclasses compute the features of valid frames."""

    config: FrontendConfig

    @property
    @abstractmethod
    def pad_value(self) -> float:
        """Feature value of padded frames (and of the padding of a partial last window)."""

    @property
    @abstractmethod
    def min_samples(self) -> int:
        """Shortest clip the recipe accepts."""

    @abstractmethod
    def num_frames(self, samples: Tensor) -> Tensor:
        """Frames produced for clips of `samples` samples (vectorised, int64)."""

    @abstractmethod
    def samples_for_frames(self, frames: int) -> int:
        """Fewest samples that produce `frames` frames (used to build test clips of exact sizes)."""

    @abstractmethod
    def compute(self, waves: Tensor, lengths: Tensor, frames: Tensor) -> Tensor:
        """Features (B, max(frames), C) of float32 waves; values beyond a clip's frames are free."""

    def forward(self, waves: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """waves (B, S) zero-padded, lengths (B,) -> features (B, frames, C) and frame counts (B,)."""
        lengths = lengths.to(waves.device)
        if int(lengths.min()) < self.min_samples:
            raise ValueError(
                f"a clip is shorter than the front-end's minimum of {self.min_samples} samples "
                f"({1000 * self.min_samples / self.config.sample_rate:.1f} ms)"
            )
        frames = self.num_frames(lengths)
        with torch.autocast(waves.device.type, enabled=False):
            features = self.compute(waves.float(), lengths, frames)
        valid = torch.arange(features.shape[1], device=waves.device)[None] < frames[:, None]
        return features.masked_fill(~valid[..., None], self.pad_value), frames


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


_KALDI_WINDOW_POWER = {"hanning": 1.0, "povey": 0.85}
"""Kaldi's windows used by the backbones: a symmetric Hann window, raised to 0.85 for povey."""


class KaldiFbank(Frontend):
    """`torchaudio.compliance.kaldi.fbank` (dither 0, no energy, snip_edges) over a whole batch.

    Kaldi's steps in Kaldi's order (so results agree to float32 rounding, not just to tolerance):
    frames by `unfold`, per-frame DC removal, pre-emphasis 0.97, the window, power spectrum over
    the FFT size rounded up to a power of two, Kaldi's mel banks (20 Hz to Nyquist), log floored
    at float32 epsilon. The hanning and povey windows are exactly 0 at a frame's first sample,
    the one sample where Kaldi's pre-emphasis is special (it replicates it), so that sample is
    set to 0 directly, in the same copy that zero-pads the frame to the FFT size.
    """

    PREEMPHASIS = 0.97

    def __init__(self, config: FbankConfig) -> None:
        super().__init__()
        if config.window not in _KALDI_WINDOW_POWER:
            raise ValueError(f"unsupported Kaldi window '{config.window}'")
        self.config = config
        win = config.window_samples
        self.fft_size = 1 << (win - 1).bit_length()
        window = torch.hann_window(win, periodic=False).pow(_KALDI_WINDOW_POWER[config.window])
        banks, _ = kaldi.get_mel_banks(
            config.num_mel_bins,
            self.fft_size,
            float(config.sample_rate),
            20.0,
            0.0,
            100.0,
            -500.0,
            1.0,
        )
        banks = nn.functional.pad(banks, (0, 1))  # Kaldi drops the Nyquist bin
        if window[0] != 0:
            raise ValueError("KaldiFbank relies on a window that is 0 at the first sample")
        self.register_buffer("window", window, persistent=False)
        self.register_buffer("mel_banks", banks.T.contiguous(), persistent=False)

    @property
    def pad_value(self) -> float:
        return (0.0 - self.config.norm_mean) / (2 * self.config.norm_std)

    @property
    def min_samples(self) -> int:
        return self.config.window_samples

    def num_frames(self, samples: Tensor) -> Tensor:
        win, shift = self.config.window_samples, self.config.shift_samples
        return torch.where(samples >= win, 1 + (samples - win) // shift, 0)

    def samples_for_frames(self, frames: int) -> int:
        return (frames - 1) * self.config.shift_samples + self.config.window_samples

    def compute(self, waves: Tensor, lengths: Tensor, frames: Tensor) -> Tensor:
        cfg, win = self.config, self.config.window_samples
        waves = waves * cfg.wave_scale
        if cfg.subtract_wave_mean:  # over the whole clip, the tail past the last frame included
            valid = torch.arange(waves.shape[1], device=waves.device)[None] < lengths[:, None]
            waves = waves - (waves * valid).sum(dim=1, keepdim=True) / lengths[:, None]
        waves = waves[:, : self.samples_for_frames(int(frames.max()))]
        strided = waves.unfold(1, win, cfg.shift_samples)  # (B, M, win) view
        centred = strided - strided.mean(dim=-1, keepdim=True)
        emphasised = centred[..., 1:] - self.PREEMPHASIS * centred[..., :-1]
        windowed = emphasised * self.window[1:].float()
        padded = nn.functional.pad(windowed, (1, self.fft_size - win))
        power = torch.fft.rfft(padded).abs().pow(2.0)
        log_mel = (power @ self.mel_banks.float()).clamp_min(torch.finfo(torch.float32).eps).log()
        return (log_mel - cfg.norm_mean) / (2 * cfg.norm_std)


@dataclass(frozen=True)
class LogMelConfig:
    """torchaudio `MelSpectrogram` (centred, reflect-padded, periodic Hann, power 2, HTK mels,
    no filter norm) followed by `AmplitudeToDB(stype='power', top_db)`."""

    sample_rate: int = 16000
    n_fft: int = 512
    win_length: int = 512
    hop_length: int = 160
    n_mels: int = 64
    f_min: float = 0.0
    f_max: float = 8000.0
    top_db: float = 120.0
    amin: float = 1e-10

    def identity(self) -> dict[str, object]:
        return {"type": "log_mel", **asdict(self)}


class LogMelSpectrogram(Frontend):
    """Log-mel spectrogram in dB with each clip reflect-padded at its own edges.

    `top_db` clamps each clip at (its own maximum - top_db): torchaudio takes that maximum over
    whatever tensor it is given (with a (B, mels, T) batch: over the whole batch, and padding
    included), so the per-clip maximum is what the official code computes for one clip at a time.
    """

    def __init__(self, config: LogMelConfig) -> None:
        super().__init__()
        if config.win_length != config.n_fft:
            raise ValueError("LogMelSpectrogram needs win_length == n_fft")
        self.config = config
        fb = melscale_fbanks(
            config.n_fft // 2 + 1,
            config.f_min,
            config.f_max,
            config.n_mels,
            config.sample_rate,
            norm=None,
            mel_scale="htk",
        )
        self.register_buffer("window", torch.hann_window(config.win_length), persistent=False)
        self.register_buffer("mel_fb", fb, persistent=False)

    @property
    def pad_value(self) -> float:
        return 10.0 * math.log10(self.config.amin)

    @property
    def min_samples(self) -> int:
        return self.config.n_fft // 2 + 1  # reflect padding needs more samples than it pads

    def num_frames(self, samples: Tensor) -> Tensor:
        return 1 + samples // self.config.hop_length

    def samples_for_frames(self, frames: int) -> int:
        return max(self.min_samples, (frames - 1) * self.config.hop_length)

    def compute(self, waves: Tensor, lengths: Tensor, frames: Tensor) -> Tensor:
        cfg = self.config
        half = cfg.n_fft // 2
        total = (int(frames.max()) - 1) * cfg.hop_length + cfg.n_fft
        # reflect every clip at its own start and end: padded position j reads sample |j - half|
        # mirrored at the clip's last sample (positions past a clip's frames are never valid)
        pos = (torch.arange(total, device=waves.device) - half).abs()[None].expand(len(waves), -1)
        last = (lengths - 1)[:, None]
        pos = torch.where(pos > last, 2 * last - pos, pos).clamp(min=0)
        padded = torch.gather(waves, 1, pos.clamp(max=waves.shape[1] - 1))
        strided = padded.unfold(1, cfg.n_fft, cfg.hop_length) * self.window.float()
        power = torch.fft.rfft(strided).abs().pow(2.0)
        db = 10.0 * (power @ self.mel_fb.float()).clamp_min(cfg.amin).log10()
        valid = torch.arange(db.shape[1], device=db.device)[None] < frames[:, None]
        peak = db.masked_fill(~valid[..., None], -math.inf).amax(dim=(1, 2), keepdim=True)
        return torch.maximum(db, peak - cfg.top_db)


@dataclass(frozen=True)
class WaveConfig:
    """Raw waveform input: the encoder itself holds the model's own feature extractor, which is
    recorded here by its settings."""

    sample_rate: int
    min_samples: int = 1
    extractor: dict[str, object] = field(default_factory=dict)

    def identity(self) -> dict[str, object]:
        return {"type": "waveform", **asdict(self)}


class Waveform(Frontend):
    """Identity front-end: features are the samples themselves (B, S, 1), one frame per sample."""

    def __init__(self, config: WaveConfig) -> None:
        super().__init__()
        self.config = config

    @property
    def pad_value(self) -> float:
        return 0.0

    @property
    def min_samples(self) -> int:
        return self.config.min_samples

    def num_frames(self, samples: Tensor) -> Tensor:
        return samples.long()

    def samples_for_frames(self, frames: int) -> int:
        return frames

    def compute(self, waves: Tensor, lengths: Tensor, frames: Tensor) -> Tensor:
        return waves[:, : int(frames.max()), None]
