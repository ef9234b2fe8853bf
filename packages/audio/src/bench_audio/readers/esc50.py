"""ESC-50 from its official release layout: meta/esc50.csv + audio/*.wav, five folds.

Protocol: one fold is the test split (`test_fold`, default 5), one the validation split used for
model selection (`valid_fold`, default 4), the rest train. Running all five `test_fold` values gives
the usual fold-wise cross-validation.
"""

from __future__ import annotations

import csv
from pathlib import Path

from bench_audio.config import DatasetConfig
from bench_audio.readers.registry import register_reader
from bench_audio.types import Clip, ClipProblem, Dataset, DatasetInfo, TaskKind
from bench_core import ConfigError, MissingResourceError

FOLDS = (1, 2, 3, 4, 5)
META = Path("meta") / "esc50.csv"


@register_reader("esc50")
def read_esc50(config: DatasetConfig, root: Path | None) -> Dataset:
    assert root is not None
    meta = root / META
    if not meta.is_file():
        raise MissingResourceError(f"ESC-50 root {root} has no {META} (official layout expected)")
    test_fold = int(config.options.get("test_fold", 5))
    valid_fold = int(config.options.get("valid_fold", 4))
    if test_fold not in FOLDS or valid_fold not in FOLDS or test_fold == valid_fold:
        raise ConfigError("esc50: test_fold and valid_fold must be two different folds in 1..5")
    with meta.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    names: dict[int, str] = {int(r["target"]): r["category"] for r in rows}
    class_names = tuple(names[i] for i in sorted(names))
    clips, problems = [], []
    for row in rows:
        clip_id = Path(row["filename"]).stem
        path = root / "audio" / row["filename"]
        if not path.is_file():
            problems.append(ClipProblem(clip_id, "read", f"missing file {path}"))
            continue
        fold = int(row["fold"])
        split = "test" if fold == test_fold else "valid" if fold == valid_fold else "train"
        clips.append(Clip(clip_id, split, (int(row["target"]),), path=str(path), fold=fold))
    info = DatasetInfo(
        name=config.name,
        kind=TaskKind.MULTICLASS,
        class_names=class_names,
        sample_rate=44100,
        clip_seconds=config.clip_seconds,
    )
    return Dataset(info=info, clips=clips, problems=problems)
