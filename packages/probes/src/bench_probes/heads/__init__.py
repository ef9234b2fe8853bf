"""Pooling heads by name: the paper's eleven, from the global cls probes to the prototype heads."""

from __future__ import annotations

from typing import Any

from bench_core import ConfigError
from bench_probes.heads.abmilp import ABMILPHead
from bench_probes.heads.base import PoolingHead
from bench_probes.heads.conv import ConvHead
from bench_probes.heads.ep import EPHead
from bench_probes.heads.linear import LinearHead
from bench_probes.heads.linearc import LinearCHead
from bench_probes.heads.linpre import LinPreHead
from bench_probes.heads.mhca import MHCAHead
from bench_probes.heads.mlp import MLPHead
from bench_probes.heads.proto import ProtoHead
from bench_probes.heads.protobin import ProtoBinHead
from bench_probes.heads.simpool import SimPoolHead

HEADS: dict[str, type[PoolingHead]] = {
    cls.name: cls
    for cls in (
        LinearHead,
        MLPHead,
        LinearCHead,
        ConvHead,
        LinPreHead,
        MHCAHead,
        EPHead,
        SimPoolHead,
        ABMILPHead,
        ProtoHead,
        ProtoBinHead,
    )
}


def build_head(
    name: str, dim: int, num_classes: int, freq_tokens: int, **params: Any
) -> PoolingHead:
    try:
        cls = HEADS[name]
    except KeyError:
        raise ConfigError(f"unknown pooling head '{name}'; known: {', '.join(HEADS)}") from None
    try:
        return cls(dim, num_classes, freq_tokens, **params)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"pooling head '{name}': {error}") from None


__all__ = [
    "HEADS",
    "ABMILPHead",
    "ConvHead",
    "EPHead",
    "LinPreHead",
    "LinearCHead",
    "LinearHead",
    "MHCAHead",
    "MLPHead",
    "PoolingHead",
    "ProtoBinHead",
    "ProtoHead",
    "SimPoolHead",
    "build_head",
]
