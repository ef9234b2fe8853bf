"""Audio side of bench: datasets from their official layouts, decoding, synthetic data."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench_audio.config import DatasetConfig, load_dataset_config
from bench_audio.decode import AudioDecodeError, decode_clip
from bench_audio.readers import get_reader, list_readers, register_reader
from bench_audio.types import (
    Clip,
    ClipProblem,
    Dataset,
    DatasetInfo,
    LabelIndex,
    Mix,
    TaskKind,
    UnknownLabelError,
    multi_hot,
)


def open_dataset(
    dataset: str | DatasetConfig,
    data_root: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
) -> Dataset:
    """Read a dataset by config name (configs/datasets/<name>.yaml) or config object.

    `options` override the config's reader options for this call, e.g. another held-out fold:
    `open_dataset("esc50", options={"test_fold": 2})`.
    """
    config = load_dataset_config(dataset) if isinstance(dataset, str) else dataset
    if options:
        config = config.model_copy(update={"options": {**config.options, **options}})
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
    "LabelIndex",
    "Mix",
    "TaskKind",
    "UnknownLabelError",
    "decode_clip",
    "get_reader",
    "list_readers",
    "load_dataset_config",
    "multi_hot",
    "open_dataset",
    "register_reader",
]
