"""The built-in synthetic datasets: generated on first use, then read as a manifest dataset."""

from __future__ import annotations

from pathlib import Path

from bench_audio.config import DatasetConfig
from bench_audio.readers.manifest import manifest_dataset, read_manifest_rows
from bench_audio.readers.registry import register_reader
from bench_audio.synthetic import CLASS_NAMES, MANIFEST, SyntheticSpec, write_dataset
from bench_audio.types import Dataset, TaskKind
from bench_core import ConfigError, bench_home


def spec_from_config(config: DatasetConfig) -> SyntheticSpec:
    options = dict(config.options)
    if config.clip_seconds is not None:
        options.setdefault("clip_seconds", config.clip_seconds)
    try:
        options["kind"] = TaskKind(options.get("kind", TaskKind.MULTILABEL))
        return SyntheticSpec(**options)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"dataset '{config.name}': invalid synthetic options: {error}") from None


def default_root(config: DatasetConfig, spec: SyntheticSpec) -> Path:
    return bench_home() / "data" / f"{config.name}-n{spec.n_clips}-s{spec.seed}"


@register_reader("synthetic", needs_root=False)
def read_synthetic(config: DatasetConfig, root: Path | None) -> Dataset:
    spec = spec_from_config(config)
    folder = write_dataset(spec, root or default_root(config, spec))
    return manifest_dataset(
        config.name,
        read_manifest_rows(folder / MANIFEST),
        folder,
        spec.kind,
        CLASS_NAMES,
        spec.clip_seconds,
        sample_rate=spec.sample_rate,
    )
