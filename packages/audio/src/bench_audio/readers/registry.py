"""Reader registry: a dataset config names its reader; the reader turns a root folder into clips."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench_audio.config import DatasetConfig
from bench_audio.types import Dataset
from bench_core import ConfigError

ReadFn = Callable[[DatasetConfig, Path | None], Dataset]


@dataclass(frozen=True)
class ReaderSpec:
    name: str
    read: ReadFn
    needs_root: bool
    """False for readers that build their data themselves (the synthetic generator)."""


_READERS: dict[str, ReaderSpec] = {}


def register_reader(name: str, *, needs_root: bool = True) -> Callable[[ReadFn], ReadFn]:
    def decorate(fn: ReadFn) -> ReadFn:
        if name in _READERS:
            raise ValueError(f"reader '{name}' registered twice")
        _READERS[name] = ReaderSpec(name, fn, needs_root)
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
