import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bench_audio import TaskKind, open_dataset
from bench_audio.synthetic import (
    CLASS_NAMES,
    EVENT_CLASSES,
    SyntheticSpec,
    generate_clip,
    write_dataset,
)


def _band_energy(
    wave: np.ndarray, sr: int, start: float, stop: float, lo: float, hi: float
) -> float:
    segment = wave[int(start * sr) : int(stop * sr)]
    spectrum = np.abs(np.fft.rfft(segment)) ** 2
    freqs = np.fft.rfftfreq(len(segment), 1 / sr)
    return float(spectrum[(freqs >= lo) & (freqs <= hi)].sum() / max(len(segment), 1))


def test_generation_is_deterministic() -> None:
    spec = SyntheticSpec(n_clips=20, seed=3)
    a, b = generate_clip(spec, 7), generate_clip(spec, 7)
    assert np.array_equal(a.wave, b.wave) and a.labels == b.labels and a.events == b.events
    assert not np.array_equal(a.wave, generate_clip(SyntheticSpec(n_clips=20, seed=4), 7).wave)


def test_labels_match_events_and_events_are_audible() -> None:
    spec = SyntheticSpec(n_clips=40, seed=1, background_db=-60)
    for index in range(spec.n_clips):
        clip = generate_clip(spec, index)
        assert clip.labels == tuple(sorted({e.label for e in clip.events}))
        assert 1 <= len(clip.labels) <= spec.max_events
        for event in clip.events:
            assert 0 <= event.onset < event.offset <= spec.clip_seconds
        # the event window holds much more energy than the same length of background elsewhere
        first = clip.events[0]
        inside = np.mean(clip.wave[int(first.onset * 16000) : int(first.offset * 16000)] ** 2)
        assert inside > 100 * 10 ** (spec.background_db / 10)


def test_multiclass_has_one_balanced_label() -> None:
    spec = SyntheticSpec(kind=TaskKind.MULTICLASS, n_clips=32)
    labels = [generate_clip(spec, i).labels for i in range(spec.n_clips)]
    assert all(len(x) == 1 for x in labels)
    counts = np.bincount([x[0] for x in labels], minlength=len(CLASS_NAMES))
    assert counts.min() == counts.max() == 4


def test_split_sizes_are_exact() -> None:
    spec = SyntheticSpec(n_clips=50)
    splits = [generate_clip(spec, i).split for i in range(spec.n_clips)]
    assert (splits.count("train"), splits.count("valid"), splits.count("test")) == (30, 10, 10)


@pytest.mark.parametrize(("a", "b"), [("tone", "tone_pulsed"), ("chirp_up", "chirp_down")])
def test_paired_classes_share_average_spectrum_but_not_local_structure(a: str, b: str) -> None:
    rng = np.random.default_rng(0)
    wave_a, wave_b = EVENT_CLASSES[a](rng, 16000), EVENT_CLASSES[b](rng, 16000)

    def mean_spectrum(wave: np.ndarray) -> np.ndarray:
        frames = np.lib.stride_tricks.sliding_window_view(wave, 512)[::256]
        power = np.abs(np.fft.rfft(frames * np.hanning(512), axis=1)) ** 2
        return power.sum(axis=0)  # total energy per frequency bin over the event

    def band_profile(wave: np.ndarray) -> np.ndarray:
        spectrum = mean_spectrum(wave)
        bands = np.add.reduceat(spectrum, np.arange(0, len(spectrum), 16))
        return bands / bands.sum()

    # same energy distribution over frequency bands ...
    assert np.abs(band_profile(wave_a) - band_profile(wave_b)).sum() < 0.2
    # ... but different time-frequency structure: the first 100 ms differ
    first = min(len(wave_a), len(wave_b), 1600)
    start_a, start_b = mean_spectrum(wave_a[:first]), mean_spectrum(wave_b[:first])
    cos = start_a @ start_b / (np.linalg.norm(start_a) * np.linalg.norm(start_b))
    assert a.startswith("tone") or cos < 0.5
    if a == "tone":  # the pulsed tone is silent half of the time; the steady one never is
        frames_b = np.lib.stride_tricks.sliding_window_view(wave_b, 400)[::400]
        frames_a = np.lib.stride_tricks.sliding_window_view(wave_a, 400)[::400]
        assert (np.abs(frames_b).max(axis=1) < 1e-3).mean() > 0.3
        assert (np.abs(frames_a).max(axis=1) < 1e-3).mean() == 0


def test_write_dataset_and_reader(tmp_path: Path) -> None:
    spec = SyntheticSpec(n_clips=12, clip_seconds=2.0, seed=5)
    folder = write_dataset(spec, tmp_path / "syn")
    rows = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 12
    wave, sr = sf.read(folder / rows[0]["path"])
    assert sr == 16000 and len(wave) == 32000
    assert {e["label"] for e in rows[0]["events"]} == set(rows[0]["labels"])
    mtime = (folder / rows[0]["path"]).stat().st_mtime_ns
    write_dataset(spec, folder)  # same spec: reused, not rewritten
    assert (folder / rows[0]["path"]).stat().st_mtime_ns == mtime

    data = open_dataset("synthetic", data_root=tmp_path / "default")
    assert data.info.kind is TaskKind.MULTILABEL and data.info.class_names == CLASS_NAMES
    assert len(data.clips) == 240 and set(data.splits) == {"train", "valid", "test"}
    assert len(data.fingerprint()) == 64
