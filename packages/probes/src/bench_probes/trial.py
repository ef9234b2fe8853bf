"""What runs inside a trial process of the search: the Tune trainable and the final runs.

Kept apart from `search.py` so that a trial process imports the trainer (torch) and nothing the driver needs (LanceDB, Optuna, the monitor): every search starts its trial
processes afresh, and their imports are most of a short search's overhead.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench_probes.config import PoolingConfig, SearchConfig
from bench_probes.data import ProbeData
from bench_probes.shared import TokenHandle
from bench_probes.trainer import TrainSettings, train_probe

CPUS_PER_TRIAL = 1


def report_epochs(search: SearchConfig) -> frozenset[int]:
    """Epochs after which a trial reports: ASHA's rungs (computed as ASHAScheduler does, so a
    rung is never missed) and the last epoch."""
    rungs = int(np.log(search.epochs / search.grace_epochs) / np.log(search.reduction_factor) + 1)
    milestones = (search.grace_epochs * search.reduction_factor**k for k in range(rungs))
    return frozenset({math.ceil(m) for m in milestones} | {search.epochs})


def train_settings(
    search: SearchConfig, lr: float, weight_decay: float, seed: int
) -> TrainSettings:
    return TrainSettings(
        lr=lr,
        weight_decay=weight_decay,
        epochs=search.epochs,
        batch_size=search.batch_size,
        seed=seed,
    )


def _trial(
    config: dict[str, Any], data: ProbeData, pooling: PoolingConfig, search: SearchConfig
) -> None:
    """One trial: train on train, score on valid (test is never touched while searching), report
    the best validation metrics so far and the pure training time (report waits excluded)."""
    import torch
    import torch._dynamo  # see below
    from ray import tune

    # torch.optim imports torch._dynamo at a process's first optimizer step (about a second:
    # sympy and 800 modules); imported before the clock starts, it counts as the trial process's
    # start-up, which it is, and not as the first trial's training.
    torch.set_num_threads(CPUS_PER_TRIAL)
    milestones = report_epochs(search)
    best: dict[str, float] = {}
    clock = {"trained": 0.0, "since": time.perf_counter()}

    def on_epoch(epoch: int, valid: dict[str, float]) -> None:
        clock["trained"] += time.perf_counter() - clock["since"]
        if not best or valid["score"] > best["score"]:
            best.clear()
            best.update(valid)
        if epoch + 1 in milestones:
            tune.report(
                {
                    **{f"valid_{k}": v for k, v in best.items()},
                    "epoch": epoch + 1,
                    "train_seconds": clock["trained"],
                }
            )
        clock["since"] = time.perf_counter()

    settings = train_settings(search, config["lr"], config["weight_decay"], config["seed"])
    train_probe(
        dataclasses.replace(data, test=None),
        pooling.head,
        pooling.params,
        settings,
        on_epoch=on_epoch,
    )


def trainable(
    tokens: TokenHandle, pooling: PoolingConfig, search: SearchConfig
) -> Callable[[dict[str, Any]], None]:
    """The Tune trainable: it captures only the small token handle (not the arrays), so Tune's
    pickled copies of it stay small and the data keeps a single owner."""

    def trial(config: dict[str, Any]) -> None:
        _trial(config, tokens.load(), pooling, search)

    return trial


def final_run(
    tokens: TokenHandle, pooling: PoolingConfig, settings: TrainSettings
) -> tuple[dict[str, float], dict[str, float] | None, int, float]:
    import torch

    torch.set_num_threads(CPUS_PER_TRIAL)
    result = train_probe(tokens.load(), pooling.head, pooling.params, settings)
    return result.valid, result.test, result.epochs_run, result.seconds
