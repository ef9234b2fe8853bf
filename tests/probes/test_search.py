"""The Ray Tune search: its report schedule, budgets and shared tokens (searches themselves run in
tests/e2e/test_tune_cli.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from bench_probes import SharedTokens, load_search_config
from bench_probes.trial import report_epochs
from bench_store import TokenStore
from tests.probes.toy_store import write_toy_set


@pytest.mark.parametrize(
    ("epochs", "grace", "factor"),
    [(30, 5, 3.0), (12, 2, 3.0), (10, 1, 2.0), (7, 3, 2.5), (1, 1, 3.0)],
)
def test_trials_report_at_every_asha_rung_and_the_last_epoch(
    epochs: int, grace: int, factor: float
) -> None:
    from ray.tune.schedulers import ASHAScheduler

    search = load_search_config("default").model_copy(
        update={"epochs": epochs, "grace_epochs": grace, "reduction_factor": factor}
    )
    scheduler = ASHAScheduler(
        time_attr="epoch", max_t=epochs, grace_period=grace, reduction_factor=factor
    )
    rungs = {milestone for milestone, _ in scheduler._brackets[0]._rungs}
    reported = report_epochs(search)
    # ASHA acts on the first result at or past a rung: one report per rung, none in between
    for rung in rungs:
        assert min(e for e in reported if e >= rung) < rung + 1
    assert max(reported) == epochs and len(reported) <= len(rungs) + 1


def test_a_smaller_budget_keeps_the_paper_proportions() -> None:
    paper = load_search_config("default")
    assert (paper.trials, paper.startup_trials, paper.epochs, paper.grace_epochs) == (50, 25, 30, 5)
    small = paper.with_budget(trials=6, epochs=12, final_seeds=2)
    assert (small.trials, small.startup_trials) == (6, 3)  # half Sobol, then TPE
    assert (small.epochs, small.grace_epochs, small.final_seeds) == (12, 2, 2)
    tiny = paper.with_budget(trials=1, epochs=1)
    assert (tiny.startup_trials, tiny.grace_epochs) == (1, 1)


@pytest.mark.usefixtures("ray_session")
def test_concurrent_readers_map_one_copy_of_the_tokens(tmp_path: Path) -> None:
    """Two readers at once (as two trials on a node) each touch every token; their processes'
    private memory grows by a small fraction of the token bytes: they map the object store's
    copy instead of holding their own."""
    import psutil
    import ray

    store = TokenStore(str(tmp_path / "db"))
    embedding_set = write_toy_set(store, clips=200, time_steps=64, freq=8, dim=128)

    @ray.remote(num_cpus=1)
    def read(handle: object) -> tuple[int, int, bool]:
        import bench_probes  # noqa: F401  (imports are not what we measure)

        process = psutil.Process()
        before = process.memory_full_info().uss
        data = handle.load()  # type: ignore[attr-defined]
        checksum = float(data.train.tokens.sum(dtype=np.float32))
        grown = process.memory_full_info().uss - before
        assert np.isfinite(checksum)
        return grown, data.train.tokens.nbytes, data.train.tokens.flags.writeable

    with SharedTokens(embedding_set) as tokens:
        results = ray.get([read.remote(tokens.handle) for _ in range(2)])
    for grown, token_bytes, writeable in results:
        assert token_bytes > 16 * 2**20
        assert not writeable  # a view of shared memory, not a private array
        assert grown < 0.1 * token_bytes


def test_a_trial_process_imports_neither_lancedb_nor_optuna() -> None:
    """Trial processes start afresh for every search; what they import is start-up every search
    pays per slot, so the trainable's module keeps the driver's libraries out."""
    import subprocess
    import sys

    code = (
        "import sys, bench_probes.trial; "
        "print(sorted(m for m in ('lancedb', 'lance', 'optuna', 'bench_store', "
        "'bench_probes.search') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class _Trial:
    def __init__(self, trial_id: str, score: float) -> None:
        self.trial_id, self.status = trial_id, "RUNNING"
        self.config = {"lr": 1e-3, "weight_decay": 1e-4, "seed": 0}
        self.last_result = {"valid_score": score, "epoch": 5}


def test_finished_trials_are_stored_off_the_event_loop_and_all_flushed(tmp_path: Path) -> None:
    """The monitor hands finished trials to a writer thread; leaving the search's block (also
    when it raises, as an interrupted search does) waits until every one is stored, once."""
    from bench_probes import load_pooling_config
    from bench_probes.monitor import RunningSearch, SearchMonitor, running
    from bench_probes.search import make_run_record
    from bench_probes.trial import train_settings

    store = TokenStore(str(tmp_path / "db"))
    embedding_set = write_toy_set(store, clips=20, time_steps=4, freq=2, dim=8)
    search = load_search_config("default")

    def record(trial_id: str, config: dict, metrics: dict):  # type: ignore[no-untyped-def]
        settings = train_settings(search, config["lr"], config["weight_decay"], config["seed"])
        valid = {"score": metrics["valid_score"]}
        run = make_run_record(
            "trial",
            "x",
            embedding_set,
            load_pooling_config("linear"),
            settings,
            valid,
            None,
            5,
            1.0,
        )
        return dataclasses.replace(run, run_id=f"s/{trial_id}")

    trials = [_Trial(f"t{i}", i / 10) for i in range(6)]
    monitor = SearchMonitor("s")
    watched = RunningSearch("s", "linear", embedding_set.name, 6, record, store, None)
    with pytest.raises(KeyboardInterrupt), running(watched):
        for trial in trials[:4]:
            monitor.on_trial_complete(0, trials, trial)
        raise KeyboardInterrupt
    assert sorted(r.run_id for r in store.runs(kind="trial")) == [f"s/t{i}" for i in range(4)]
    with running(watched):
        for trial in trials:  # a resumed search may report a stored trial again
            monitor.on_trial_complete(0, trials, trial)
    stored = store.runs(kind="trial")
    assert sorted(r.run_id for r in stored) == [f"s/t{i}" for i in range(6)]
