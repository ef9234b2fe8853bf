"""ESC-50 from its official release layout: meta/esc50.csv + audio/*.wav, five folds, 5 s clips.

Protocol: fold-wise cross-validation. One fold is the test split (`test_fold`, default 5), one the
validation split for model selection (`valid_fold`, default the fold before the test fold,
cyclically: 4 for test fold 5, 5 for test fold 1), the other three train. Every clip keeps its
`fold`, and the store keeps it too, so all five held-out folds come from one extraction: set
`test_fold` to 1..5 (`open_dataset("esc50", options={"test_fold": k})`) or re-split stored
embeddings by fold with `esc50_split`.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pydantic import Field

from bench_audio.config import DatasetConfig
from bench_audio.files import list_audio
from bench_audio.readers.common import ClipCollector, parse_options, require
from bench_audio.readers.registry import register_reader
from bench_audio.types import Clip, Dataset, DatasetInfo, TaskKind
from bench_core import Config, ConfigError

FOLDS = (1, 2, 3, 4, 5)
META = Path("meta") / "esc50.csv"


class Esc50Options(Config):
    test_fold: int = Field(default=5, ge=1, le=5)
    valid_fold: int | None = Field(default=None, ge=1, le=5)
    """None: the fold before `test_fold` (cyclic)."""


def esc50_split(fold: int, test_fold: int, valid_fold: int | None = None) -> str:
    """The split of a clip of `fold` when `test_fold` is held out (see the module docstring)."""
    valid = valid_fold if valid_fold is not None else (test_fold - 2) % len(FOLDS) + 1
    if valid == test_fold:
        raise ConfigError("esc50: test_fold and valid_fold must be two different folds in 1..5")
    return "test" if fold == test_fold else "valid" if fold == valid else "train"


@register_reader("esc50", kind=TaskKind.MULTICLASS)
def read_esc50(config: DatasetConfig, root: Path | None) -> Dataset:
    assert root is not None
    options = parse_options(config, Esc50Options)
    meta = require(root / META, f"ESC-50 root {root} must hold {META} (official layout)")
    with meta.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    names: dict[int, str] = {int(r["target"]): r["category"] for r in rows}
    class_names = tuple(names[i] for i in sorted(names))
    files = list_audio(root / "audio", recursive=False)
    out = ClipCollector()
    for row in rows:
        clip_id = Path(row["filename"]).stem
        path = files.get(row["filename"])
        if path is None:
            out.reject(clip_id, f"missing file {root / 'audio' / row['filename']}")
            continue
        fold = int(row["fold"])
        split = esc50_split(fold, options.test_fold, options.valid_fold)
        out.add(Clip(clip_id, split, (int(row["target"]),), path=path, fold=fold))
    info = DatasetInfo(
        name=config.name,
        kind=TaskKind.MULTICLASS,
        class_names=class_names,
        sample_rate=44100,
        clip_seconds=config.clip_seconds,
    )
    return out.dataset(info)
