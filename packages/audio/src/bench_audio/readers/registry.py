"""Reader registry: a dataset config names its reader; the reader turns a root folder into clips."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench_audio.config import DatasetConfig
from bench_audio.types import Dataset, TaskKind
from bench_core import ConfigError

ReadFn = Callable[[DatasetConfig, Path | None], Dataset]


@dataclass(frozen=True)
class ReaderSpec:
    name: str
    read: ReadFn
    needs_root: bool
    """False for readers that build their data themselves (the synthetic generator)."""
    kind: TaskKind | None
    """The task kind of every dataset this reader returns; None when the config's `kind` option
    decides (manifest, Hugging Face tables, synthetic). Lets `bench ls` show it without reading."""


_READERS: dict[str, ReaderSpec] = {}


def register_reader(
    name: str, *, needs_root: bool = True, kind: TaskKind | None = None
) -> Callable[[ReadFn], ReadFn]:
    def decorate(fn: ReadFn) -> ReadFn:
        if name in _READERS:
            raise ValueError(f"reader '{name}' registered twice")
        _READERS[name] = ReaderSpec(name, fn, needs_root, kind)
        return fn

    return decorate


def get_reader(name: str) -> ReaderSpec:
    try:
        return _READERS[name]
    except KeyError:
        raise ConfigError(
            f"unknown reader '{name}'; known: {', '.join(sorted(_READERS))}"
        ) from None


def list_readers() -> list[str]:
    return sorted(_READERS)
