from pathlib import Path

from bench_audio import TaskKind, open_dataset
from bench_audio.readers.urbansed import CLASSES
from tests.audio.layouts import make_urbansed


def test_clip_labels_from_event_annotations(tmp_path: Path) -> None:
    data = open_dataset("urban", data_root=make_urbansed(tmp_path / "URBAN-SED_v2.0.0"))
    assert data.info.kind is TaskKind.MULTILABEL and data.info.class_names == CLASSES
    by_id = {c.clip_id: c for c in data.clips}
    assert by_id["soundscape_train_uniform0"].labels == (
        CLASSES.index("gun_shot"),
        CLASSES.index("jackhammer"),
    )
    assert by_id["soundscape_validate_uniform0"].split == "valid"
    assert by_id["soundscape_test_uniform0"].labels == ()  # a soundscape without events
    assert by_id["soundscape_test_uniform1"].split == "test"
    assert [(p.clip_id, "unknown label 'laser_blast'" in p.reason) for p in data.problems] == [
        ("soundscape_train_unusual2", True)
    ]
