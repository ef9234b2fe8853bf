"""Group means, the win matrix and rank changes, on results whose answers are known by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench_store import (
    ResultSummary,
    RunRecord,
    TokenStore,
    dataset_groups,
    group_means,
    rank_changes,
    win_matrix,
)


def summary(dataset: str, backbone: str, pooling: str, mean: float, metric: str = "map"):
    return ResultSummary(dataset, backbone, pooling, metric, mean, 0.01, 3, mean, "set", {})


# two datasets x two backbones; protobin beats linear everywhere, mhca beats linear on 3 of 4
RESULTS = [
    summary("as20k", "eat", "linear", 0.17),
    summary("as20k", "eat", "protobin", 0.32),
    summary("as20k", "eat", "mhca", 0.26),
    summary("as20k", "beats", "linear", 0.25),
    summary("as20k", "beats", "protobin", 0.31),
    summary("as20k", "beats", "mhca", 0.22),
    summary("hsn", "eat", "linear", 0.30),
    summary("hsn", "eat", "protobin", 0.45),
    summary("hsn", "eat", "mhca", 0.40),
    summary("hsn", "beats", "linear", 0.20),
    summary("hsn", "beats", "protobin", 0.41),
    summary("hsn", "beats", "mhca", 0.35),
    summary("esc50", "eat", "linear", 0.75, "accuracy"),
]
GROUPS = {"general audio": ["as20k", "fsd50k"], "bioacoustics": ["hsn", "pow"]}


def test_group_means_average_over_the_datasets_present() -> None:
    groups = dataset_groups(RESULTS, GROUPS)
    assert groups == {
        "general audio": ["as20k", "fsd50k"],
        "bioacoustics": ["hsn", "pow"],
        "other accuracy": ["esc50"],
    }
    means = {(m.group, m.backbone, m.pooling): m for m in group_means(RESULTS, GROUPS)}
    bio = means[("bioacoustics", "eat", "protobin")]
    assert bio.mean == pytest.approx(0.45) and (bio.datasets, bio.group_size) == (1, 2)
    assert means[("other accuracy", "eat", "linear")].metric == "accuracy"
    two = group_means(RESULTS, {"all map": ["as20k", "hsn"]})
    pooled = next(m for m in two if (m.backbone, m.pooling) == ("beats", "protobin"))
    assert pooled.mean == pytest.approx((0.31 + 0.41) / 2) and pooled.datasets == 2


def test_win_matrix_counts_dataset_backbone_pairs() -> None:
    matrix = win_matrix(RESULTS)
    assert matrix.poolings == ["linear", "mhca", "protobin"]
    wins = {
        (matrix.poolings[i], matrix.poolings[j]): matrix.wins[i][j]
        for i in range(3)
        for j in range(3)
    }
    assert wins[("protobin", "linear")] == 4 and wins[("linear", "protobin")] == 0
    assert wins[("mhca", "linear")] == 3 and wins[("linear", "mhca")] == 1
    assert wins[("protobin", "mhca")] == 4 and wins[("linear", "linear")] == 0


def test_rank_changes_between_linear_and_protobin() -> None:
    changes = {(c.dataset, c.backbone): c for c in rank_changes(RESULTS)}
    # as20k: linear ranks beats first, protobin ranks eat first
    assert (changes[("as20k", "beats")].before, changes[("as20k", "beats")].after) == (1, 2)
    assert changes[("as20k", "eat")].change == 1
    assert changes[("hsn", "eat")].change == 0
    assert ("esc50", "eat") not in changes  # one backbone: nothing to rank


def test_adding_runs_is_idempotent(tmp_path: Path) -> None:
    store = TokenStore(str(tmp_path / "db"))
    run = RunRecord(
        experiment="e",
        kind="trial",
        dataset="d",
        backbone="b",
        pooling="p",
        embedding_set="s",
        identity_hash="h",
        hparams={"lr": 0.1},
        seed=0,
        metric="map",
        valid_score=0.5,
        test_score=None,
        metrics={},
        epochs=3,
        train_seconds=1.0,
        run_id="search/trial-1",
    )
    assert store.add_runs([run]) == 1
    assert store.add_runs([run]) == 0
    store.compact_runs()
    assert [r.run_id for r in store.runs(experiment="e", kind="trial")] == ["search/trial-1"]
    assert store.runs(experiment="it's") == []  # quotes in filters are escaped
