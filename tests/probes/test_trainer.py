import numpy as np
import pytest

from bench_probes import ProbeData, SplitArrays, TrainSettings, evaluate, train_probe


def localized_problem(n: int, seed: int) -> SplitArrays:
    """Multi-label toy task: a class is present iff one token carries its (dense) direction. The
    token mean dilutes that token by 1/(T*F), so only token-level scoring sees it clearly."""
    rng = np.random.default_rng(seed)
    t, f, d, c = 24, 2, 32, 3
    tokens = rng.standard_normal((n, t, f, d)).astype(np.float32) * 0.5
    targets = (rng.random((n, c)) < 0.4).astype(np.float32)
    directions = np.random.default_rng(123).standard_normal((c, d)).astype(np.float32)
    directions *= 4 / np.linalg.norm(directions, axis=1, keepdims=True)
    for i in range(n):
        for k in np.flatnonzero(targets[i]):
            tokens[i, rng.integers(t), rng.integers(f)] += directions[k]
    mask = np.ones((n, t), dtype=bool)
    return SplitArrays(
        tokens.astype(np.float16),
        mask,
        tokens.mean(axis=(1, 2)),
        targets,
        tuple(map(str, range(n))),
    )


def data() -> ProbeData:
    return ProbeData(
        "multilabel",
        3,
        32,
        2,
        localized_problem(200, 0),
        localized_problem(60, 1),
        localized_problem(60, 2),
    )


PROTO = {"prototypes_per_class": 20}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_protobin_learns_a_localized_problem(seed: int) -> None:
    settings = TrainSettings(lr=3e-2, weight_decay=1e-4, epochs=20, batch_size=32, seed=seed)
    result = train_probe(data(), "protobin", PROTO, settings)
    assert result.test is not None and result.test["map"] > 0.9
    assert len(result.valid_history) == 20 and 0 <= result.best_epoch < 20
    assert result.valid["score"] == max(result.valid_history)  # best-validation selection


def test_linear_on_the_mean_is_weaker_on_localized_events() -> None:
    linear = train_probe(
        data(), "linear", {}, TrainSettings(lr=1e-2, weight_decay=1e-4, epochs=20, batch_size=32)
    )
    proto = train_probe(
        data(),
        "protobin",
        PROTO,
        TrainSettings(lr=3e-2, weight_decay=1e-4, epochs=20, batch_size=32),
    )
    assert proto.test["map"] > linear.test["map"] + 0.2


def test_multiclass_accuracy_and_metrics() -> None:
    targets = np.array([0, 1, 2, 1])
    scores = np.eye(3)[[0, 1, 1, 1]]
    result = evaluate("multiclass", targets, scores)
    assert result["score"] == result["accuracy"] == pytest.approx(0.75)
    ml = evaluate(
        "multilabel",
        np.array([[1, 0], [0, 1], [1, 0]]),
        np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]),
    )
    assert ml["map"] == pytest.approx(1.0) and ml["auroc"] == pytest.approx(1.0)
