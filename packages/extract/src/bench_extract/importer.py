"""`bench import`: token maps computed elsewhere, registered as an embedding set.

Researchers with their own extraction pipelines (or models bench cannot run, such as Perch) want
only the probes. The token maps come from a `TokenSource` (token_sources.py); labels, splits and
folds come from a dataset reader (`bench_audio.open_dataset`) or from a label manifest. The layout
of each clip's array is an explicit choice, validated on every clip's shape before anything is
written. Rows go through the same idempotent writer as extraction, so a re-import adds nothing, and
the identity says the set was imported, from which path, and the hash of its content.

Imported maps carry no cls token: the stored cls is the mean of the tokens (as for BEATs/Dasheng).
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from bench_audio import Clip, Dataset, DatasetConfig, DatasetInfo, TaskKind, open_dataset
from bench_core import BenchError, MissingResourceError
from bench_extract.token_sources import TokenSource, open_source
from bench_store import ClipTokens, EmbeddingSet, SetInfo, TokenDType, TokenStore

IMPORT_FORMAT_VERSION = 1
"""Bump when a code change alters the rows imported from the same source (part of the identity)."""

FP16_MAX = float(np.finfo(np.float16).max)
WRITE_EVERY = 256
"""Rows per store commit, as in extraction: large commits keep Lance fragments big."""


class TokenLayout(StrEnum):
    """The axes of each clip's array, in order: (L)ayers, (T)ime, (F)requency, (D)imension.
    TD is a (time x dim) map with one frequency token; TD and TFD hold one layer."""

    TD = "TD"
    TFD = "TFD"
    LTFD = "LTFD"

    def to_ltfd(self, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        if len(shape) != len(self.value):
            raise ValueError(
                f"token map {shape} has {len(shape)} axes, layout {self.value} has {len(self.value)}"
            )
        axes = dict(zip(self.value, shape, strict=True))
        return axes.get("L", 1), axes["T"], axes.get("F", 1), axes["D"]


@dataclass
class ImportSummary:
    embedding_set: str
    source_clips: int
    written: int
    already_stored: int
    missing: list[str] = field(default_factory=list)
    """Clips of the dataset without a token map in the source."""
    failures: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def read_label_manifest(path: str | Path, name: str | None = None) -> Dataset:
    """Labels and splits without audio: a .jsonl file (one {"clip_id", "split", "labels": [names],
    "fold"?} object per line) or a .csv file with those columns (labels separated by ';').
    Class names are the sorted label names; the task is multi-class when every clip has exactly
    one label, multi-label otherwise."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingResourceError(f"manifest {path} does not exist")
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    elif path.suffix == ".csv":
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            row["labels"] = [x.strip() for x in (row.get("labels") or "").split(";") if x.strip()]
    else:
        raise BenchError(f"manifest {path}: expected a .jsonl or .csv file")
    for number, row in enumerate(rows, start=1):
        missing = [k for k in ("clip_id", "split", "labels") if k not in row]
        if missing:
            raise BenchError(f"manifest {path}, row {number}: no {', '.join(missing)}")
        if isinstance(row["labels"], str):
            row["labels"] = [row["labels"]]
    class_names = tuple(sorted({label for row in rows for label in row["labels"]}))
    index = {label: i for i, label in enumerate(class_names)}
    clips = [
        Clip(
            clip_id=str(row["clip_id"]),
            split=str(row["split"]),
            labels=tuple(sorted(index[label] for label in row["labels"])),
            fold=-1 if row.get("fold") in (None, "") else int(row["fold"]),
        )
        for row in rows
    ]
    single = all(len(clip.labels) == 1 for clip in clips)
    kind = TaskKind.MULTICLASS if single else TaskKind.MULTILABEL
    return Dataset(DatasetInfo(name=name or path.stem, kind=kind, class_names=class_names), clips)


def _labels(
    dataset: str | DatasetConfig | None,
    data_root: str | Path | None,
    manifest: str | Path | None,
    name: str | None,
) -> Dataset:
    if dataset is not None and manifest is not None:
        raise BenchError("labels and splits come from a dataset or a manifest, not both")
    if manifest is not None:
        return read_label_manifest(manifest, name)
    if dataset is None:
        raise BenchError("give the dataset (--dataset) or a manifest (--manifest) with the labels")
    return open_dataset(dataset, data_root)


def _grid(
    shapes: dict[str, tuple[int, ...]], layout: TokenLayout, data: Dataset, source: Path
) -> tuple[int, int, int]:
    """(layers, freq tokens, dim) shared by every clip of the source; raises on any mismatch."""
    known = {clip.clip_id for clip in data.clips}
    unknown = [clip_id for clip_id in shapes if clip_id not in known]
    if unknown:
        raise BenchError(
            f"{len(unknown)} clip ids of {source} are not in dataset '{data.info.name}' "
            f"(e.g. {', '.join(unknown[:5])}); check the dataset, or the file naming"
        )
    if not shapes:
        raise BenchError(f"{source} holds no token maps")
    grids = {}
    for clip_id, shape in shapes.items():
        try:
            layers, steps, freq, dim = layout.to_ltfd(shape)
        except ValueError as error:
            raise BenchError(f"clip {clip_id}: {error} (see --layout)") from None
        if steps < 1:
            raise BenchError(f"clip {clip_id}: token map {shape} has no time steps")
        grids.setdefault((layers, freq, dim), (clip_id, shape))
        if len(grids) > 1:
            (first, first_shape), _ = grids.values()
            raise BenchError(
                f"clip {clip_id}: token map {shape} does not match clip {first}'s {first_shape} "
                f"(layout {layout.value}: only the time axis may differ between clips)"
            )
    (grid,) = grids
    return grid


def import_tokens(
    source: str | Path,
    backbone: str,
    layout: TokenLayout,
    *,
    dataset: str | DatasetConfig | None = None,
    data_root: str | Path | None = None,
    manifest: str | Path | None = None,
    name: str | None = None,
    key: str | None = None,
    id_column: str = "clip_id",
    store: TokenStore | None = None,
    dtype: TokenDType = TokenDType.FP16,
) -> ImportSummary:
    """Register the token maps at `source` as the embedding set of (dataset, `backbone`).

    Labels come from `dataset` (a config name or object, read with `data_root`) or `manifest`
    (named `name`, default: the file's stem). A clip id that the labels do not know is an error;
    a labelled clip without a token map is reported in the summary and the failures table.
    """
    started = time.perf_counter()
    data = _labels(dataset, data_root, manifest, name)
    tokens = open_source(source, key, id_column)
    shapes = tokens.shapes()
    layers, freq, dim = _grid(shapes, layout, data, tokens.path)
    identity = {
        "format": IMPORT_FORMAT_VERSION,
        "imported": {
            "path": str(tokens.path),
            "kind": tokens.kind,
            "key": tokens.key,
            "sha256": tokens.content_sha256(),
        },
        "dataset": data.info.name,
        "manifest_sha256": data.fingerprint(),
        "backbone": backbone,
        "layout": layout.value,
        "dtype": str(dtype),
    }
    info = SetInfo(
        dataset=data.info.name,
        backbone=backbone,
        task_kind=str(data.info.kind),
        class_names=data.info.class_names,
        embed_dim=dim,
        freq_tokens=freq,
        layers=tuple(range(layers)),
        dtype=dtype,
        has_cls=False,
    )
    store = store or TokenStore()
    embedding_set = store.create_or_open_set(identity, info)
    stored = embedding_set.existing_ids()
    summary = ImportSummary(
        embedding_set=embedding_set.name,
        source_clips=len(shapes),
        written=0,
        already_stored=len(stored & shapes.keys()),
        missing=[clip.clip_id for clip in data.clips if clip.clip_id not in shapes],
    )
    todo = {clip.clip_id: clip for clip in data.clips if clip.clip_id in shapes.keys() - stored}
    _write(tokens, todo, layout, embedding_set, summary)
    logged = {row["clip_id"] for row in store.failures(embedding_set.name)}
    store.record_failures(
        embedding_set.name,
        [f for f in summary.failures if f["clip_id"] not in logged]
        + [
            {
                "clip_id": clip_id,
                "stage": "import",
                "reason": f"no token map in {tokens.path}",
                "created_at": time.time(),
            }
            for clip_id in summary.missing
            if clip_id not in logged
        ],
    )
    summary.seconds = time.perf_counter() - started
    return summary


def _value_problem(tokens: np.ndarray, fp16: bool) -> str:
    """Why these values cannot be stored as they are ("" if they can)."""
    if not np.isfinite(tokens).all():
        return "token map holds NaN or infinite values"
    if fp16 and np.abs(tokens).max() > FP16_MAX:
        return "values exceed the fp16 range; import with --dtype fp32"
    return ""


def _write(
    source: TokenSource,
    todo: dict[str, Clip],
    layout: TokenLayout,
    embedding_set: EmbeddingSet,
    summary: ImportSummary,
) -> None:
    fp16 = embedding_set.info.dtype is TokenDType.FP16
    buffer: list[ClipTokens] = []
    for clip_id, array in source.read(todo.keys()):
        tokens = array.astype(np.float32, copy=False).reshape(layout.to_ltfd(array.shape))
        problem = _value_problem(tokens, fp16)
        if problem:
            summary.failures.append(
                {
                    "clip_id": clip_id,
                    "stage": "import",
                    "reason": problem,
                    "created_at": time.time(),
                }
            )
            continue
        clip = todo[clip_id]
        buffer.append(
            ClipTokens(
                clip_id=clip_id,
                split=clip.split,
                labels=clip.labels,
                tokens=tokens,
                cls=tokens.mean(axis=(1, 2)),
                fold=clip.fold,
                duration=clip.duration or 0.0,
            )
        )
        if len(buffer) >= WRITE_EVERY:
            summary.written += embedding_set.append(buffer)
            buffer.clear()
    summary.written += embedding_set.append(buffer)
