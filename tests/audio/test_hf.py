from pathlib import Path

import pytest

from bench_audio import TaskKind, decode_clip, open_dataset
from bench_core import ConfigError, MissingResourceError
from tests.audio.layouts import DESED_CLASSES, make_desed_arrow, make_spass_parquet


def test_desed_save_to_disk_arrow_with_embedded_audio(tmp_path: Path) -> None:
    data = open_dataset("desed", data_root=make_desed_arrow(tmp_path / "desed"))
    assert data.info.kind is TaskKind.MULTILABEL
    assert data.info.class_names == tuple(DESED_CLASSES)  # from dataset_info.json
    assert [(c.clip_id, c.labels) for c in data.split("train")] == [
        ("train_000", (0, 2)),
        ("train_001", (4,)),
        ("train_002", ()),
    ]
    assert [c.clip_id for c in data.split("valid")] == ["validation_000"]
    clip = data.split("test")[1]
    assert (
        clip.row == 1
        and clip.path.endswith("test/data-00000-of-00001.arrow")
        and clip.labels == (3,)
    )
    assert len(decode_clip(clip, 16000, data.info.clip_seconds)) == 4800


def test_spass_hub_parquet_with_audio_files_and_string_labels(tmp_path: Path) -> None:
    root = make_spass_parquet(tmp_path / "spass")
    data = open_dataset("spass", data_root=root)
    assert data.info.class_names == ("bird", "car", "speech")  # sorted names found
    by_id = {c.clip_id: c for c in data.clips}
    assert by_id["train_0"].labels == (0, 1) and by_id["test_1"].labels == ()
    assert by_id["train_0"].row == -1 and by_id["train_0"].path == str(
        root / "audio" / "train_0.wav"
    )
    (root / "audio" / "test_0.wav").unlink()
    data = open_dataset("spass", data_root=root)
    assert [p.clip_id for p in data.problems] == ["test_0"]


def test_wrong_classes_option_and_absent_split_are_errors(tmp_path: Path) -> None:
    root = make_desed_arrow(tmp_path / "desed")
    with pytest.raises(ConfigError, match="disagrees"):
        open_dataset(
            "desed", data_root=root, options={"classes": sorted(DESED_CLASSES, reverse=True)}
        )
    with pytest.raises(MissingResourceError, match="split 'valid'"):
        open_dataset(
            "desed", data_root=root, options={"splits": {"train": "train", "valid": "valid"}}
        )
