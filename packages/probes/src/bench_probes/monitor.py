"""Watching a running search from the driver: a Tune callback that stores each trial as it
finishes and hands snapshots of all trials to a progress listener (the CLI's live table).

Tune pickles its callbacks with the experiment, and a restored experiment brings back that pickled
copy, so the callback holds only the search's name; the store and the listener live in this
process's registry of running searches, out of every pickle.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from ray.tune import Callback

from bench_store import RunRecord, TokenStore

TRIAL_METRIC = "valid_score"


@dataclass(frozen=True)
class TrialView:
    """One trial as the live view shows it."""

    trial_id: str
    lr: float
    weight_decay: float
    status: str
    """Tune's status: PENDING, RUNNING, PAUSED, TERMINATED or ERROR."""
    epoch: int
    best: float | None
    """Best validation score so far (None before the first report)."""


@dataclass(frozen=True)
class SearchProgress:
    """A snapshot of a running search, handed to the progress listener after every trial event."""

    pooling: str
    embedding_set: str
    total: int
    trials: tuple[TrialView, ...]

    @property
    def finished(self) -> int:
        return sum(t.status in ("TERMINATED", "ERROR") for t in self.trials)

    @property
    def best(self) -> TrialView | None:
        scored = [t for t in self.trials if t.best is not None and np.isfinite(t.best)]
        return max(scored, key=lambda t: t.best or 0.0) if scored else None


ProgressListener = Callable[[SearchProgress], None]


TrialRecorder = Callable[[str, dict[str, Any], dict[str, Any]], RunRecord | None]
"""(trial id, config, last result) -> the trial's record, or None for a trial that never reported."""


@dataclass
class RunningSearch:
    """The driver-side half of a running search: where its trials are stored and shown."""

    name: str
    pooling: str
    embedding_set: str
    total: int
    record: TrialRecorder
    store: TokenStore
    on_progress: ProgressListener | None

    def trial_finished(self, trial: Any) -> None:
        record = self.record(trial.trial_id, trial.config, trial.last_result)
        if record is not None:
            self.store.add_runs([record])

    def show(self, trials: list[Any], ended: Any = None, status: str = "") -> None:
        """Publish a snapshot; `ended` is a trial Tune is ending (its callbacks run before it sets
        the trial's final `status`)."""
        if self.on_progress is None:
            return
        views = tuple(
            TrialView(
                trial_id=t.trial_id,
                lr=t.config.get("lr", math.nan),
                weight_decay=t.config.get("weight_decay", math.nan),
                status=status if t is ended else t.status,
                epoch=int(t.last_result.get("epoch", 0)),
                best=t.last_result.get(TRIAL_METRIC),
            )
            for t in trials
        )
        self.on_progress(SearchProgress(self.pooling, self.embedding_set, self.total, views))


_RUNNING: dict[str, RunningSearch] = {}


@contextmanager
def running(search: RunningSearch) -> Iterator[None]:
    """Register `search` for its monitor while the block runs."""
    _RUNNING[search.name] = search
    try:
        yield
    finally:
        del _RUNNING[search.name]


class SearchMonitor(Callback):
    """Tune callback: stores each trial as it finishes and feeds the progress listener of the
    running search called `name`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _show(self, trials: list[Any], ended: Any = None, status: str = "") -> None:
        if search := _RUNNING.get(self.name):
            search.show(trials, ended, status)

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._show(trials)

    def on_trial_result(
        self, iteration: int, trials: list, trial: Any, result: dict, **info: Any
    ) -> None:
        self._show(trials)

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        if search := _RUNNING.get(self.name):
            search.trial_finished(trial)
            search.show(trials, trial, "TERMINATED")

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._show(trials, trial, "ERROR")
