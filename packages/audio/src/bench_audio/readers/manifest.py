"""A generic manifest for any other dataset: one row per clip in CSV, JSONL or Parquet.

Columns: `path` (an audio file, relative to the manifest's folder or absolute), `labels` (class
names: a list in JSONL/Parquet, a `label_separator`-joined string in CSV, empty for none) and
`split` (train, valid or test); optional `clip_id` (default: the path without its extension),
`fold` (int), `start` and `duration` (seconds, to read a segment of a longer file). Options:
`file` (default manifest.csv), `kind` (multilabel or multiclass), `classes` (label-index order;
default: the sorted set of labels found, and then no label is unknown), `label_separator` (`;`).
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from bench_audio.config import DatasetConfig
from bench_audio.readers.common import ClipCollector, parse_options, require
from bench_audio.readers.registry import register_reader
from bench_audio.types import Clip, Dataset, DatasetInfo, LabelIndex, TaskKind, UnknownLabelError
from bench_core import Config, ConfigError

REQUIRED = ("path", "labels", "split")
SPLITS = ("train", "valid", "test")


class ManifestOptions(Config):
    file: str = "manifest.csv"
    kind: TaskKind = TaskKind.MULTILABEL
    classes: list[str] | None = None
    label_separator: str = ";"


def read_manifest_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a .csv, .jsonl or .parquet manifest as dictionaries."""
    if path.suffix == ".csv":
        with path.open(newline="") as handle:
            return list(csv.DictReader(handle))
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    raise ConfigError(f"manifest {path}: expected a .csv, .jsonl or .parquet file")


def _names(value: Any, separator: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [name.strip() for name in value.split(separator) if name.strip()]
    return [str(name) for name in value]


def _number(value: Any) -> float | None:
    """A float, or None for an absent value (empty CSV cell, null, NaN)."""
    if value is None or value == "":
        return None
    number = float(value)
    return None if math.isnan(number) else number


class _Listing:
    """Existence checks by one directory listing per folder instead of one stat per clip."""

    def __init__(self) -> None:
        self._folders: dict[Path, set[str]] = {}

    def has(self, path: Path) -> bool:
        names = self._folders.get(path.parent)
        if names is None:
            names = set(os.listdir(path.parent)) if path.parent.is_dir() else set()
            self._folders[path.parent] = names
        return path.name in names


def manifest_dataset(
    name: str,
    rows: Sequence[Mapping[str, Any]],
    folder: Path,
    kind: TaskKind,
    classes: Sequence[str] | None,
    clip_seconds: float | None,
    label_separator: str = ";",
    sample_rate: int | None = None,
) -> Dataset:
    """Clips of manifest `rows` whose relative paths start at `folder`."""
    missing = [column for column in REQUIRED if rows and column not in rows[0]]
    if missing:
        raise ConfigError(f"manifest of '{name}' lacks column(s) {', '.join(missing)}")
    if classes is None:
        classes = sorted({n for row in rows for n in _names(row["labels"], label_separator)})
    index = LabelIndex(classes)
    listing = _Listing()
    out = ClipCollector()
    for row in rows:
        path = folder / str(row["path"])
        clip_id = str(row.get("clip_id") or Path(str(row["path"])).with_suffix(""))
        if not listing.has(path):
            out.reject(clip_id, f"missing file {path}")
            continue
        try:
            labels = index(_names(row["labels"], label_separator))
        except UnknownLabelError as error:
            out.reject(clip_id, str(error))
            continue
        if row["split"] not in SPLITS:
            out.reject(clip_id, f"unknown split {row['split']!r} (expected one of {SPLITS})")
            continue
        if kind is TaskKind.MULTICLASS and len(labels) != 1:
            out.reject(clip_id, f"multi-class clip with {len(labels)} labels")
            continue
        fold = _number(row.get("fold"))
        out.add(
            Clip(
                clip_id,
                str(row["split"]),
                labels,
                path=str(path),
                fold=-1 if fold is None else int(fold),
                start=_number(row.get("start")) or 0.0,
                duration=_number(row.get("duration")),
            )
        )
    info = DatasetInfo(name, kind, tuple(classes), sample_rate, clip_seconds)
    return out.dataset(info)


@register_reader("manifest")
def read_manifest(config: DatasetConfig, root: Path | None) -> Dataset:
    assert root is not None
    options = parse_options(config, ManifestOptions)
    path = require(root / options.file, f"manifest file (option `file`) under {root}")
    return manifest_dataset(
        config.name,
        read_manifest_rows(path),
        path.parent,
        options.kind,
        options.classes,
        config.clip_seconds,
        options.label_separator,
    )
