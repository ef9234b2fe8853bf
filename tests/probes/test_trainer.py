"""The trainer: model selection, many heads on one pass, early stopping, streaming, metrics."""

from pathlib import Path

import numpy as np
import pytest

from bench_probes import (
    HEADS,
    ProbeData,
    ProbeSpec,
    SplitArrays,
    TrainSettings,
    evaluate,
    train_probe,
    train_probes,
)
from tests.probes.problems import localized_data, localized_store

PROTO = {"prototypes_per_class": 20}


@pytest.mark.parametrize("seed", [0, 1])
def test_protobin_learns_a_localized_problem(seed: int) -> None:
    settings = TrainSettings(lr=3e-2, weight_decay=1e-4, epochs=20, batch_size=32, seed=seed)
    result = train_probe(localized_data(), "protobin", PROTO, settings)
    assert result.test is not None and result.test["map"] > 0.9
    assert len(result.valid_history) == 20 and 0 <= result.best_epoch < 20
    assert result.valid["score"] == max(result.valid_history)  # best-validation selection


def test_linear_on_the_mean_is_weaker_on_localized_events() -> None:
    settings = TrainSettings(lr=1e-2, weight_decay=1e-4, epochs=20, batch_size=32)
    linear, proto = train_probes(
        localized_data(),
        [ProbeSpec("linear", {}, settings), ProbeSpec("protobin", PROTO, settings)],
    )
    assert proto.test["map"] > linear.test["map"] + 0.2


def separable_problem(n: int, seed: int, task_kind: str) -> SplitArrays:
    """Every token and the cls carry the class directions: any head can solve it."""
    rng = np.random.default_rng(seed)
    directions = np.random.default_rng(99).standard_normal((3, 16)).astype(np.float32) * 2
    if task_kind == "multilabel":
        targets = (rng.random((n, 3)) < 0.5).astype(np.float32)
        signal = targets @ directions
    else:
        targets = rng.integers(0, 3, n)
        signal = directions[targets]
    tokens = rng.standard_normal((n, 4, 2, 16)).astype(np.float32) + signal[:, None, None, :]
    mask = np.ones((n, 4), dtype=bool)
    return SplitArrays(
        tokens.astype(np.float16),
        mask,
        tokens.mean(axis=(1, 2)),
        targets,
        tuple(map(str, range(n))),
    )


SMALL = {
    "conv": {"channels": 16},
    "ep": {"num_queries": 4},
    "proto": {"prototypes_per_class": 4},
    "protobin": {"prototypes_per_class": 4},
}
LR = {"proto": 3e-2, "protobin": 3e-2, "mhca": 1e-2, "ep": 1e-2, "abmilp": 1e-2, "conv": 3e-3}


@pytest.mark.parametrize("task_kind", ["multilabel", "multiclass"])
def test_every_head_learns_a_tiny_separable_problem(task_kind: str) -> None:
    data = ProbeData(
        task_kind,
        3,
        16,
        2,
        separable_problem(96, 0, task_kind),
        separable_problem(32, 1, task_kind),
        separable_problem(64, 2, task_kind),
    )
    specs = [
        ProbeSpec(
            name,
            SMALL.get(name, {}),
            TrainSettings(lr=LR.get(name, 3e-2), weight_decay=1e-4, epochs=12, batch_size=16),
        )
        for name in HEADS
    ]
    results = train_probes(data, specs)  # all eleven heads on one pass over the data
    scores = {spec.head: r.test["score"] for spec, r in zip(specs, results, strict=True)}
    assert min(scores.values()) > 0.9, scores


def test_heads_on_one_pass_train_exactly_as_they_would_alone() -> None:
    data = localized_data()
    specs = [
        ProbeSpec("linear", {}, TrainSettings(lr=1e-2, weight_decay=1e-4, epochs=4, batch_size=32)),
        ProbeSpec("mhca", {}, TrainSettings(lr=1e-3, weight_decay=1e-4, epochs=4, batch_size=32)),
        ProbeSpec(
            "protobin", PROTO, TrainSettings(lr=3e-2, weight_decay=0, epochs=4, batch_size=32)
        ),
    ]
    together = train_probes(data, specs)
    for spec, shared in zip(specs, together, strict=True):
        alone = train_probe(data, spec.head, spec.params, spec.settings)
        assert shared.valid_history == alone.valid_history
        assert shared.test == alone.test
    with pytest.raises(ValueError, match="share epochs and batch_size"):
        train_probes(data, [specs[0], ProbeSpec("linear", {}, TrainSettings(1e-2, 0, epochs=3))])


def test_a_callback_stops_one_head_early_and_the_others_go_on() -> None:
    settings = TrainSettings(lr=1e-2, weight_decay=1e-4, epochs=5, batch_size=64)
    calls = []

    def on_epoch(index: int, epoch: int, valid: dict[str, float]) -> bool:
        calls.append((index, epoch))
        return not (index == 0 and epoch == 1)  # prune head 0 after its second epoch

    first, second = train_probes(
        localized_data(),
        [ProbeSpec("linear", {}, settings), ProbeSpec("linpre", {}, settings)],
        on_epoch=on_epoch,
    )
    assert first.epochs_run == 2 and len(first.valid_history) == 2
    assert second.epochs_run == 5 and first.test is not None
    assert calls.count((0, 2)) == 0 and (1, 4) in calls

    reported = []
    train_probe(localized_data(), "linear", {}, settings, on_epoch=lambda e, v: reported.append(e))
    assert reported == [0, 1, 2, 3, 4]  # the search's callback: every epoch, nothing returned


def test_training_streamed_from_the_store_learns_as_well(tmp_path: Path) -> None:
    data = ProbeData.from_set(localized_store(tmp_path / "db"), memory_budget=0)
    assert data.streamed == ("train", "valid", "test")
    settings = TrainSettings(lr=3e-2, weight_decay=1e-4, epochs=15, batch_size=32)
    result = train_probe(data, "protobin", PROTO, settings)
    assert result.test is not None and result.test["map"] > 0.85


def test_a_diverging_head_gets_a_nan_score_not_an_exception() -> None:
    settings = TrainSettings(lr=1e37, weight_decay=0.0, epochs=2, batch_size=64)
    result = train_probe(localized_data(), "mlp", {}, settings)
    assert result.epochs_run == 2 and result.best_epoch == 0
    assert np.isnan(result.valid_history).all() and np.isnan(result.test["score"])


def test_metrics() -> None:
    targets = np.array([0, 1, 2, 1])
    scores = np.eye(3)[[0, 1, 1, 1]]
    result = evaluate("multiclass", targets, scores)
    assert result["score"] == result["accuracy"] == pytest.approx(0.75)
    assert set(result) == {"score", "accuracy", "auroc", "f1"}
    ml = evaluate(
        "multilabel",
        np.array([[1, 0], [0, 1], [1, 0]]),
        np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]),
    )
    assert ml["map"] == pytest.approx(1.0) and ml["auroc"] == pytest.approx(1.0)
    assert ml["f1"] == pytest.approx(1.0)
    nan = evaluate("multilabel", np.array([[1, 0]]), np.array([[np.nan, 0.5]]))
    assert np.isnan(nan["score"])


@pytest.mark.parametrize("seed", range(4))
def test_metrics_equal_scikit_learns_definitions_with_ties(seed: int) -> None:
    from sklearn import metrics as sk

    rng = np.random.default_rng(seed)
    n, c = 60, 7
    targets = (rng.random((n, c)) < 0.3).astype(np.float32)
    targets[:, 0] = 0  # a class without positives: left out of the averages
    targets[:, 1] = 1  # one without negatives: it has an AP but no AUROC
    scores = np.round(rng.random((n, c)), 1)  # coarse scores: many ties
    present, defined = slice(1, None), slice(2, None)
    result = evaluate("multilabel", targets, scores)
    assert result["map"] == pytest.approx(
        sk.average_precision_score(targets[:, present], scores[:, present], average="macro")
    )
    assert result["auroc"] == pytest.approx(
        sk.roc_auc_score(targets[:, defined], scores[:, defined], average="macro")
    )
    assert result["f1"] == pytest.approx(
        sk.f1_score(targets, scores >= 0.5, average="macro", zero_division=0)
    )
    labels = rng.integers(0, c, n)
    labels[labels == 3] = 4  # a class never true
    probabilities = np.round(rng.random((n, c)), 1)
    result = evaluate("multiclass", labels, probabilities)
    predictions = probabilities.argmax(axis=1)
    assert result["accuracy"] == pytest.approx(sk.accuracy_score(labels, predictions))
    assert result["f1"] == pytest.approx(
        sk.f1_score(labels, predictions, average="macro", zero_division=0)
    )
    present_classes = np.unique(labels)
    one_hot = np.eye(c)[labels]
    assert result["auroc"] == pytest.approx(
        sk.roc_auc_score(one_hot[:, present_classes], probabilities[:, present_classes])
    )
