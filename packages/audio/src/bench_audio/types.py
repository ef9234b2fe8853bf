"""The dataset interface every reader returns: clips with labels and splits, plus task metadata."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class TaskKind(StrEnum):
    MULTILABEL = "multilabel"
    MULTICLASS = "multiclass"

    @property
    def metric(self) -> str:
        """The paper's headline metric for this kind of task."""
        return "map" if self is TaskKind.MULTILABEL else "accuracy"


@dataclass(frozen=True)
class Clip:
    """One audio example. Audio comes from `path` or, for Parquet/Arrow datasets, encoded `data`.

    `start`/`duration` (seconds) select a segment of a longer file; `duration=None` reads to the end.
    `labels` are class indices: exactly one for multi-class tasks, zero or more for multi-label.
    """

    clip_id: str
    split: str
    labels: tuple[int, ...]
    path: str | None = None
    data: bytes | None = field(default=None, repr=False)
    fold: int = -1
    start: float = 0.0
    duration: float | None = None


@dataclass(frozen=True)
class ClipProblem:
    """A clip that cannot be used, and why; reported per clip, never fatal for the dataset."""

    clip_id: str
    stage: str
    reason: str


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    kind: TaskKind
    class_names: tuple[str, ...]
    sample_rate: int | None = None
    clip_seconds: float | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


@dataclass
class Dataset:
    """A dataset as read from disk: metadata, usable clips, and the clips that were rejected."""

    info: DatasetInfo
    clips: list[Clip]
    problems: list[ClipProblem] = field(default_factory=list)

    def split(self, name: str) -> list[Clip]:
        return [clip for clip in self.clips if clip.split == name]

    @property
    def splits(self) -> list[str]:
        return sorted({clip.split for clip in self.clips})

    def fingerprint(self) -> str:
        """Hash of the manifest (ids, sources, segments, labels, splits): part of the cache identity."""
        digest = hashlib.sha256()
        digest.update(json.dumps([self.info.name, self.info.kind, self.info.class_names]).encode())
        for clip in sorted(self.clips, key=lambda c: c.clip_id):
            source = clip.path or hashlib.sha256(clip.data or b"").hexdigest()
            row = [
                clip.clip_id,
                clip.split,
                clip.fold,
                list(clip.labels),
                source,
                clip.start,
                clip.duration,
            ]
            digest.update(json.dumps(row).encode())
        return digest.hexdigest()


def multi_hot(labels: Iterable[int], num_classes: int) -> list[int]:
    row = [0] * num_classes
    for label in labels:
        row[label] = 1
    return row


def label_indices(names: Sequence[str], class_names: Sequence[str]) -> tuple[int, ...]:
    """Map label names to indices; raises KeyError naming the first unknown label."""
    index = {name: i for i, name in enumerate(class_names)}
    return tuple(sorted(index[name] for name in names))
