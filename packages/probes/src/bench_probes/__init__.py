"""Probes over frozen token maps: pooling heads, losses, metrics, trainer and Ray Tune search.

The names below load on first use: a trial process imports `bench_probes.trial` and with it only
the trainer (torch, scikit-learn), not the search's LanceDB and Optuna (a second of start-up per
trial process, which short searches pay in full).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from bench_probes.trainer import (
        ProbeSpec,
        TrainResult,
        TrainSettings,
        train_probe,
        train_probes,
    )

_EXPORTS = {
    "config": [
        "PoolingConfig",
        "SearchConfig",
        "list_poolings",
        "load_pooling_config",
        "load_search_config",
    ],
    "data": ["Batch", "ProbeData", "SplitArrays", "StoreSplit"],
    "heads": ["HEADS", "PoolingHead", "build_head"],
    "metrics": ["evaluate", "macro_map"],
    "monitor": ["SearchProgress", "TrialView"],
    "search": ["SearchInterrupted", "TuneOutcome", "stored_outcome", "tune_pooling"],
    "shared": ["SharedTokens"],
    "trainer": ["ProbeSpec", "TrainResult", "TrainSettings", "train_probe", "train_probes"],
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

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


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'bench_probes' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"bench_probes.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
