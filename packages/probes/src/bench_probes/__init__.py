"""Probes over frozen token maps: pooling heads, losses, metrics, trainer and Ray Tune search."""

from bench_probes.config import (
    PoolingConfig,
    SearchConfig,
    list_poolings,
    load_pooling_config,
    load_search_config,
)
from bench_probes.data import Batch, ProbeData, SplitArrays, StoreSplit
from bench_probes.heads import HEADS, PoolingHead, build_head
from bench_probes.metrics import evaluate, macro_map
from bench_probes.monitor import SearchProgress, TrialView
from bench_probes.search import SearchInterrupted, TuneOutcome, stored_outcome, tune_pooling
from bench_probes.shared import SharedTokens
from bench_probes.trainer import ProbeSpec, TrainResult, TrainSettings, train_probe, train_probes

__all__ = [
    "HEADS",
    "Batch",
    "PoolingConfig",
    "PoolingHead",
    "ProbeData",
    "ProbeSpec",
    "SearchConfig",
    "SearchInterrupted",
    "SearchProgress",
    "SharedTokens",
    "SplitArrays",
    "StoreSplit",
    "TrainResult",
    "TrainSettings",
    "TrialView",
    "TuneOutcome",
    "build_head",
    "evaluate",
    "list_poolings",
    "load_pooling_config",
    "load_search_config",
    "macro_map",
    "stored_outcome",
    "train_probe",
    "train_probes",
    "tune_pooling",
]
