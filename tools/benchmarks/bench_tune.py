"""Ray Tune search overhead and token sharing (`make bench BENCH=tune`).

- tune overhead: the search's slot-seconds (wall time of `tune_pooling`'s search, from building
  the Tuner until it returns, x concurrent trial slots of 1 CPU each) against the wall-clock
  seconds its trials spent training (measured inside each trial around the epochs, report waits
  excluded), for the paper's budget (50 trials, 30 epochs, ASHA) of a linear probe: the shortest
  trials, so the worst case for scheduling overhead. 1.0 = every slot trained all the time. The
  search's slot-seconds include starting its trial processes (Tune starts them for every search;
  their import of torch is most of the overhead), the per-trial resets and report round trips,
  and the idle tail while the last trials finish. Two data sizes: the smallest training set of the
  paper's grid (ESC-50: 1,600 clips of 5 s, 50 classes), which carries the goal, and a set 5x
  smaller still (300 clips, 10 classes) where a linear trial trains for a third of a second and
  start-up weighs most. Also reported, without a goal, a tiny budget (8 trials x 6 epochs).
- trial private memory: how much private memory a reader process gains while it reads every
  token of the shared set, against the token bytes (a private copy would be >= 1.0).

Data: embedding sets with the paper's token geometry for 5 s clips (32 time steps x 8 frequency
patches x 768 dims), written into a temporary store.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import Ratio

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for tests/

OVERHEAD_GOAL = "<= 1.3"


def _reader_memory(tokens: object) -> tuple[float, float]:
    """(private bytes gained by a reader while touching all tokens, token bytes), worst of two
    concurrent readers."""
    import numpy as np
    import ray

    @ray.remote(num_cpus=1)
    def read(handle: object) -> tuple[int, int]:
        import psutil

        import bench_probes  # noqa: F401  (imports are not what we measure)

        process = psutil.Process()
        before = process.memory_full_info().uss
        data = handle.load()  # type: ignore[attr-defined]
        float(data.train.tokens.sum(dtype=np.float32))
        return process.memory_full_info().uss - before, data.train.tokens.nbytes

    results = ray.get([read.remote(tokens) for _ in range(2)])
    return float(max(r[0] for r in results)), float(results[0][1])


def run() -> list[Ratio]:
    import ray
    from tests.probes.toy_store import write_toy_set

    from bench_core import ensure_ray
    from bench_probes import SharedTokens, load_pooling_config, load_search_config, tune_pooling
    from bench_store import TokenStore

    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        store = TokenStore(str(Path(tmp) / "db"))
        ensure_ray(object_store_memory=1 << 30)
        try:
            linear = load_pooling_config("linear")
            paper = load_search_config("default").with_budget(final_seeds=1)
            for clips, classes, budgets in (
                (1600, 50, [("paper budget: 50 trials x 30 epochs", paper, OVERHEAD_GOAL)]),
                (
                    300,
                    10,
                    [
                        ("paper budget: 50 trials x 30 epochs", paper, ""),
                        ("tiny budget: 8 trials x 6 epochs", paper.with_budget(8, 6), ""),
                    ],
                ),
            ):
                embedding_set = write_toy_set(
                    store, clips=clips, time_steps=32, freq=8, dim=768, classes=classes
                )
                with SharedTokens(embedding_set) as tokens:
                    for label, search, goal in budgets:
                        outcome = tune_pooling(
                            store,
                            embedding_set,
                            linear,
                            search,
                            experiment=f"{clips}-clips-" + label.split(":")[0].replace(" ", "-"),
                            tokens=tokens,
                            storage_dir=Path(tmp) / "tune",
                        )
                        ratios.append(
                            Ratio(
                                f"tune overhead, linear, {clips} clips, {label} "
                                f"(slot-s / training s, {outcome.slots} slots)",
                                outcome.search_seconds * outcome.slots,
                                sum(r.train_seconds for r in outcome.trials),
                                "s",
                                goal,
                            )
                        )
                    if clips == 1600:
                        private, token_bytes = _reader_memory(tokens.handle)
                        ratios.append(
                            Ratio(
                                "trial private memory while reading all tokens / token bytes",
                                private / 2**20,
                                token_bytes / 2**20,
                                "MiB",
                                "<= 0.1",
                            )
                        )
        finally:
            ray.shutdown()
    return ratios
