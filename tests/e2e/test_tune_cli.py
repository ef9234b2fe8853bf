"""`bench tune --pooling all`, `bench run` and resuming an interrupted search, through the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bench_cli.app import app
from bench_core import BenchError, ConfigError
from bench_core.config import validate_config
from bench_probes import (
    SearchProgress,
    list_poolings,
    load_pooling_config,
    load_search_config,
    tune_pooling,
)
from bench_probes.grid import ExperimentConfig, load_experiment, run_grid
from bench_store import TokenStore
from tests.probes.toy_store import write_toy_set

runner = CliRunner(env={"COLUMNS": "240"})


def test_paper_grid_config() -> None:
    paper = load_experiment(Path(__file__).parents[2] / "configs" / "experiments" / "paper.yaml")
    assert (len(paper.datasets), len(paper.backbones), len(paper.pooling_names())) == (14, 9, 11)
    assert paper.trials == 50 and paper.name == "paper"
    assert set(paper.groups["bioacoustics"]) == {"hsn", "pow", "per", "nes", "sne", "uhh", "nbp"}
    assert load_experiment("synthetic").pooling_names() == list_poolings()
    grid = {"name": "g", "datasets": ["a"], "backbones": ["b"]}
    for wrong in (
        {"name": "a/b"},
        {"poolings": "some"},
        {"groups": {"g": ["z"]}},
        {"datasets": ["a", "a"]},
    ):
        with pytest.raises(ConfigError):
            validate_config({**grid, **wrong}, ExperimentConfig, "test")


@pytest.mark.slow
@pytest.mark.usefixtures("ray_session")
def test_tune_all_poolings_then_report_run_and_skip(tmp_path: Path) -> None:
    """The Python API for one pooling, then the CLI for all of them (skipping the one done)."""
    store = TokenStore(str(tmp_path / "db"))
    # dim 64: every head's constraint holds (ep splits the width into 32 query groups)
    embedding_set = write_toy_set(store, dataset="synthetic", backbone="eat", dim=64)
    poolings = list_poolings()
    snapshots: list[SearchProgress] = []
    search = load_search_config("default").with_budget(trials=2, epochs=1, final_seeds=2)
    linear = tune_pooling(
        store, embedding_set, load_pooling_config("linear"), search, on_progress=snapshots.append
    )
    assert not linear.skipped and not linear.resumed and linear.slots == 2
    assert len(linear.trials) == 2 and {r.seed for r in linear.finals} == {1000, 1001}
    best = max(linear.trials, key=lambda r: r.valid_score)
    assert linear.best_hparams["lr"] == best.hparams["lr"]
    for final in linear.finals:
        assert final.hparams["lr"] == best.hparams["lr"] and final.test_score is not None
    stored_trials = store.runs(kind="trial", pooling="linear")
    assert {r.run_id for r in stored_trials} == {r.run_id for r in linear.trials}
    for record in stored_trials:
        assert record.epochs == 1 and record.train_seconds > 0 and record.test_score is None
        assert 1e-5 <= record.hparams["lr"] <= 1e-1
        assert record.metrics["valid_map"] == record.valid_score
    assert linear.search_seconds > 0 and linear.overhead_ratio > 0
    last = snapshots[-1]
    assert (last.pooling, last.total, last.finished) == ("linear", 2, 2)
    assert last.best is not None and last.best.best == pytest.approx(best.valid_score)

    tune = [
        "tune",
        "--pooling",
        "all",
        "--dataset",
        "synthetic",
        "--backbone",
        "eat",
        "--trials",
        "2",
        "--epochs",
        "1",
        "--seeds",
        "2",
        "--store",
        store.uri,
    ]
    result = runner.invoke(app, tune)
    assert result.exit_code == 0, result.output
    assert "linear: already in the results table, skipped" in result.output
    for pooling in poolings:
        assert f"{pooling}: " in result.output
        assert len(store.runs(pooling=pooling, kind="trial")) == 2
        assert len(store.runs(pooling=pooling, kind="final")) == 2
    stored = len(store.runs())

    report = json.loads(runner.invoke(app, ["report", "--json", "--store", store.uri]).stdout)
    assert sorted(r["pooling"] for r in report["results"]) == poolings
    assert report["win_matrix"]["poolings"] == poolings
    shown = runner.invoke(app, ["report", "--store", store.uri]).output
    assert "synthetic — test mAP" in shown and all(p in shown for p in poolings)

    grid = tmp_path / "grid.yaml"
    grid.write_text(
        yaml.safe_dump(
            {
                "name": "default",
                "datasets": ["synthetic"],
                "backbones": ["eat", "beats"],
                "poolings": "all",
                "trials": 2,
                "epochs": 1,
                "final_seeds": 2,
            }
        )
    )
    ran = runner.invoke(app, ["run", str(grid), "--store", store.uri])
    assert isinstance(ran.exception, BenchError)  # beats has no embeddings: exit status 2
    assert f"0 searches run, {len(poolings)} already stored" in ran.output
    assert "bench extract --dataset synthetic --backbone beats" in ran.output

    again = runner.invoke(app, tune)
    assert again.exit_code == 0, again.output
    assert again.output.count("already in the results table, skipped") == len(poolings)
    assert len(store.runs()) == stored


@pytest.mark.slow
@pytest.mark.usefixtures("ray_session")
def test_interrupted_search_resumes_without_redoing_finished_trials(
    tmp_path: Path, bench_home: Path
) -> None:
    """Ctrl-C (SIGINT) to a real `bench tune` process once trials are stored; the same search
    resumed keeps those trials (their results predate the interruption) and runs only the rest.
    Enough trials (about 9 s of training on 2 CPUs) that the interruption lands mid-search."""
    import ray

    store = TokenStore(str(tmp_path / "db"))
    embedding_set = write_toy_set(store, clips=600, time_steps=32, dim=64)
    trials, epochs = 24, 20
    command = [
        str(Path(sys.executable).parent / "bench"),
        "tune",
        "--pooling",
        "mhca",
        "--dataset",
        "toy",
        "--backbone",
        "eat",
        "--trials",
        str(trials),
        "--epochs",
        str(epochs),
        "--seeds",
        "2",
        "--store",
        store.uri,
        # the test's Ray cluster: the killed driver's trial actors end with it
        "--address",
        ray.get_runtime_context().gcs_address,
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BENCH_HOME": str(bench_home)},
    )
    try:
        deadline = time.monotonic() + 300
        while not store.runs(kind="trial") and process.poll() is None:
            assert time.monotonic() < deadline, "no trial finished"
            time.sleep(0.2)
        interrupted_at = time.time()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 2, stderr
    assert "Run the same command again to resume" in stderr and "Traceback" not in stderr
    before = {r.run_id for r in store.runs(kind="trial")}
    assert 1 <= len(before) < trials
    assert not store.runs(kind="final")

    resumed_at = time.time()
    search = load_search_config("default").with_budget(trials, epochs, 2)
    outcome = tune_pooling(store, embedding_set, load_pooling_config("mhca"), search)
    assert outcome.resumed and len(outcome.trials) == trials and len(outcome.finals) == 2
    for record in outcome.trials:
        if record.run_id in before:  # finished before the interruption: not trained again
            assert record.created_at <= interrupted_at
        else:
            assert record.created_at >= int(resumed_at)
    stored = store.runs(kind="trial")
    assert len(stored) == trials and before <= {r.run_id for r in stored}


@pytest.mark.usefixtures("ray_session")
def test_tune_and_grid_use_the_poolings_parameters_for_the_dataset(
    tmp_path: Path, bench_home: Path
) -> None:
    """proto keeps J = 10 prototypes per class on as20k (20 elsewhere), as the paper trains it."""
    store = TokenStore(str(tmp_path / "db"))
    write_toy_set(store, clips=60, dataset="as20k")
    tuned = runner.invoke(
        app,
        [
            *("tune", "--pooling", "proto", "--dataset", "as20k", "--backbone", "eat"),
            *("--trials", "1", "--epochs", "1", "--seeds", "1", "--store", store.uri),
        ],
    )
    assert tuned.exit_code == 0, tuned.output
    grid = ExperimentConfig(
        name="grid", datasets=["as20k"], backbones=["eat"], poolings=["proto"], trials=1, epochs=1
    )
    run_grid(grid.model_copy(update={"final_seeds": 1}), store, storage_dir=tmp_path / "tune")
    for experiment in ("default", "grid"):
        runs = store.runs(pooling="proto", experiment=experiment)
        assert {r.kind for r in runs} == {"trial", "final"}
        assert {r.hparams["prototypes_per_class"] for r in runs} == {10}
    assert load_pooling_config("proto", "toy").params["prototypes_per_class"] == 20
