from pathlib import Path

import numpy as np

from bench_audio import TaskKind, decode_clip, open_dataset
from tests.audio.layouts import make_speechcommands


def test_twelve_class_protocol(tmp_path: Path) -> None:
    data = open_dataset("sc2", data_root=make_speechcommands(tmp_path / "speech_commands_v0.02"))
    names = data.info.class_names
    assert data.info.kind is TaskKind.MULTICLASS and len(names) == 12
    assert names[:2] == ("yes", "no") and names[10:] == ("_unknown_", "_silence_")
    by_id = {c.clip_id: c for c in data.clips}
    assert by_id["yes/0a7c2a8d_nohash_0"].split == "train"
    assert by_id["yes/0b09edd3_nohash_0"].split == "valid"
    assert by_id["yes/0c40e715_nohash_0"].split == "test"
    assert by_id["marvin/0b09edd3_nohash_0"].labels == (10,)  # other words are _unknown_
    assert by_id["tree/0c40e715_nohash_0"].split == "test"
    assert [p.clip_id for p in data.problems] == ["no/ffffffff_nohash_0"]  # listed, not on disk


def test_silence_is_one_second_noise_crops_split_by_position(tmp_path: Path) -> None:
    data = open_dataset("sc2", data_root=make_speechcommands(tmp_path / "sc"))
    silence = sorted((c for c in data.clips if c.labels == (11,)), key=lambda c: c.start)
    assert len(silence) == 10 and all(c.duration == 1.0 for c in silence)  # 10.4 s of noise
    assert [c.split for c in silence] == ["train"] * 8 + ["valid"] + ["test"]
    assert [c.start for c in silence] == [float(k) for k in range(10)]
    wave = decode_clip(silence[3], 16000, data.info.clip_seconds)
    assert len(wave) == 16000 and np.abs(wave).max() > 0.05
