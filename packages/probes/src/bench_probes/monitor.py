"""Watching a running search from the driver: a Tune callback that stores each trial as it
finishes and hands snapshots of all trials to a progress listener (the CLI's live table).

Tune pickles its callbacks with the experiment, and a restored experiment brings back that pickled
copy, so the callback holds only the search's name; the store and the listener live in this
process's registry of running searches, out of every pickle.

Callbacks run on Tune's event loop, which also answers every trial's report (a trial waits for
that answer before it trains on) and starts the next trial: a LanceDB commit there (about 10 ms
each) would stall every slot once per finished trial. Finished trials therefore go to a writer
thread, which commits whatever has queued up in one write and is drained when the search ends,
interrupted or not.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
    _writer: _RunWriter | None = field(default=None, init=False, repr=False)

    def trial_finished(self, trial: Any) -> None:
        record = self.record(trial.trial_id, trial.config, trial.last_result)
        if record is not None:
            if self._writer is None:
                self._writer = _RunWriter(self.store)
            self._writer.put(record)

    def close(self) -> None:
        """Wait until every finished trial is in the results table; raise what a write raised."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

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


class _RunWriter:
    """A thread that stores trial records off Tune's event loop, several per commit when they
    finish faster than a commit takes."""

    def __init__(self, store: TokenStore) -> None:
        self._store = store
        self._queue: queue.SimpleQueue[RunRecord | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bench-trial-writer", daemon=True)
        self._thread.start()

    def put(self, record: RunRecord) -> None:
        self._queue.put(record)

    def _run(self) -> None:
        done = False
        while not done:
            batch = [self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get())
            done = batch[-1] is None
            records = [r for r in batch if r is not None]
            if records and self._error is None:
                try:
                    self._store.add_runs(records)
                except Exception as error:  # raised again by close(), in the driver's thread
                    self._error = error

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


_RUNNING: dict[str, RunningSearch] = {}


@contextmanager
def running(search: RunningSearch) -> Iterator[None]:
    """Register `search` for its monitor while the block runs; on the way out (Ctrl-C included)
    the trials it finished are all stored."""
    _RUNNING[search.name] = search
    failed = True
    try:
        yield
        failed = False
    finally:
        del _RUNNING[search.name]
        try:
            search.close()
        except Exception:
            if not failed:
                raise
            # the block's own exception (e.g. the interruption) is the one to report; the
            # search stores all its trials again when it completes
            logging.getLogger(__name__).exception("storing finished trials failed")


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
