"""The dataset interface every reader returns: clips with labels and splits, plus task metadata."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class TaskKind(StrEnum):
    MULTILABEL = "multilabel"
    MULTICLASS = "multiclass"

    @property
    def metric(self) -> str:
        """The paper's headline metric for this kind of task."""
        return "map" if self is TaskKind.MULTILABEL else "accuracy"


@dataclass(frozen=True, slots=True)
class Clip:
    """One audio example: where its audio is, which segment of it, its labels and split.

    Audio comes from `path` (an audio file), from encoded bytes in `data`, or, when `row >= 0`, from
    row `row` of the `audio` column of the Parquet/Arrow table at `path` (read only when decoded, so
    a dataset of embedded audio never sits in memory). `start`/`duration` (seconds) select a segment;
    `duration=None` reads to the end. `mix` lists other clips summed into this one (waveform mixup):
    each part is weighted by its `weight`, this clip's own audio by 1 - the sum of those weights.
    `labels` are class indices: exactly one for multi-class tasks, zero or more for multi-label.
    Slots keep a few million clips (AudioSet-2M) affordable in memory.
    """

    clip_id: str
    split: str
    labels: tuple[int, ...]
    path: str | None = None
    data: bytes | None = field(default=None, repr=False)
    fold: int = -1
    start: float = 0.0
    duration: float | None = None
    row: int = -1
    mix: tuple[Mix, ...] = ()

    def source(self) -> dict[str, Any]:
        """Where the audio comes from, as plain values (no bytes): for records and fingerprints."""
        return {
            "path": self.path or "",
            "row": self.row,
            "start": self.start,
            "duration": -1.0 if self.duration is None else self.duration,
        }

    def to_record(self) -> dict[str, Any]:
        """Flat, Arrow-friendly values (what Ray Data carries between stages); see `from_record`."""
        parts = [{**part.clip.source(), "weight": part.weight} for part in self.mix]
        if any(part.clip.data is not None or part.clip.mix for part in self.mix):
            raise ValueError(f"clip {self.clip_id}: mix parts must be plain file or table sources")
        return {
            "clip_id": self.clip_id,
            "split": self.split,
            "fold": self.fold,
            "labels": list(self.labels),
            "data": self.data or b"",
            "mix": json.dumps(parts) if parts else "",
            **self.source(),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Clip:
        """Rebuild a clip from `to_record` values (numpy scalars and arrays are accepted)."""

        def source(values: Mapping[str, Any]) -> dict[str, Any]:
            duration = float(values["duration"])
            return {
                "path": str(values["path"]) or None,
                "row": int(values["row"]),
                "start": float(values["start"]),
                "duration": None if duration < 0 else duration,
            }

        mix = tuple(
            Mix(
                cls(f"{record['clip_id']}/mix{i}", str(record["split"]), (), **source(part)),
                part["weight"],
            )
            for i, part in enumerate(json.loads(str(record["mix"]) or "[]"))
        )
        return cls(
            clip_id=str(record["clip_id"]),
            split=str(record["split"]),
            labels=tuple(int(x) for x in record["labels"]),
            data=bytes(record["data"]) or None,
            fold=int(record["fold"]),
            mix=mix,
            **source(record),
        )


@dataclass(frozen=True, slots=True)
class Mix:
    """One part of a waveform mixture: another clip's audio, scaled by `weight` (0 < weight < 1)."""

    clip: Clip
    weight: float


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
        """Hash of the manifest (ids, sources, segments, labels, splits): part of the cache identity.

        Table rows and mixtures add their fields only when present, so the fingerprint of a dataset
        of plain files is the same as before those fields existed (stored sets stay valid).
        """
        digest = hashlib.sha256()
        digest.update(json.dumps([self.info.name, self.info.kind, self.info.class_names]).encode())
        for clip in sorted(self.clips, key=lambda c: c.clip_id):
            source = clip.path or hashlib.sha256(clip.data or b"").hexdigest()
            row: list[Any] = [
                clip.clip_id,
                clip.split,
                clip.fold,
                list(clip.labels),
                source,
                clip.start,
                clip.duration,
            ]
            if clip.row >= 0:
                row.append(clip.row)
            if clip.mix:
                row.append([[part.clip.source(), part.weight] for part in clip.mix])
            digest.update(json.dumps(row).encode())
        return digest.hexdigest()


def multi_hot(labels: Iterable[int], num_classes: int) -> list[int]:
    row = [0] * num_classes
    for label in labels:
        row[label] = 1
    return row


class LabelIndex:
    """Class names in label-index order, with a name -> index map built once per dataset."""

    def __init__(self, class_names: Iterable[str]) -> None:
        self.names = tuple(class_names)
        self._index = {name: i for i, name in enumerate(self.names)}
        if len(self._index) != len(self.names):
            raise ValueError("class names must be unique")

    def __call__(self, names: Iterable[str]) -> tuple[int, ...]:
        """Sorted, de-duplicated indices of `names`; raises `UnknownLabelError` naming the first
        name that is not a class."""
        indices = set()
        for name in names:
            try:
                indices.add(self._index[name])
            except KeyError:
                raise UnknownLabelError(name) from None
        return tuple(sorted(indices))


class UnknownLabelError(ValueError):
    """A label that is not in the dataset's class list (reported per clip by the readers)."""

    def __init__(self, label: str) -> None:
        super().__init__(f"unknown label {label!r}")
        self.label = label
