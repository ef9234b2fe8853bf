import numpy as np
import pytest

from bench_audio import Clip, Dataset, DatasetInfo, LabelIndex, Mix, TaskKind, UnknownLabelError


def _dataset(*extra: Clip) -> Dataset:
    clips = [
        Clip("c1", "train", (0, 1), path="/d/c1.wav"),
        Clip("c2", "test", (), path="/d/c2.wav", fold=3, start=1.5, duration=2.0),
        Clip("c3", "valid", (1,), data=b"abc"),
        *extra,
    ]
    return Dataset(DatasetInfo("x", TaskKind.MULTILABEL, ("a", "b")), clips)


def test_fingerprint_of_plain_clips_is_unchanged() -> None:
    # pinned from the fingerprint before table rows and mixtures existed: stored sets stay valid
    assert (
        _dataset().fingerprint()
        == "8ee128a7d85fe5960ded277e344a40e5e6374d4fdc83bba57192de141f1b907c"
    )


def test_fingerprint_sees_rows_and_mixtures() -> None:
    row0 = _dataset(Clip("t", "train", (0,), path="/d/t.parquet", row=0)).fingerprint()
    row1 = _dataset(Clip("t", "train", (0,), path="/d/t.parquet", row=1)).fingerprint()
    partner = Clip("p", "train", (1,), path="/d/p.wav")
    mixed = _dataset(Clip("t", "train", (0,), path="/d/t.parquet", row=0, mix=(Mix(partner, 0.3),)))
    heavier = _dataset(
        Clip("t", "train", (0,), path="/d/t.parquet", row=0, mix=(Mix(partner, 0.4),))
    )
    assert len({row0, row1, mixed.fingerprint(), heavier.fingerprint()}) == 4


def test_record_round_trip_through_numpy_values() -> None:
    partner = Clip("p", "train", (1,), path="/d/p.parquet", row=7, start=2.0, duration=5.0)
    clip = Clip(
        "t",
        "valid",
        (0, 2),
        path="/d/t.ogg",
        fold=2,
        start=1.0,
        duration=5.0,
        mix=(Mix(partner, 0.25),),
    )
    record = clip.to_record()
    as_numpy = {k: np.array(v) if k == "labels" else np.asarray([v])[0] for k, v in record.items()}
    back = Clip.from_record(as_numpy)
    assert (
        back.clip_id,
        back.split,
        back.labels,
        back.path,
        back.fold,
        back.start,
        back.duration,
    ) == ("t", "valid", (0, 2), "/d/t.ogg", 2, 1.0, 5.0)
    (part,) = back.mix
    assert part.weight == 0.25 and (
        part.clip.path,
        part.clip.row,
        part.clip.start,
        part.clip.duration,
    ) == ("/d/p.parquet", 7, 2.0, 5.0)
    plain = Clip.from_record(Clip("q", "test", (), data=b"RIFF").to_record())
    assert (
        plain.data == b"RIFF" and plain.path is None and plain.row == -1 and plain.duration is None
    )


def test_label_index_names_the_unknown_label() -> None:
    index = LabelIndex(["a", "b", "c"])
    assert index(["c", "a", "c"]) == (0, 2)
    with pytest.raises(UnknownLabelError, match="unknown label 'z'"):
        index(["a", "z"])
