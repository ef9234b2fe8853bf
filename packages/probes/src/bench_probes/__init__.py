"""Probes over frozen token maps: pooling heads, losses, metrics, trainer and Ray Tune search."""

from bench_probes.config import (
    PoolingConfig,
    SearchConfig,
    list_poolings,
    load_pooling_config,
    load_search_config,
)
from bench_probes.data import ProbeData, SplitArrays
from bench_probes.heads import HEADS, PoolingHead, build_head
from bench_probes.metrics import evaluate, macro_map
from bench_probes.search import TuneOutcome, tune_pooling
from bench_probes.trainer import TrainResult, TrainSettings, train_probe

__all__ = [
    "HEADS",
    "PoolingConfig",
    "PoolingHead",
    "ProbeData",
    "SearchConfig",
    "SplitArrays",
    "TrainResult",
    "TrainSettings",
    "TuneOutcome",
    "build_head",
    "evaluate",
    "list_poolings",
    "load_pooling_config",
    "load_search_config",
    "macro_map",
    "train_probe",
    "tune_pooling",
]
