"""Datasets kept as Hugging Face `datasets` tables (Parquet or Arrow) with an audio column.

This is how the paper's authors share their copies of DESED and SPASS, and how any Hub audio
dataset looks on disk. Expected schema (one table set per split, found by `split_tables`):

* `audio`: an `Audio` feature, i.e. a struct `{bytes: binary, path: string}` (or plain binary):
  embedded encoded audio, or a path to a file (absolute, relative to the table, or a file name
  found under the dataset root);
* the label column (`label_column`, default `labels`): class indices (`ClassLabel` or a
  `Sequence` of them), class names (a string or a list of strings) or a multi-hot list of floats;
  class names come from the `classes` option, else the `ClassLabel` names in the table metadata,
  else (string labels) the sorted set of names found in all splits.

Options: `splits` maps bench's split names to the release's (default train / validation / test),
`kind` (multilabel or multiclass), `label_column`, `classes`. Clip ids are the audio file names
without extension when the table records them, else `<split>-<n>`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from bench_audio.config import DatasetConfig
from bench_audio.readers.common import ClipCollector, parse_options
from bench_audio.readers.registry import register_reader
from bench_audio.table_labels import class_index, label_rows
from bench_audio.tables import AudioTable, row_audio, split_tables
from bench_audio.types import Clip, Dataset, DatasetInfo, TaskKind
from bench_core import Config, MissingResourceError


class HFOptions(Config):
    kind: TaskKind = TaskKind.MULTILABEL
    splits: dict[str, str] = Field(
        default_factory=lambda: {"train": "train", "valid": "validation", "test": "test"}
    )
    label_column: str = "labels"
    classes: list[str] | None = None


def split_table_files(root: Path, splits: dict[str, str]) -> dict[str, list[AudioTable]]:
    """The tables of every split; a split without tables is an error naming what was looked for."""
    tables = {}
    for split, release in splits.items():
        files = split_tables(root, release)
        if not files:
            raise MissingResourceError(
                f"no Parquet/Arrow tables of split '{release}' under {root} (looked for "
                f"{release}/*.parquet|arrow, {release}-*.parquet, *-{release}-*.arrow)"
            )
        tables[split] = [AudioTable(path) for path in files]
    return tables


@register_reader("hf")
def read_hf(config: DatasetConfig, root: Path | None) -> Dataset:
    assert root is not None
    options = parse_options(config, HFOptions)
    tables = split_table_files(root, options.splits)
    sources = [(t, options.label_column) for ts in tables.values() for t in ts]
    classes = class_index(sources, options.classes)
    out = ClipCollector()
    for split, split_files in tables.items():
        n = 0
        for table in split_files:
            for audio, labels in zip(
                row_audio(table, root),
                label_rows(table, options.label_column, classes),
                strict=True,
            ):
                clip_id = Path(audio.name).stem if audio.name else f"{split}-{n}"
                n += 1
                if isinstance(labels, str):
                    out.reject(clip_id, labels)
                elif audio.path is None:
                    out.reject(clip_id, f"no audio bytes and no file {audio.name} under {root}")
                elif options.kind is TaskKind.MULTICLASS and len(labels) != 1:
                    out.reject(clip_id, f"multi-class clip with {len(labels)} labels")
                else:
                    out.add(Clip(clip_id, split, labels, path=audio.path, row=audio.row))
    info = DatasetInfo(
        name=config.name,
        kind=options.kind,
        class_names=classes.names,
        clip_seconds=config.clip_seconds,
    )
    return out.dataset(info)
