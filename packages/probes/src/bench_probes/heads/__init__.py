"""Pooling heads by name."""

from __future__ import annotations

from typing import Any

from bench_core import ConfigError
from bench_probes.heads.base import PoolingHead
from bench_probes.heads.linear import LinearHead
from bench_probes.heads.protobin import ProtoBinHead

HEADS: dict[str, type[PoolingHead]] = {cls.name: cls for cls in (LinearHead, ProtoBinHead)}


def build_head(
    name: str, dim: int, num_classes: int, freq_tokens: int, **params: Any
) -> PoolingHead:
    try:
        cls = HEADS[name]
    except KeyError:
        raise ConfigError(f"unknown pooling head '{name}'; known: {', '.join(HEADS)}") from None
    try:
        return cls(dim, num_classes, freq_tokens, **params)
    except TypeError as error:
        raise ConfigError(f"pooling head '{name}': {error}") from None


__all__ = ["HEADS", "LinearHead", "PoolingHead", "ProtoBinHead", "build_head"]
