from pathlib import Path

import pytest

from bench_audio import TaskKind, open_dataset
from bench_audio.config import DatasetConfig
from tests.audio.layouts import make_manifest


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_manifest_formats(tmp_path: Path, fmt: str) -> None:
    root = make_manifest(tmp_path / "mine", fmt)
    config = DatasetConfig(name="mine", reader="manifest", options={"file": f"manifest.{fmt}"})
    data = open_dataset(config, data_root=root)
    assert data.info.kind is TaskKind.MULTILABEL and data.info.class_names == ("cat", "dog")
    by_id = {c.clip_id: c for c in data.clips}
    assert set(by_id) == {"audio/a", "audio/b", "audio/c", "long-seg"}
    assert by_id["audio/b"].labels == (0, 1) and by_id["audio/b"].split == "valid"
    assert by_id["audio/b"].fold == 2 and by_id["audio/c"].labels == ()
    assert (by_id["long-seg"].start, by_id["long-seg"].duration) == (0.5, 1.0)
    assert by_id["audio/a"].duration is None and by_id["audio/a"].start == 0.0
    reasons = {p.clip_id: p.reason for p in data.problems}
    assert (
        "missing file" in reasons["audio/gone"] and "unknown split 'holdout'" in reasons["a-other"]
    )


def test_declared_classes_and_multiclass_rules(tmp_path: Path) -> None:
    root = make_manifest(tmp_path / "mine", "csv")
    config = DatasetConfig(
        name="mine", reader="manifest", options={"kind": "multiclass", "classes": ["dog", "bird"]}
    )
    data = open_dataset(config, data_root=root)
    assert [c.clip_id for c in data.clips] == ["audio/a"]
    reasons = {p.clip_id: p.reason for p in data.problems}
    assert "unknown label 'cat'" in reasons["audio/b"]
    assert "multi-class clip with 0 labels" in reasons["audio/c"]
