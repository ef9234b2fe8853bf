from pathlib import Path

from bench_audio import TaskKind, open_dataset
from bench_audio.readers.audioset import read_segments, ytid_candidates
from tests.audio.layouts import make_audioset


def test_segment_csv_skips_comments_and_splits_quoted_labels(tmp_path: Path) -> None:
    root = make_audioset(tmp_path / "audioset")
    rows = list(read_segments(root / "balanced_train_segments.csv"))
    assert len(rows) == 42
    assert rows[0] == ("bal000_-xYZ", "/m/0jbk,/m/09x0r")


def test_naming_variants() -> None:
    assert ytid_candidates("--PJHxphWEs") == ["--PJHxphWEs"]
    assert ytid_candidates("Y--PJHxphWEs") == ["--PJHxphWEs"]
    assert ytid_candidates("--PJHxphWEs_30.000_40.000") == ["--PJHxphWEs"]
    assert ytid_candidates("Y--PJHxphWEs_30000_40000") == ["--PJHxphWEs"]
    assert "Yabcdefghij" in ytid_candidates("Yabcdefghij_0_10")  # an id that starts with Y


def test_as20k_labels_splits_and_problems(tmp_path: Path) -> None:
    data = open_dataset("as20k", data_root=make_audioset(tmp_path / "audioset"))
    assert data.info.kind is TaskKind.MULTILABEL
    assert data.info.class_names == ("Speech", "Male speech, man speaking", "Animal")
    ids = {c.clip_id for c in data.clips}
    assert "unbal-0000A" not in ids  # only the balanced list trains as20k
    assert {c.clip_id for c in data.split("test")} == {"-eval_0000A", "Yevalclip01"}
    train_like = data.split("train") + data.split("valid")
    assert len(train_like) == 40 and 0 < len(data.split("valid")) < 15
    clip = next(c for c in data.clips if c.clip_id == "bal000_-xYZ")
    assert clip.labels == (0, 2) and clip.path.endswith("bal000_-xYZ.wav")
    assert next(c for c in data.clips if c.clip_id == "bal001_-xYZ").path.endswith(
        "Ybal001_-xYZ.flac"
    )
    reasons = {p.clip_id: p.reason for p in data.problems}
    assert set(reasons) == {"--missing0A", "unknownLab1"}
    assert "no audio file" in reasons["--missing0A"]
    assert "unknown label '/m/xxxxx'" in reasons["unknownLab1"]


def test_validation_split_is_stable_and_shared_with_as2m(tmp_path: Path) -> None:
    root = make_audioset(tmp_path / "audioset")
    small = open_dataset("as20k", data_root=root, options={"valid_fraction": 0.3})
    full = open_dataset("as2m", data_root=root, options={"valid_fraction": 0.3})
    assert {c.clip_id for c in small.split("valid")} <= {c.clip_id for c in full.split("valid")}
    assert "unbal-0000A" in {c.clip_id for c in full.clips}
    other_seed = open_dataset("as20k", data_root=root, options={"valid_fraction": 0.3, "seed": 1})
    assert {c.clip_id for c in other_seed.split("valid")} != {
        c.clip_id for c in small.split("valid")
    }
