"""URBAN-SED (v2.0.0) soundscapes with clip-level multi-labels from their strong annotations.

Layout: `audio/{train,validate,test}/<name>.wav` and `annotations/{train,validate,test}/<name>.txt`
(tab-separated `onset offset label` per event; the `.jams` files beside them carry the same events).
A clip's labels are the set of classes with at least one event in it (a soundscape may have none).

Protocol: the official split: train (6000), validate -> valid (2000, model selection), test (2000).
Clip length 10 s (every soundscape is 10 s).
"""

from __future__ import annotations

from pathlib import Path

from bench_audio.config import DatasetConfig
from bench_audio.files import list_audio
from bench_audio.readers.common import ClipCollector, require
from bench_audio.readers.registry import register_reader
from bench_audio.types import Clip, Dataset, DatasetInfo, LabelIndex, TaskKind, UnknownLabelError

CLASSES = (
    "air_conditioner",
    "car_horn",
    "children_playing",
    "dog_bark",
    "drilling",
    "engine_idling",
    "gun_shot",
    "jackhammer",
    "siren",
    "street_music",
)
"""The UrbanSound8K taxonomy URBAN-SED is built from, in its class-id order."""
SPLITS = {"train": "train", "validate": "valid", "test": "test"}


def event_labels(annotation: Path) -> list[str]:
    """Labels of the events in one annotation file (blank lines ignored)."""
    return [
        line.split("\t")[2].strip() for line in annotation.read_text().splitlines() if line.strip()
    ]


@register_reader("urbansed", kind=TaskKind.MULTILABEL)
def read_urbansed(config: DatasetConfig, root: Path | None) -> Dataset:
    assert root is not None
    classes = LabelIndex(CLASSES)
    out = ClipCollector()
    for folder, split in SPLITS.items():
        audio = list_audio(require(root / "audio" / folder, "URBAN-SED audio/<split>/"), False)
        notes = root / "annotations" / folder
        annotated = {
            p.stem: p for p in require(notes, "URBAN-SED annotations/<split>/").glob("*.txt")
        }
        for stem in sorted({Path(name).stem for name in audio} | set(annotated)):
            path, annotation = audio.get(f"{stem}.wav"), annotated.get(stem)
            if path is None:
                out.reject(stem, f"missing file {root / 'audio' / folder / (stem + '.wav')}")
                continue
            if annotation is None:
                out.reject(stem, f"no annotation {notes / (stem + '.txt')}")
                continue
            try:
                labels = classes(event_labels(annotation))
            except UnknownLabelError as error:
                out.reject(stem, f"{error} in {annotation}")
                continue
            except IndexError:
                out.reject(stem, f"{annotation} is not 'onset<TAB>offset<TAB>label' per line")
                continue
            out.add(Clip(stem, split, labels, path=path))
    info = DatasetInfo(
        name=config.name,
        kind=TaskKind.MULTILABEL,
        class_names=CLASSES,
        sample_rate=44100,
        clip_seconds=config.clip_seconds,
    )
    return out.dataset(info)
