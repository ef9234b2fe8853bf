"""`bench tune`: Ray Tune search over learning rate and weight decay for one pooling, then the best
configuration re-trained over several seeds and evaluated on the test split.

The token arrays are put into the Ray object store once and shared by every trial (numpy arrays in
the object store are read zero-copy), so concurrent trials never hold private copies.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ray.tune import Callback

from bench_core import bench_home, ensure_ray
from bench_probes.config import PoolingConfig, SearchConfig
from bench_probes.data import ProbeData
from bench_probes.metrics import metric_name
from bench_probes.samplers import SobolThenTPESampler
from bench_probes.trainer import TrainSettings, train_probe
from bench_store import EmbeddingSet, RunRecord, TokenStore

TRIAL_METRIC = "valid_score"


@dataclass(frozen=True)
class TuneOutcome:
    pooling: str
    best_hparams: dict[str, Any]
    trials: list[RunRecord]
    finals: list[RunRecord]

    @property
    def test_mean(self) -> float:
        return statistics.fmean(r.test_score for r in self.finals if r.test_score is not None)

    @property
    def test_sd(self) -> float:
        scores = [r.test_score for r in self.finals if r.test_score is not None]
        return statistics.stdev(scores) if len(scores) > 1 else 0.0


def make_run_record(
    kind: str,
    experiment: str,
    embedding_set: EmbeddingSet,
    pooling: PoolingConfig,
    settings: TrainSettings,
    valid: dict[str, float],
    test: dict[str, float] | None,
    epochs: int,
    seconds: float,
) -> RunRecord:
    info = embedding_set.info
    metrics = {f"valid_{k}": v for k, v in valid.items()}
    metrics.update({f"test_{k}": v for k, v in (test or {}).items()})
    return RunRecord(
        experiment=experiment,
        kind=kind,
        dataset=info.dataset,
        backbone=info.backbone,
        pooling=pooling.name,
        embedding_set=embedding_set.name,
        identity_hash=embedding_set.identity_hash,
        hparams={**settings.hparams(), **pooling.params},
        seed=settings.seed,
        metric=metric_name(info.task_kind),
        valid_score=valid["score"],
        test_score=None if test is None else test["score"],
        metrics=metrics,
        epochs=epochs,
        train_seconds=seconds,
    )


def _trial(
    config: dict[str, Any], data: ProbeData, pooling: PoolingConfig, search: SearchConfig
) -> None:
    import torch
    from ray import tune

    torch.set_num_threads(1)
    settings = TrainSettings(
        lr=config["lr"],
        weight_decay=config["weight_decay"],
        epochs=search.epochs,
        batch_size=search.batch_size,
        seed=config["seed"],
    )

    def report(epoch: int, valid: dict[str, float]) -> None:
        tune.report({TRIAL_METRIC: valid["score"], "epoch": epoch + 1})

    train_probe(data, pooling.head, pooling.params, settings, on_epoch=report)


def _final_run(
    data: ProbeData, pooling: PoolingConfig, settings: TrainSettings
) -> tuple[dict[str, float], dict[str, float] | None, int, float]:
    import torch

    torch.set_num_threads(1)
    result = train_probe(data, pooling.head, pooling.params, settings)
    return result.valid, result.test, result.epochs_run, result.seconds


def tune_pooling(
    store: TokenStore,
    embedding_set: EmbeddingSet,
    pooling: PoolingConfig,
    search: SearchConfig,
    *,
    experiment: str = "default",
    seed: int = 0,
    layer: int | None = None,
    storage_dir: Path | None = None,
    address: str | None = None,
    on_trial: Callable[[int, int], None] | None = None,
) -> TuneOutcome:
    """Search, re-train the best configuration over `search.final_seeds` seeds, store every run."""
    import optuna
    import ray
    from optuna.distributions import FloatDistribution
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    ensure_ray(address)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0: no console tables
    data = ProbeData.from_set(embedding_set, layer)
    space = {
        "lr": FloatDistribution(search.lr.low, search.lr.high, log=search.lr.log),
        "weight_decay": FloatDistribution(
            search.weight_decay.low, search.weight_decay.high, log=search.weight_decay.log
        ),
    }
    searcher = OptunaSearch(
        space=space,
        metric=TRIAL_METRIC,
        mode="max",
        sampler=SobolThenTPESampler(min(search.startup_trials, search.trials), seed=seed),
    )
    scheduler = ASHAScheduler(
        time_attr="epoch",
        max_t=search.epochs,
        grace_period=min(search.grace_epochs, search.epochs),
        reduction_factor=search.reduction_factor,
    )
    storage = (storage_dir or bench_home() / "tune").resolve()
    storage.mkdir(parents=True, exist_ok=True)
    trainable = tune.with_resources(
        tune.with_parameters(_trial, data=data, pooling=pooling, search=search), {"cpu": 1}
    )
    tuner = tune.Tuner(
        trainable,
        param_space={"seed": seed},
        tune_config=tune.TuneConfig(
            metric=TRIAL_METRIC,
            mode="max",
            search_alg=searcher,
            scheduler=scheduler,
            num_samples=search.trials,
        ),
        run_config=tune.RunConfig(
            name=f"{experiment}__{embedding_set.name}__{pooling.name}",
            storage_path=str(storage),
            verbose=0,
            callbacks=[TrialProgress(search.trials, on_trial)] if on_trial else None,
        ),
    )
    grid = tuner.fit()
    trials = []
    for result in grid:
        if (
            result.error is not None
            or result.metrics_dataframe is None
            or result.metrics_dataframe.empty
        ):
            continue
        frame = result.metrics_dataframe
        settings = TrainSettings(
            lr=result.config["lr"],
            weight_decay=result.config["weight_decay"],
            epochs=search.epochs,
            batch_size=search.batch_size,
            seed=seed,
        )
        trials.append(
            make_run_record(
                "trial",
                experiment,
                embedding_set,
                pooling,
                settings,
                {"score": float(frame[TRIAL_METRIC].max())},
                None,
                int(frame["epoch"].max()),
                float(frame["time_total_s"].max()),
            )
        )
    if not trials:
        raise RuntimeError(
            f"every trial of {pooling.name} failed; see the Ray Tune logs in {storage}"
        )
    best = max(trials, key=lambda r: r.valid_score if np.isfinite(r.valid_score) else -np.inf)
    final_settings = [
        TrainSettings(
            lr=best.hparams["lr"],
            weight_decay=best.hparams["weight_decay"],
            epochs=search.epochs,
            batch_size=search.batch_size,
            seed=seed + 1000 + i,
        )
        for i in range(search.final_seeds)
    ]
    data_ref = ray.put(data)
    remote = ray.remote(num_cpus=1)(_final_run)
    outputs = ray.get([remote.remote(data_ref, pooling, s) for s in final_settings])
    finals = [
        make_run_record(
            "final", experiment, embedding_set, pooling, s, valid, test, epochs, seconds
        )
        for s, (valid, test, epochs, seconds) in zip(final_settings, outputs, strict=True)
    ]
    store.add_runs(trials + finals)
    return TuneOutcome(
        pooling=pooling.name,
        best_hparams={"lr": best.hparams["lr"], "weight_decay": best.hparams["weight_decay"]},
        trials=trials,
        finals=finals,
    )


class TrialProgress(Callback):
    """Forwards finished-trial counts to a progress display (which stays out of Tune's pickles)."""

    def __init__(self, total: int, on_trial: Callable[[int, int], None]) -> None:
        self.total = total
        self.done = 0
        self.on_trial: Callable[[int, int], None] | None = on_trial

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "on_trial": None}

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.done += 1
        if self.on_trial is not None:
            self.on_trial(self.done, self.total)

    on_trial_error = on_trial_complete
