"""Audio side of bench: datasets from their official layouts, decoding, synthetic data."""

from __future__ import annotations

from pathlib import Path

from bench_audio.config import DatasetConfig, load_dataset_config
from bench_audio.decode import AudioDecodeError, decode_clip
from bench_audio.readers import get_reader, list_readers, register_reader
from bench_audio.types import Clip, ClipProblem, Dataset, DatasetInfo, TaskKind, multi_hot


def open_dataset(dataset: str | DatasetConfig, data_root: str | Path | None = None) -> Dataset:
    """Read a dataset by config name (configs/datasets/<name>.yaml) or config object."""
    config = load_dataset_config(dataset) if isinstance(dataset, str) else dataset
    reader = get_reader(config.reader)
    root = (
        config.resolve_root(data_root)
        if reader.needs_root
        else (Path(data_root) if data_root else None)
    )
    return reader.read(config, root)


__all__ = [
    "AudioDecodeError",
    "Clip",
    "ClipProblem",
    "Dataset",
    "DatasetConfig",
    "DatasetInfo",
    "TaskKind",
    "decode_clip",
    "get_reader",
    "list_readers",
    "load_dataset_config",
    "multi_hot",
    "open_dataset",
    "register_reader",
]
