from pathlib import Path

import numpy as np

from bench_audio import AudioDecodeError, TaskKind, decode_clip, open_dataset
from tests.audio.layouts import FSD_VOCABULARY, make_fsd50k


def test_official_split_and_vocabulary(tmp_path: Path) -> None:
    data = open_dataset("fsd50k", data_root=make_fsd50k(tmp_path / "FSD50K"))
    assert data.info.kind is TaskKind.MULTILABEL and data.info.class_names == tuple(FSD_VOCABULARY)
    assert data.info.clip_seconds is None  # whole clips
    assert [c.clip_id for c in data.split("train")] == ["101", "102", "103"]
    assert [c.clip_id for c in data.split("valid")] == ["104", "105", "106"]
    assert [c.clip_id for c in data.split("test")] == ["201", "202"]
    assert next(c for c in data.clips if c.clip_id == "101").labels == (0, 1, 2)
    assert not data.problems


def test_corrupt_missing_and_unknown_label_are_reported_and_the_rest_loads(tmp_path: Path) -> None:
    data = open_dataset("fsd50k", data_root=make_fsd50k(tmp_path / "FSD50K", bad=True))
    problems = {p.clip_id: p.reason for p in data.problems}
    assert problems.keys() == {"104", "105"}
    assert "missing file" in problems["104"] and "104.wav" in problems["104"]
    assert "unknown label 'Accordion'" in problems["105"]
    decoded, failed = {}, {}
    for clip in data.clips:  # what the extraction pipeline does per clip
        try:
            decoded[clip.clip_id] = decode_clip(clip, 16000)
        except AudioDecodeError as error:
            failed[clip.clip_id] = str(error)
    assert failed.keys() == {"103"} and "cannot decode" in failed["103"]
    assert decoded.keys() == {"101", "102", "106", "201", "202"}
    assert all(len(w) == 4800 and np.isfinite(w).all() for w in decoded.values())
