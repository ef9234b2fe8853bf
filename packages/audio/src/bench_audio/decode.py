"""Decoding clips to mono float32 waveforms at the encoder's sample rate.

soundfile (bundled libsndfile) reads wav/flac/ogg/mp3 without FFmpeg. Segments are read by frame
offset so a 5 s window of a long recording never decodes the whole file.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
import torch
from torchaudio.functional import resample

from bench_audio.types import Clip
from bench_core import BenchError


class AudioDecodeError(BenchError):
    """A clip's audio is missing, unreadable, empty or not finite."""


def _open(clip: Clip) -> sf.SoundFile:
    if clip.data is not None:
        return sf.SoundFile(io.BytesIO(clip.data))
    if clip.path is None:
        raise AudioDecodeError("clip has neither a path nor audio bytes")
    return sf.SoundFile(clip.path)


def decode_clip(clip: Clip, sample_rate: int, max_seconds: float | None = None) -> np.ndarray:
    """Mono float32 samples of `clip` at `sample_rate`, cropped to `max_seconds` if given."""
    try:
        with _open(clip) as handle:
            native_sr = handle.samplerate
            start = round(clip.start * native_sr)
            seconds = clip.duration
            if max_seconds is not None:
                seconds = max_seconds if seconds is None else min(seconds, max_seconds)
            frames = -1 if seconds is None else round(seconds * native_sr)
            if start:
                handle.seek(start)
            audio = handle.read(frames=frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError, TypeError) as error:
        raise AudioDecodeError(f"cannot decode: {error}") from None
    if audio.shape[0] == 0:
        raise AudioDecodeError("audio is empty")
    wave = audio.mean(axis=1)
    if not np.isfinite(wave).all():
        raise AudioDecodeError("audio contains NaN or infinite samples")
    if native_sr != sample_rate:
        wave = resample(torch.from_numpy(wave), native_sr, sample_rate).numpy()
    return np.ascontiguousarray(wave, dtype=np.float32)
