"""Deterministic synthetic audio: localized sound events over a background, with their timings.

The class set is built to reproduce the paper's bottleneck in miniature. Two pairs of classes share
their average spectrum and differ only in local time-frequency structure:

* `tone` (a steady 1 kHz tone) vs `tone_pulsed` (the same tone gated on and off for twice as long,
  so the same energy lands in the same band), and
* `chirp_up` vs `chirp_down` (the same sweep played forwards and backwards).

A probe that averages the token map over time sees (nearly) the same vector for both members of a
pair; a probe that scores every token can tell them apart. The other classes are easy, so that a
weak probe still learns something.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from bench_audio.types import TaskKind

EventFn = Callable[[np.random.Generator, int], np.ndarray]


def _fade(wave: np.ndarray, sr: int, ms: float = 10.0) -> np.ndarray:
    n = min(int(sr * ms / 1000), len(wave) // 2)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n))
    wave[:n] *= ramp
    wave[len(wave) - n :] *= ramp[::-1]
    return wave


def _time(sr: int, seconds: float) -> np.ndarray:
    return np.arange(int(sr * seconds)) / sr


def _tone(rng: np.random.Generator, sr: int) -> np.ndarray:
    t = _time(sr, 0.6)
    return np.sin(2 * np.pi * 1000 * t + rng.uniform(0, 2 * np.pi))


def _tone_pulsed(rng: np.random.Generator, sr: int) -> np.ndarray:
    t = _time(sr, 1.2)
    gate = (np.floor(t / 0.05) % 2 == 0).astype(np.float64)
    return np.sin(2 * np.pi * 1000 * t + rng.uniform(0, 2 * np.pi)) * gate


def _sweep(sr: int, f_start: float, f_end: float, seconds: float = 0.6) -> np.ndarray:
    t = _time(sr, seconds)
    phase = 2 * np.pi * (f_start * t + (f_end - f_start) * t**2 / (2 * seconds))
    return np.sin(phase)


def _chirp_up(rng: np.random.Generator, sr: int) -> np.ndarray:
    return _sweep(sr, 400.0, 3200.0)


def _chirp_down(rng: np.random.Generator, sr: int) -> np.ndarray:
    return _sweep(sr, 3200.0, 400.0)


def _noise_burst(rng: np.random.Generator, sr: int) -> np.ndarray:
    n = int(sr * 0.3)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    spectrum[(freqs < 2000) | (freqs > 4000)] = 0
    wave = np.fft.irfft(spectrum, n)
    return wave / (np.abs(wave).max() + 1e-9)


def _click_train(rng: np.random.Generator, sr: int) -> np.ndarray:
    wave = np.zeros(int(sr * 0.5))
    wave[:: int(sr * 0.025)] = 1.0
    return wave


def _harmonic(rng: np.random.Generator, sr: int) -> np.ndarray:
    t = _time(sr, 0.5)
    wave = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 8))
    return wave / np.abs(wave).max()


def _warble(rng: np.random.Generator, sr: int) -> np.ndarray:
    t = _time(sr, 0.5)
    return np.sin(2 * np.pi * (2500 * t + 40 * np.sin(2 * np.pi * 12 * t)))


EVENT_CLASSES: dict[str, EventFn] = {
    "tone": _tone,
    "tone_pulsed": _tone_pulsed,
    "chirp_up": _chirp_up,
    "chirp_down": _chirp_down,
    "noise_burst": _noise_burst,
    "click_train": _click_train,
    "harmonic": _harmonic,
    "warble": _warble,
}
CLASS_NAMES: tuple[str, ...] = tuple(EVENT_CLASSES)
"""Class names in label-index order."""

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class SyntheticSpec:
    """What to generate. The same spec always produces byte-identical audio."""

    kind: TaskKind = TaskKind.MULTILABEL
    n_clips: int = 240
    clip_seconds: float = 4.0
    sample_rate: int = 16000
    seed: int = 0
    max_events: int = 3
    split_fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    background_db: float = -30.0

    def __post_init__(self) -> None:
        if self.n_clips < len(SPLITS):
            raise ValueError("n_clips must be at least 3 (one clip per split)")
        if self.max_events < 1:
            raise ValueError("max_events must be >= 1")
        if abs(sum(self.split_fractions) - 1.0) > 1e-6:
            raise ValueError("split_fractions must sum to 1")


@dataclass(frozen=True)
class Event:
    label: int
    onset: float
    offset: float


@dataclass(frozen=True)
class SyntheticClip:
    clip_id: str
    split: str
    labels: tuple[int, ...]
    events: tuple[Event, ...]
    wave: np.ndarray


@functools.lru_cache(maxsize=8)
def _split_ranks(seed: int, n_clips: int) -> np.ndarray:
    return np.random.default_rng([seed, 0]).permutation(n_clips)


def split_of(spec: SyntheticSpec, index: int) -> str:
    """Random but fixed split assignment with exact split sizes."""
    rank = int(_split_ranks(spec.seed, spec.n_clips)[index])
    n_train = round(spec.split_fractions[0] * spec.n_clips)
    n_valid = round(spec.split_fractions[1] * spec.n_clips)
    if rank < n_train:
        return SPLITS[0]
    return SPLITS[1] if rank < n_train + n_valid else SPLITS[2]


def _background(rng: np.random.Generator, n: int, level_db: float) -> np.ndarray:
    """Pink-ish noise (1/f power) at `level_db` relative to full scale RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    wave = np.fft.irfft(spectrum, n)
    wave /= np.sqrt(np.mean(wave**2)) + 1e-12
    return wave * 10 ** (level_db / 20)


def generate_clip(spec: SyntheticSpec, index: int) -> SyntheticClip:
    """Clip number `index` of the dataset described by `spec` (independent of other clips)."""
    rng = np.random.default_rng([spec.seed, 1, index])
    n = int(spec.clip_seconds * spec.sample_rate)
    wave = _background(rng, n, spec.background_db)
    n_classes = len(CLASS_NAMES)
    if spec.kind is TaskKind.MULTICLASS:
        labels = [int(index % n_classes)]
    else:
        count = int(rng.integers(1, spec.max_events + 1))
        labels = sorted(rng.choice(n_classes, size=count, replace=False).tolist())
    events = []
    for label in labels:
        event = _fade(EVENT_CLASSES[CLASS_NAMES[label]](rng, spec.sample_rate), spec.sample_rate)
        event = event[:n]
        start = int(rng.integers(0, n - len(event) + 1))
        gain = rng.uniform(0.2, 0.5)
        wave[start : start + len(event)] += gain * event
        events.append(
            Event(label, start / spec.sample_rate, (start + len(event)) / spec.sample_rate)
        )
    wave = np.clip(wave, -1.0, 1.0).astype(np.float32)
    return SyntheticClip(
        clip_id=f"syn{index:06d}",
        split=split_of(spec, index),
        labels=tuple(labels),
        events=tuple(sorted(events, key=lambda e: e.onset)),
        wave=wave,
    )


MANIFEST = "manifest.jsonl"
SPEC_FILE = "spec.json"


def write_dataset(spec: SyntheticSpec, out_dir: str | Path) -> Path:
    """Write the dataset as 16-bit wav files plus `manifest.jsonl` (labels, split, events).

    Idempotent: an existing folder generated from the same spec is reused as is.
    """
    out = Path(out_dir)
    spec_json = json.dumps(asdict(spec), sort_keys=True)
    if (out / SPEC_FILE).is_file() and (out / SPEC_FILE).read_text() == spec_json:
        return out
    (out / "audio").mkdir(parents=True, exist_ok=True)
    rows = []
    for index in range(spec.n_clips):
        clip = generate_clip(spec, index)
        rel = f"audio/{clip.clip_id}.wav"
        sf.write(out / rel, clip.wave, spec.sample_rate, subtype="PCM_16")
        rows.append(
            {
                "clip_id": clip.clip_id,
                "path": rel,
                "split": clip.split,
                "labels": [CLASS_NAMES[i] for i in clip.labels],
                "events": [
                    {"label": CLASS_NAMES[e.label], "onset": e.onset, "offset": e.offset}
                    for e in clip.events
                ],
            }
        )
    (out / MANIFEST).write_text("".join(json.dumps(row) + "\n" for row in rows))
    (out / "classes.txt").write_text("\n".join(CLASS_NAMES) + "\n")
    (out / SPEC_FILE).write_text(spec_json)
    return out
