"""Decoding clips to mono float32 waveforms at the encoder's sample rate.

soundfile (bundled libsndfile) reads wav/flac/ogg/mp3 without FFmpeg. Segments are read by frame
offset so a 5 s window of a long recording never decodes the whole file. Audio embedded in a
Parquet/Arrow table is read from its row only now, at decode time. A mixture (`Clip.mix`) is the
weighted sum of its parts, each cropped or zero-extended to the length of the clip itself.

No waveform padding: a clip shorter than the dataset's clip length stays short, and the encoders
mask what padding their batching adds.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
import torch
from torchaudio.functional import resample

from bench_audio.tables import open_table
from bench_audio.types import Clip
from bench_core import BenchError


class AudioDecodeError(BenchError):
    """A clip's audio is missing, unreadable, empty or not finite."""


def _open(clip: Clip) -> sf.SoundFile:
    if clip.row >= 0:
        if clip.path is None:
            raise AudioDecodeError("clip names a table row but no table")
        try:
            data = open_table(clip.path).audio_bytes(clip.row)
        except (OSError, IndexError, KeyError, TypeError, ValueError) as error:  # pyarrow's too
            raise AudioDecodeError(f"cannot read row {clip.row} of {clip.path}: {error}") from None
        if data is None:
            raise AudioDecodeError(f"row {clip.row} of {clip.path} has no audio bytes")
        return sf.SoundFile(io.BytesIO(data))
    if clip.data is not None:
        return sf.SoundFile(io.BytesIO(clip.data))
    if clip.path is None:
        raise AudioDecodeError("clip has neither a path nor audio bytes")
    return sf.SoundFile(clip.path)


def _decode_one(clip: Clip, sample_rate: int, max_seconds: float | None) -> np.ndarray:
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
    return wave


def decode_clip(clip: Clip, sample_rate: int, max_seconds: float | None = None) -> np.ndarray:
    """Mono float32 samples of `clip` at `sample_rate`, cropped to `max_seconds` if given."""
    wave = _decode_one(clip, sample_rate, max_seconds)
    if clip.mix:
        wave = wave * (1.0 - sum(part.weight for part in clip.mix))
        for part in clip.mix:
            try:
                other = _decode_one(part.clip, sample_rate, len(wave) / sample_rate)
            except AudioDecodeError as error:
                raise AudioDecodeError(f"mixture part {part.clip.path}: {error}") from None
            n = min(len(wave), len(other))
            wave[:n] += part.weight * other[:n]
    return np.ascontiguousarray(wave, dtype=np.float32)
