"""AudioSet (as20k: balanced train; as2m: balanced + unbalanced train) from the official CSVs.

Layout under the root: the segment lists as Google publishes them (`balanced_train_segments.csv`,
`unbalanced_train_segments.csv`, `eval_segments.csv`: three `#` comment lines, then
`YTID, start_seconds, end_seconds, "mid1,mid2"`), `class_labels_indices.csv`
(`index,mid,display_name`), and the clips themselves anywhere below `audio_dir` (default: the root),
in any sub-folder layout. AudioSet ships no audio, so clip files are matched by YouTube id in the
common naming variants of download tools: `<ytid>.<ext>`, `Y<ytid>.<ext>` (PANNs / AudioSet
downloaders), and `<ytid>_<start>_<end>.<ext>` or `Y<ytid>_<start>_<end>.<ext>` with any number
format for start/end; ext is wav, flac, ogg or mp3. Files are taken to be the 10 s segments
themselves (not full videos). Clips whose file is missing (videos taken down) are reported, not fatal.

Protocol: eval_segments.csv is the test split. The validation split for model selection is a fixed
seeded fraction of the training list (`valid_fraction`, `seed`): each YouTube id draws its own
number, so the split stays the same when files go missing and a clip of as20k lands in the same
split in as2m. Clip length 10 s (the segments' length).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import Field

from bench_audio.config import DatasetConfig
from bench_audio.files import list_audio, stable_fraction
from bench_audio.readers.common import ClipCollector, parse_options, require
from bench_audio.readers.registry import register_reader
from bench_audio.types import Clip, Dataset, DatasetInfo, LabelIndex, TaskKind, UnknownLabelError
from bench_core import Config

YTID_LENGTH = 11


class AudioSetOptions(Config):
    train_csvs: tuple[str, ...] = ("balanced_train_segments.csv",)
    test_csv: str = "eval_segments.csv"
    labels_csv: str = "class_labels_indices.csv"
    audio_dir: str = "."
    valid_fraction: float = Field(default=0.1, ge=0.0, lt=1.0)
    seed: int = 0


def read_segments(path: Path) -> Iterator[tuple[str, str]]:
    """(YouTube id, comma-separated label mids) per line of an official segments CSV (the `#`
    comment lines skipped). The mids stay one string: most of as2m is split only when its file
    is there."""
    with path.open(newline="") as handle:
        for row in csv.reader(handle, skipinitialspace=True):
            if row and not row[0].startswith("#"):
                yield row[0], row[3]


def ytid_candidates(stem: str) -> list[str]:
    """The YouTube ids a file stem may name, in the naming variants listed in the module doc."""
    candidates = []
    if len(stem) == YTID_LENGTH or stem[YTID_LENGTH : YTID_LENGTH + 1] == "_":
        candidates.append(stem[:YTID_LENGTH])
    if stem.startswith("Y") and stem[YTID_LENGTH + 1 : YTID_LENGTH + 2] in ("", "_"):
        candidates.append(stem[1 : YTID_LENGTH + 1])
    return candidates


def index_clips(folder: Path, wanted: set[str]) -> dict[str, str]:
    """Audio file of each wanted YouTube id found under `folder` (one directory walk)."""
    found: dict[str, str] = {}
    for name, path in list_audio(folder).items():
        for ytid in ytid_candidates(os.path.splitext(name)[0]):
            if ytid in wanted and ytid not in found:
                found[ytid] = path
                break
    return found


@register_reader("audioset", kind=TaskKind.MULTILABEL)
def read_audioset(config: DatasetConfig, root: Path | None) -> Dataset:
    assert root is not None
    options = parse_options(config, AudioSetOptions)
    layout = f"AudioSet root {root} must hold the official segment CSVs and {options.labels_csv}"
    with require(root / options.labels_csv, layout).open(newline="") as handle:
        classes = sorted(csv.DictReader(handle), key=lambda r: int(r["index"]))
    mids = LabelIndex(r["mid"] for r in classes)
    lists = [(name, "train") for name in options.train_csvs] + [(options.test_csv, "test")]
    segments = [
        (ytid, labels, split)
        for name, split in lists
        for ytid, labels in read_segments(require(root / name, layout))
    ]
    audio_root = root / options.audio_dir
    files = index_clips(audio_root, {ytid for ytid, _, _ in segments})
    out = ClipCollector()
    for ytid, labels, split in segments:
        path = files.get(ytid)
        if path is None:
            out.reject(ytid, f"no audio file for YouTube id {ytid} under {audio_root}")
            continue
        try:
            indices = mids(mid for mid in labels.split(",") if mid)
        except UnknownLabelError as error:
            out.reject(ytid, f"{error} (not in {options.labels_csv})")
            continue
        if split == "train" and stable_fraction(ytid, options.seed) < options.valid_fraction:
            split = "valid"
        out.add(Clip(ytid, split, indices, path=path))
    info = DatasetInfo(
        name=config.name,
        kind=TaskKind.MULTILABEL,
        class_names=tuple(r["display_name"] for r in classes),
        clip_seconds=config.clip_seconds,
    )
    return out.dataset(info)
