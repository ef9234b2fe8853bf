"""The built-in synthetic datasets: generated on first use, then read like any manifest dataset."""

from __future__ import annotations

import json
from pathlib import Path

from bench_audio.config import DatasetConfig
from bench_audio.readers.registry import register_reader
from bench_audio.synthetic import CLASS_NAMES, MANIFEST, SyntheticSpec, write_dataset
from bench_audio.types import Clip, Dataset, DatasetInfo, TaskKind, label_indices
from bench_core import bench_home


def spec_from_config(config: DatasetConfig) -> SyntheticSpec:
    options = dict(config.options)
    if config.clip_seconds is not None:
        options.setdefault("clip_seconds", config.clip_seconds)
    try:
        options["kind"] = TaskKind(options.get("kind", TaskKind.MULTILABEL))
        return SyntheticSpec(**options)
    except (TypeError, ValueError) as error:
        from bench_core import ConfigError

        raise ConfigError(f"dataset '{config.name}': invalid synthetic options: {error}") from None


def default_root(config: DatasetConfig, spec: SyntheticSpec) -> Path:
    return bench_home() / "data" / f"{config.name}-n{spec.n_clips}-s{spec.seed}"


@register_reader("synthetic", needs_root=False)
def read_synthetic(config: DatasetConfig, root: Path | None) -> Dataset:
    spec = spec_from_config(config)
    folder = write_dataset(spec, root or default_root(config, spec))
    clips = []
    for line in (folder / MANIFEST).read_text().splitlines():
        row = json.loads(line)
        clips.append(
            Clip(
                clip_id=row["clip_id"],
                split=row["split"],
                labels=label_indices(row["labels"], CLASS_NAMES),
                path=str(folder / row["path"]),
            )
        )
    info = DatasetInfo(
        name=config.name,
        kind=spec.kind,
        class_names=CLASS_NAMES,
        sample_rate=spec.sample_rate,
        clip_seconds=spec.clip_seconds,
    )
    return Dataset(info=info, clips=clips)
