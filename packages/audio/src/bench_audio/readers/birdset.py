"""BirdSet (hsn, pow, per, nes, sne, uhh, nbp) from the DBD-research-group/BirdSet release tables.

Layout: the Parquet/Arrow tables of one subset in `<root>/<SUBSET>/` (or in a root whose name holds
the subset code, e.g. `.../HSN`): the Hub's
Parquet files (`train/0000.parquet`, `test_5s/0000.parquet`), `save_to_disk` folders
(`train/data-00000-of-00007.arrow`), the `datasets` cache (`bird_set-train-00000-of-00007.arrow`),
or the release's own metadata tables (`HSN_metadata_train.parquet`, `HSN_metadata_test_5s.parquet`)
beside the extracted audio shards. Audio is embedded (`audio.bytes`) or a file found by `audio.path`
/ `filepath` (see `bench_audio.tables.row_audio`). Columns used: train `ebird_code` (primary
class), `ebird_code_multilabel` (labels; `[ebird_code]` when empty), `detected_events` and
`event_cluster`; test_5s `ebird_code_multilabel`. Class names are the `ClassLabel` names of
`ebird_code` (or the `classes` option, or the sorted eBird codes when the labels are strings).

Protocol (see `bench_audio.fewshot`): train = `shots` (64) 5 s event windows per class from the
focal recordings, drawn with a fixed seed, `valid_fraction` of them held out for validation;
optionally `mixup_variants` (the paper: 5) mixup-augmented copies of the training windows with
p = `mixup_p` (0.9). Test = the test_5s soundscape segments with their multi-labels (zero labels
allowed). Clip length 5 s. `test_clips` is the paper's test-set size: a different count is logged.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import Field

from bench_audio.config import DatasetConfig
from bench_audio.fewshot import EventWindow, event_starts, hold_out, mixup_variants, select_shots
from bench_audio.readers.common import ClipCollector, parse_options
from bench_audio.readers.hf import split_table_files
from bench_audio.readers.registry import register_reader
from bench_audio.table_labels import class_index, column_values, label_rows
from bench_audio.tables import AudioTable, row_audio
from bench_audio.types import Clip, Dataset, DatasetInfo, LabelIndex, TaskKind
from bench_core import Config, MissingResourceError

log = logging.getLogger(__name__)


class BirdSetOptions(Config):
    subset: str
    train_split: str = "train"
    test_split: str = "test_5s"
    classes: list[str] | None = None
    shots: int = Field(default=64, ge=1)
    seed: int = 0
    event_limit: int = Field(default=5, ge=1)
    valid_fraction: float = Field(default=0.2, ge=0.0, lt=1.0)
    window_seconds: float = Field(default=5.0, gt=0)
    mixup_variants: int = Field(default=0, ge=0)
    mixup_p: float = Field(default=0.9, ge=0.0, le=1.0)
    mixup_weight: tuple[float, float] = (0.2, 0.5)
    test_clips: int | None = None


def train_windows(
    table: AudioTable, root: Path, classes: LabelIndex, options: BirdSetOptions, out: ClipCollector
) -> list[EventWindow]:
    """Every candidate event window of one train table (rows without a usable class rejected)."""
    columns = set(table.columns)
    primary = label_rows(table, "ebird_code", classes)
    multi = (
        label_rows(table, "ebird_code_multilabel", classes)
        if "ebird_code_multilabel" in columns
        else [()] * table.num_rows
    )
    events = column_values(table, "detected_events") if "detected_events" in columns else None
    clusters = column_values(table, "event_cluster") if "event_cluster" in columns else None
    windows = []
    for row, audio in enumerate(row_audio(table, root)):
        recording = Path(audio.name).stem if audio.name else f"{table.path.stem}-{row}"
        codes, labels = primary[row], multi[row]
        if isinstance(codes, str) or len(codes) != 1:
            out.reject(recording, codes if isinstance(codes, str) else "no primary ebird_code")
            continue
        if isinstance(labels, str):
            out.reject(recording, labels)
            continue
        if audio.path is None:
            out.reject(recording, f"no audio bytes and no file {audio.name} under {root}")
            continue
        starts = event_starts(
            events[row] if events else None,
            clusters[row] if clusters else None,
            options.window_seconds,
        )
        for start in starts:
            clip = Clip(
                f"{recording}@{start:.3f}",
                "train",
                tuple(sorted(set(labels) | set(codes))),
                path=audio.path,
                row=audio.row,
                start=start,
                duration=options.window_seconds,
            )
            windows.append(EventWindow(clip, recording, codes[0]))
    return windows


def subset_folder(root: Path, subset: str) -> Path:
    """`<root>/<SUBSET>`, or the root itself when its name says it is that subset (a folder
    passed with --data-root such as `.../HSN` or `HSN_processed_...`)."""
    if (root / subset).is_dir():
        return root / subset
    if subset.lower() in root.name.lower():
        return root
    raise MissingResourceError(f"no {subset}/ folder (the {subset} tables) in BirdSet root {root}")


@register_reader("birdset", kind=TaskKind.MULTILABEL)
def read_birdset(config: DatasetConfig, root: Path | None) -> Dataset:
    assert root is not None
    options = parse_options(config, BirdSetOptions)
    folder = subset_folder(root, options.subset)
    tables = split_table_files(folder, {"train": options.train_split, "test": options.test_split})
    sources = [(t, "ebird_code") for t in tables["train"]]
    classes = class_index(
        sources + [(t, "ebird_code_multilabel") for t in tables["test"]], options.classes
    )
    out = ClipCollector()
    windows = [w for t in tables["train"] for w in train_windows(t, folder, classes, options, out)]
    chosen = select_shots(windows, options.shots, options.seed, options.event_limit)
    train = hold_out(chosen, options.valid_fraction, options.seed)
    augmented = mixup_variants(
        [c for c in train if c.split == "train"],
        options.mixup_variants,
        options.mixup_p,
        options.mixup_weight,
        options.seed,
    )
    for clip in train + augmented:
        out.add(clip)
    n_test = 0
    for table in tables["test"]:
        labels = label_rows(table, "ebird_code_multilabel", classes)
        for row, audio in enumerate(row_audio(table, folder)):
            n_test += 1
            clip_id = Path(audio.name).stem if audio.name else f"{table.path.stem}-{row}"
            if isinstance(labels[row], str):
                out.reject(clip_id, str(labels[row]))
            elif audio.path is None:
                out.reject(clip_id, f"no audio bytes and no file {audio.name} under {folder}")
            else:
                out.add(Clip(clip_id, "test", tuple(labels[row]), path=audio.path, row=audio.row))
    if options.test_clips is not None and n_test != options.test_clips:
        log.warning(
            "%s: %d test segments in %s, the paper's protocol has %d",
            config.name,
            n_test,
            folder,
            options.test_clips,
        )
    info = DatasetInfo(
        name=config.name,
        kind=TaskKind.MULTILABEL,
        class_names=classes.names,
        sample_rate=32000,
        clip_seconds=config.clip_seconds,
    )
    return out.dataset(info)
