"""`bench train`: one configuration trained on a stored embedding set, the run stored."""

from pathlib import Path

from typer.testing import CliRunner

from bench_cli.app import app
from bench_store import TokenStore
from tests.probes.problems import localized_store

runner = CliRunner(env={"COLUMNS": "200"})


def test_bench_train_streams_within_the_budget_and_stores_the_run(tmp_path: Path) -> None:
    store = tmp_path / "db"
    embedding_set = localized_store(store)
    args = ["train", "--pooling", "proto", "--dataset", "toy", "--backbone", "eat"]
    args += ["--lr", "3e-2", "--epochs", "3", "--seed", "4", "--store", str(store)]
    result = runner.invoke(app, [*args, "--memory-budget", "0"])
    assert result.exit_code == 0, result.output
    assert "streaming from the store: train, valid, test" in result.output
    (run,) = TokenStore(str(store)).runs(kind="train")
    assert run.pooling == "proto" and run.embedding_set == embedding_set.name
    assert run.identity_hash == embedding_set.identity_hash and run.seed == 4
    assert run.hparams["lr"] == 3e-2 and run.hparams["prototypes_per_class"] == 20
    assert run.metric == "map" and 0 < run.test_score <= 1 and run.train_seconds > 0
    assert {"valid_map", "test_map", "test_auroc", "test_f1"} <= set(run.metrics)

    in_ram = runner.invoke(app, args)  # default budget: this small set is held in RAM
    assert in_ram.exit_code == 0 and "streaming" not in in_ram.output
