from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bench_audio import TaskKind, decode_clip, open_dataset
from bench_audio.fewshot import event_starts
from tests.audio.layouts import BIRD_CLASSES, make_birdset


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One BirdSet copy for the module: the readers never write to it."""
    return make_birdset(tmp_path_factory.mktemp("birdset"))


def test_event_windows_follow_birdset_event_mapping() -> None:
    assert event_starts([[1.0, 1.5], [4.0, 4.4], [7.0, 7.2]], [0, 0, 1], 5.0) == [0.0, 1.7]
    assert event_starts([], [], 5.0) == [0.0]  # no event: the start of the recording
    assert event_starts([[2.0, 3.0], [6.0, 8.0]], [-1, -1], 5.0) == [0.0]  # only noise: dropped
    assert event_starts([[6.0, 8.0]], [-1], 5.0) == [4.5]  # a single noise event is kept
    assert event_starts(None, None, 5.0) == [0.0]


def test_test_segments_and_classes(root: Path) -> None:
    data = open_dataset("hsn", data_root=root)
    assert data.info.kind is TaskKind.MULTILABEL and data.info.class_names == tuple(BIRD_CLASSES)
    assert data.info.clip_seconds == 5.0
    test = data.split("test")
    assert [c.labels for c in test] == [(0,), (0, 2), (), (1,), (2,)]
    assert test[0].clip_id == "HSN_001_20150708_061805_000_005"
    assert all(c.row >= 0 and c.path.endswith("test_5s/0000.parquet") for c in test)
    wave = decode_clip(test[3], 16000, data.info.clip_seconds)
    assert len(wave) == 80000 and np.isfinite(wave).all()


def test_shots_per_class_with_a_fixed_seed(root: Path) -> None:
    data = open_dataset("hsn", data_root=root, options={"shots": 2, "valid_fraction": 0.5})
    chosen = data.split("train") + data.split("valid")
    assert Counter(c.labels for c in chosen) == {(0,): 2, (1,): 2, (2,): 2}
    assert Counter(c.labels for c in data.split("valid")) == {(0,): 1, (1,): 1, (2,): 1}
    for clip in chosen:
        assert clip.duration == 5.0 and clip.row >= 0
        assert clip.start in (0.0, 1.7)  # windows centred on the biggest cluster's events
    again = open_dataset("hsn", data_root=root, options={"shots": 2, "valid_fraction": 0.5})
    assert [(c.clip_id, c.split) for c in again.clips] == [(c.clip_id, c.split) for c in data.clips]
    other = open_dataset(
        "hsn", data_root=root, options={"shots": 2, "valid_fraction": 0.5, "seed": 3}
    )
    assert {c.clip_id for c in other.clips} != {c.clip_id for c in data.clips}
    everything = open_dataset("hsn", data_root=root, options={"shots": 64, "event_limit": 1})
    assert len(everything.split("train") + everything.split("valid")) == 9  # one per recording


def test_mixup_variants_describe_mixtures(root: Path) -> None:
    options = {"shots": 3, "valid_fraction": 0.0, "mixup_variants": 5, "mixup_p": 0.9}
    data = open_dataset("hsn", data_root=root, options=options)
    originals = [c for c in data.split("train") if "~mix" not in c.clip_id]
    variants = [c for c in data.split("train") if "~mix" in c.clip_id]
    assert len(originals) == 9 and len(variants) == 45
    mixed = [c for c in variants if c.mix]
    assert 30 <= len(mixed) < 45  # p = 0.9
    for clip in mixed:
        (part,) = clip.mix
        assert 0.2 <= part.weight <= 0.5 and set(part.clip.labels) <= set(clip.labels)
    wave = decode_clip(mixed[0], 16000, data.info.clip_seconds)
    own = decode_clip(
        next(c for c in originals if mixed[0].clip_id.startswith(c.clip_id)), 16000, 5.0
    )
    assert len(wave) == len(own) and not np.allclose(wave, own)
    assert (
        data.fingerprint()
        != open_dataset("hsn", data_root=root, options={**options, "seed": 1}).fingerprint()
    )


def test_a_different_test_size_is_logged(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    open_dataset("hsn", data_root=root)
    assert "5 test segments" in caplog.text and "12000" in caplog.text
