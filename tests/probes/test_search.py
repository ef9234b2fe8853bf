"""The Ray Tune search: its report schedule, budgets and shared tokens (searches themselves run in
tests/e2e/test_tune_cli.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench_probes import SharedTokens, load_search_config
from bench_probes.search import report_epochs
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
