from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bench_audio import AudioDecodeError, Clip, TaskKind, decode_clip, open_dataset
from bench_audio.readers.esc50 import esc50_split
from bench_core import ConfigError, MissingResourceError
from tests.audio.layouts import CATEGORIES, make_esc50


def test_reads_official_layout_with_folds(tmp_path: Path) -> None:
    data = open_dataset("esc50", data_root=make_esc50(tmp_path / "ESC-50"))
    assert data.info.kind is TaskKind.MULTICLASS
    assert data.info.class_names == tuple(CATEGORIES)
    assert len(data.clips) == 15
    assert {c.fold for c in data.split("test")} == {5}
    assert {c.fold for c in data.split("valid")} == {4}
    assert {c.fold for c in data.split("train")} == {1, 2, 3}
    clip = next(c for c in data.clips if c.clip_id == "2-101-A-1")
    assert clip.labels == (1,)


def test_every_fold_can_be_held_out(tmp_path: Path) -> None:
    root = make_esc50(tmp_path / "ESC-50")
    for fold in range(1, 6):
        data = open_dataset(
            "esc50", data_root=root, options={"test_fold": fold, "valid_fold": None}
        )
        assert {c.fold for c in data.split("test")} == {fold}
        assert {c.fold for c in data.split("valid")} == {(fold - 2) % 5 + 1}
        assert len(data.split("train")) == 9
    assert esc50_split(3, test_fold=1) == "train" and esc50_split(5, test_fold=1) == "valid"
    with pytest.raises(ConfigError, match="two different folds"):
        open_dataset(
            "esc50", data_root=root, options={"test_fold": 4}
        )  # the config's valid_fold is 4
    with pytest.raises(ConfigError, match="test_fold"):
        open_dataset("esc50", data_root=root, options={"test_fold": 6})


def test_missing_file_is_reported_not_fatal(tmp_path: Path) -> None:
    data = open_dataset("esc50", data_root=make_esc50(tmp_path / "ESC-50", missing="3-102-A-2.wav"))
    assert len(data.clips) == 14
    assert [p.clip_id for p in data.problems] == ["3-102-A-2"]
    assert "missing file" in data.problems[0].reason


def test_absent_root_says_what_to_provide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENCH_ESC50_ROOT", raising=False)
    with pytest.raises(MissingResourceError) as error:
        open_dataset("esc50")
    assert "BENCH_ESC50_ROOT" in str(error.value) and "--data-root" in str(error.value)


def test_decode_resamples_downmixes_and_crops(tmp_path: Path) -> None:
    stereo = np.stack([np.ones(44100 * 3), -np.ones(44100 * 3) * 0.5], axis=1).astype(np.float32)
    sf.write(tmp_path / "s.flac", stereo, 44100)
    wave = decode_clip(
        Clip("s", "train", (), path=str(tmp_path / "s.flac")), 16000, max_seconds=2.0
    )
    assert wave.dtype == np.float32 and len(wave) == 32000
    assert abs(float(np.median(wave)) - 0.25) < 1e-3


def test_decode_errors_are_clear(tmp_path: Path) -> None:
    (tmp_path / "bad.wav").write_bytes(b"RIFF0000WAVEjunk")
    with pytest.raises(AudioDecodeError, match="cannot decode"):
        decode_clip(Clip("bad", "train", (), path=str(tmp_path / "bad.wav")), 16000)
    sf.write(tmp_path / "nan.wav", np.full(1600, np.nan, dtype=np.float32), 16000, subtype="FLOAT")
    with pytest.raises(AudioDecodeError, match="NaN"):
        decode_clip(Clip("nan", "train", (), path=str(tmp_path / "nan.wav")), 16000)
    sf.write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioDecodeError, match="empty"):
        decode_clip(Clip("empty", "train", (), path=str(tmp_path / "empty.wav")), 16000)
