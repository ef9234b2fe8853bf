"""FSD50K from the Zenodo release: FSD50K.dev_audio/, FSD50K.eval_audio/, FSD50K.ground_truth/.

Ground truth: `vocabulary.csv` (no header: `index,label,mid`, the 200 classes in index order),
`dev.csv` (`fname,labels,mids,split`, labels a quoted comma-separated list, split `train`/`val`)
and `eval.csv` (`fname,labels,mids`); clip `<fname>` is `<fname>.wav` in the matching audio folder.

Protocol: the official split: dev `train` -> train, dev `val` -> valid (model selection), eval ->
test. Clips are 0.3-30 s long and labelled as a whole, so they are not cropped (`clip_seconds`
unset): the encoders split inputs longer than their window into chunks, and a crop could cut out
the labelled event.
"""

from __future__ import annotations

import csv
from pathlib import Path

from bench_audio.config import DatasetConfig
from bench_audio.files import list_audio
from bench_audio.readers.common import ClipCollector, require
from bench_audio.readers.registry import register_reader
from bench_audio.types import Clip, Dataset, DatasetInfo, LabelIndex, TaskKind, UnknownLabelError

GROUND_TRUTH = "FSD50K.ground_truth"
SPLITS = {"train": "train", "val": "valid"}


@register_reader("fsd50k", kind=TaskKind.MULTILABEL)
def read_fsd50k(config: DatasetConfig, root: Path | None) -> Dataset:
    assert root is not None
    truth = require(root / GROUND_TRUTH, f"FSD50K root {root} must hold {GROUND_TRUTH}/")
    with require(truth / "vocabulary.csv", "FSD50K vocabulary").open(newline="") as handle:
        vocabulary = sorted(csv.reader(handle), key=lambda row: int(row[0]))
    classes = LabelIndex(row[1] for row in vocabulary)
    out = ClipCollector()
    for part in ("dev", "eval"):
        folder = root / f"FSD50K.{part}_audio"
        files = list_audio(folder, recursive=False)
        with require(truth / f"{part}.csv", "FSD50K ground truth").open(newline="") as handle:
            for row in csv.DictReader(handle):
                clip_id = row["fname"]
                path = files.get(f"{clip_id}.wav")
                if path is None:
                    out.reject(clip_id, f"missing file {folder / (clip_id + '.wav')}")
                    continue
                try:
                    labels = classes(row["labels"].split(","))
                except UnknownLabelError as error:
                    out.reject(clip_id, f"{error} (not in vocabulary.csv)")
                    continue
                split = SPLITS.get(row["split"]) if part == "dev" else "test"
                if split is None:
                    out.reject(clip_id, f"unknown split {row['split']!r} in dev.csv")
                    continue
                out.add(Clip(clip_id, split, labels, path=path))
    info = DatasetInfo(
        name=config.name,
        kind=TaskKind.MULTILABEL,
        class_names=classes.names,
        sample_rate=44100,
        clip_seconds=config.clip_seconds,
    )
    return out.dataset(info)
