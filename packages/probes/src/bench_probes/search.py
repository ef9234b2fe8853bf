"""`bench tune`: Ray Tune search over learning rate and weight decay for one pooling (Sobol, then
TPE, with ASHA early stopping), then the best configuration re-trained over several seeds and
evaluated on the test split. Every trial and final run goes into the results table.

What keeps the search cheap when probes are small (see `make bench`, benchmark `tune`):
- tokens: one object-store copy per embedding set, mapped read-only by all trials (`shared.py`);
- small probes are packed onto few long-lived processes: trial actors are reused
  (`reuse_actors`), so a process imports torch and maps the tokens once and then serves trial after
  trial; what a search pays per trial is a reset and a few report round trips;
- those processes start afresh for every search (Tune's actors end with it), and their imports are
  most of a short search's overhead: the trainable lives in `trial.py`, which imports the trainer
  and none of the driver's libraries (LanceDB, Optuna);
- a trial reports only at ASHA's rungs and at its last epoch. Each report blocks the trial until
  the driver has handled it, so per-epoch reports cost a round trip per epoch; ASHA compares the
  first result at or past each rung, so its decisions are the same;
- the driver's event loop, which answers those reports, stores no trial itself: finished trials
  go to a writer thread (`monitor.py`).

Resuming: a search lives in `<storage>/<name>`, where the name fingerprints the experiment, the
embedding set, the pooling and the search config. An interrupted search is restored with
`Tuner.restore` (finished trials stay finished); one whose final runs are in the results table is
not run again. Each trial is stored as soon as it finishes, with a run id derived from the search
name and Tune's trial id, so a resumed search never stores a trial twice.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import re
import statistics
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench_core import BenchError, ConfigError, bench_home, ensure_ray
from bench_probes.config import PoolingConfig, SearchConfig
from bench_probes.heads import HEADS
from bench_probes.metrics import metric_name
from bench_probes.monitor import (
    TRIAL_METRIC,
    ProgressListener,
    RunningSearch,
    SearchMonitor,
    running,
)
from bench_probes.samplers import SobolThenTPESampler
from bench_probes.shared import SharedTokens, TokenHandle
from bench_probes.trainer import TrainSettings
from bench_probes.trial import CPUS_PER_TRIAL, final_run, train_settings, trainable
from bench_store import EmbeddingSet, RunRecord, TokenStore, identity_hash

EXPERIMENT_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")
"""Experiment names become folder names and run-id prefixes: no separators, no spaces."""


class SearchInterrupted(BenchError):
    """The search stopped before all its trials finished (Ctrl-C); its state is saved."""


@dataclass(frozen=True)
class TuneOutcome:
    pooling: str
    best_hparams: dict[str, Any]
    trials: list[RunRecord]
    finals: list[RunRecord]
    skipped: bool = False
    """True when the final runs were already stored: nothing was trained, records were read."""
    resumed: bool = False
    """True when an interrupted search was restored and completed."""
    search_seconds: float = 0.0
    """Wall time of the Tune search itself (0 when skipped)."""
    slots: int = 0
    """How many trials could run at once (CPUs / CPUs per trial, at most the trial budget)."""

    @property
    def test_mean(self) -> float:
        return statistics.fmean(r.test_score for r in self.finals if r.test_score is not None)

    @property
    def test_sd(self) -> float:
        scores = [r.test_score for r in self.finals if r.test_score is not None]
        return statistics.stdev(scores) if len(scores) > 1 else 0.0

    @property
    def overhead_ratio(self) -> float:
        """Slot-seconds the search occupied per second its trials spent training: 1.0 means every
        slot trained all the time; the rest is scheduling, reporting, start-up and idle tails.
        Meaningful for a search run in one go (not skipped, not resumed)."""
        trained = sum(r.train_seconds for r in self.trials)
        return self.search_seconds * self.slots / trained if trained else math.nan


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


@dataclass(frozen=True)
class _Search:
    """Everything that identifies one search and turns its results into records."""

    experiment: str
    embedding_set: EmbeddingSet
    pooling: PoolingConfig
    search: SearchConfig
    seed: int
    layer: int | None

    @property
    def name(self) -> str:
        """Tune's experiment name: readable, plus a fingerprint of what makes the search itself,
        so a changed budget or search space starts a new search instead of resuming an old one."""
        fingerprint = identity_hash(
            {
                "pooling": self.pooling.model_dump(),
                "search": self.search.model_dump(),
                "seed": self.seed,
                "layer": self.layer,
            }
        )[:10]
        return f"{self.experiment}__{self.embedding_set.name}__{self.pooling.name}__{fingerprint}"

    def trial_record(
        self, trial_id: str, config: dict[str, Any], metrics: dict[str, Any]
    ) -> RunRecord | None:
        """The record of a trial from its last result (None for a trial that never reported)."""
        if TRIAL_METRIC not in metrics:
            return None
        valid = {k.removeprefix("valid_"): v for k, v in metrics.items() if k.startswith("valid_")}
        settings = train_settings(self.search, config["lr"], config["weight_decay"], config["seed"])
        record = make_run_record(
            "trial",
            self.experiment,
            self.embedding_set,
            self.pooling,
            settings,
            valid,
            None,
            int(metrics["epoch"]),
            float(metrics["train_seconds"]),
        )
        return dataclasses.replace(
            record, run_id=f"{self.name}/{trial_id}", created_at=float(metrics["timestamp"])
        )

    def final_record(
        self,
        settings: TrainSettings,
        valid: dict[str, float],
        test: dict[str, float] | None,
        epochs: int,
        seconds: float,
    ) -> RunRecord:
        record = make_run_record(
            "final",
            self.experiment,
            self.embedding_set,
            self.pooling,
            settings,
            valid,
            test,
            epochs,
            seconds,
        )
        return dataclasses.replace(record, run_id=f"{self.name}/final-{settings.seed}")


def stored_outcome(
    store: TokenStore, experiment: str, embedding_set: EmbeddingSet, pooling: str
) -> TuneOutcome | None:
    """The outcome of a finished search of this (experiment, embedding set, pooling) read back from
    the results table, or None when its final runs are not stored yet."""
    keys = {"experiment": experiment, "embedding_set": embedding_set.name, "pooling": pooling}
    finals = store.runs(kind="final", **keys)
    if not finals:
        return None
    name = finals[0].run_id.split("/")[0]
    trials = [r for r in store.runs(kind="trial", **keys) if r.run_id.split("/")[0] == name]
    finals = [r for r in finals if r.run_id.split("/")[0] == name]
    hparams = finals[0].hparams
    return TuneOutcome(
        pooling=pooling,
        best_hparams={"lr": hparams["lr"], "weight_decay": hparams["weight_decay"]},
        trials=trials,
        finals=finals,
        skipped=True,
    )


def _tuner(search: _Search, tokens: TokenHandle, storage: Path, slots: int) -> tuple[Any, bool]:
    """A Tuner for the search: restored when an interrupted one is on disk, else a new one.

    `max_concurrent_trials=slots` matters beyond the limit itself: with a custom searcher Tune
    starts one trial actor at a time unless a concurrency limit is set, and with reused actors a
    trial that ends before the second actor is up hands its actor over and the second start is
    cancelled, so short trials would run one at a time on any number of CPUs."""
    from optuna.distributions import FloatDistribution
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    config = search.search
    resourced = tune.with_resources(
        trainable(tokens, search.pooling, config), {"cpu": CPUS_PER_TRIAL}
    )
    param_space = {"seed": search.seed}
    path = storage / search.name
    if tune.Tuner.can_restore(path):
        return tune.Tuner.restore(str(path), resourced, param_space=param_space), True
    space = {
        "lr": FloatDistribution(config.lr.low, config.lr.high, log=config.lr.log),
        "weight_decay": FloatDistribution(
            config.weight_decay.low, config.weight_decay.high, log=config.weight_decay.log
        ),
    }
    tuner = tune.Tuner(
        resourced,
        param_space=param_space,
        tune_config=tune.TuneConfig(
            metric=TRIAL_METRIC,
            mode="max",
            search_alg=OptunaSearch(
                space=space,
                metric=TRIAL_METRIC,
                mode="max",
                sampler=SobolThenTPESampler(config.startup_trials, seed=search.seed),
            ),
            scheduler=ASHAScheduler(
                time_attr="epoch",
                max_t=config.epochs,
                grace_period=config.grace_epochs,
                reduction_factor=config.reduction_factor,
            ),
            num_samples=config.trials,
            max_concurrent_trials=slots,
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name=search.name,
            storage_path=str(storage),
            verbose=0,
            callbacks=[SearchMonitor(search.name)],
        ),
    )
    return tuner, False


def _configure_tune() -> None:
    """No Tune console output (bench draws its own live view, Tune's lines would tear it), and no
    per-trial CSV/JSON/TensorBoard files: the results table is the record, and those loggers cost
    tens of milliseconds per report and per trial. TUNE_DISABLE_AUTO_CALLBACK_LOGGERS=0 in the
    environment brings them back."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0: no console tables
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    logging.getLogger("ray.tune").setLevel(logging.WARNING)
    # without the loggers, Tune's result analysis warns that it finds no per-trial files
    logging.getLogger("ray.tune.analysis.experiment_analysis").setLevel(logging.ERROR)


def _final_runs(search: _Search, tokens: TokenHandle, best: RunRecord) -> list[RunRecord]:
    """The best configuration re-trained over `final_seeds` seeds in parallel, tested on test."""
    import ray

    settings = [
        train_settings(
            search.search, best.hparams["lr"], best.hparams["weight_decay"], search.seed + 1000 + i
        )
        for i in range(search.search.final_seeds)
    ]
    remote = ray.remote(num_cpus=CPUS_PER_TRIAL)(final_run)
    outputs = ray.get([remote.remote(tokens, search.pooling, s) for s in settings])
    return [
        search.final_record(s, valid, test, epochs, seconds)
        for s, (valid, test, epochs, seconds) in zip(settings, outputs, strict=True)
    ]


def require_implemented(pooling: PoolingConfig) -> None:
    """Fail before any training when a pooling config names a head that does not exist (a grid
    should not stop halfway through on a typo)."""
    if pooling.head not in HEADS:
        raise ConfigError(
            f"pooling '{pooling.name}' uses head '{pooling.head}', which is not implemented; "
            f"implemented: {', '.join(HEADS)}"
        )


def tune_pooling(
    store: TokenStore,
    embedding_set: EmbeddingSet,
    pooling: PoolingConfig,
    search: SearchConfig,
    *,
    experiment: str = "default",
    seed: int = 0,
    tokens: SharedTokens | None = None,
    storage_dir: Path | None = None,
    address: str | None = None,
    on_progress: ProgressListener | None = None,
) -> TuneOutcome:
    """Search, re-train the best configuration over `search.final_seeds` seeds, store every run.

    A search whose final runs are stored already returns its stored outcome (`skipped`); an
    interrupted one resumes (`resumed`). Pass `tokens` to share one object-store copy of the
    embedding set between several searches (default: a copy for this search, last stored layer).
    Raises SearchInterrupted when stopped (Ctrl-C) before every trial finished.
    """
    require_implemented(pooling)
    if not EXPERIMENT_NAME.fullmatch(experiment):
        raise ConfigError(
            f"experiment name '{experiment}' may use only letters, digits and _ . + -"
        )
    stored = stored_outcome(store, experiment, embedding_set, pooling.name)
    if stored is not None:
        return stored
    resources = ensure_ray(address)
    _configure_tune()
    with ExitStack() as stack:
        if tokens is None:
            tokens = stack.enter_context(SharedTokens(embedding_set))
        spec = _Search(experiment, embedding_set, pooling, search, seed, tokens.layer)
        slots = max(1, min(search.trials, int(resources.get("CPU", 1) // CPUS_PER_TRIAL)))
        return _search(
            spec, store, tokens.handle, storage_dir or bench_home() / "tune", slots, on_progress
        )


def _search(
    spec: _Search,
    store: TokenStore,
    tokens: TokenHandle,
    storage_dir: Path,
    slots: int,
    on_progress: ProgressListener | None,
) -> TuneOutcome:
    storage = storage_dir.resolve()
    storage.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    watched = RunningSearch(
        spec.name,
        spec.pooling.name,
        spec.embedding_set.name,
        spec.search.trials,
        spec.trial_record,
        store,
        on_progress,
    )
    with running(watched):
        tuner, resumed = _tuner(spec, tokens, storage, slots)
        grid = tuner.fit()
    search_seconds = time.perf_counter() - started
    total = spec.search.trials
    finished = grid.num_terminated + grid.num_errors
    if finished < total:
        raise SearchInterrupted(
            f"{spec.pooling.name}: the search stopped after {finished} of {total} trials; its "
            f"state is saved in {storage / spec.name}. Run the same command again to resume."
        )
    trials = [
        record
        for result in grid
        if result.error is None
        and (record := spec.trial_record(result.metrics["trial_id"], result.config, result.metrics))
    ]
    if not trials:
        raise RuntimeError(
            f"every trial of {spec.pooling.name} failed; see the Tune logs in {storage}"
        )
    store.add_runs(trials)
    best = max(trials, key=lambda r: r.valid_score if np.isfinite(r.valid_score) else -np.inf)
    finals = _final_runs(spec, tokens, best)
    store.add_runs(finals)
    store.compact_runs()
    return TuneOutcome(
        pooling=spec.pooling.name,
        best_hparams={"lr": best.hparams["lr"], "weight_decay": best.hparams["weight_decay"]},
        trials=trials,
        finals=finals,
        resumed=resumed,
        search_seconds=search_seconds,
        slots=slots,
    )
