"""Evaluation metrics on numpy arrays, with scikit-learn's definitions (tests hold them equal to
scikit-learn on random data with ties). Written here because every trial process evaluates, and
importing scikit-learn costs a trial process about a second of start-up, which short searches pay
in full (`make bench BENCH=tune`).

Macro averages (mAP, AUROC) run over the classes for which the metric is defined in the
evaluation split: a class without positives has no AP (and no AUROC without negatives too);
counting it as 0 would punish the probe for the split, not for its predictions. A metric that is
undefined on the split is left out. Scores that are not finite (a diverged probe) give a NaN
score instead of an exception, so model selection and the search see the failure and move on.
"""

from __future__ import annotations

import numpy as np


def average_precision(targets: np.ndarray, scores: np.ndarray) -> float:
    """AP of one class: the sum over distinct score thresholds, from the highest, of the recall
    gained times the precision there (no interpolation). Needs a positive."""
    order = np.argsort(-scores, kind="mergesort")
    hits = targets[order] > 0
    ranked = scores[order]
    last_of_threshold = np.r_[np.flatnonzero(np.diff(ranked)), len(ranked) - 1]
    true_positives = np.cumsum(hits)[last_of_threshold]
    precision = true_positives / (last_of_threshold + 1)
    recall_gained = np.diff(true_positives, prepend=0) / true_positives[-1]
    return float(np.sum(recall_gained * precision))


def auroc(targets: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve of one class (ties count half): the Mann-Whitney statistic over
    average ranks. Needs a positive and a negative."""
    order = np.argsort(scores, kind="mergesort")
    ranked = scores[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ranked)) + 1]
    ends = np.r_[starts[1:], len(ranked)]
    ranks = np.empty(len(scores))
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    positive = targets > 0
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def macro_map(targets: np.ndarray, scores: np.ndarray) -> float:
    present = np.flatnonzero(targets.sum(axis=0) > 0)
    if not len(present):
        return float("nan")
    return float(np.mean([average_precision(targets[:, c], scores[:, c]) for c in present]))


def macro_auroc(targets: np.ndarray, scores: np.ndarray) -> float:
    """One-vs-rest AUROC averaged over the classes with both positives and negatives."""
    positives = targets.sum(axis=0)
    defined = np.flatnonzero((positives > 0) & (positives < len(targets)))
    if not len(defined):
        return float("nan")
    return float(np.mean([auroc(targets[:, c], scores[:, c]) for c in defined]))


def macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """F1 per class from (N, C) boolean indicators, averaged; a class never true nor predicted
    scores 0."""
    true_positives = (truth & predicted).sum(axis=0)
    denominator = truth.sum(axis=0) + predicted.sum(axis=0)
    f1 = np.divide(
        2 * true_positives, denominator, out=np.zeros(truth.shape[1]), where=denominator > 0
    )
    return float(f1.mean())


def evaluate(task_kind: str, targets: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Headline metric under "score" (macro mAP or accuracy), plus the detailed ones: AUROC and
    macro-F1 (multi-label: a class is predicted at probability >= 0.5; multi-class: argmax)."""
    name = metric_name(task_kind)
    if not np.isfinite(scores).all():
        return {"score": float("nan"), name: float("nan")}
    if task_kind == "multilabel":
        result = {"map": macro_map(targets, scores), "auroc": macro_auroc(targets, scores)}
        result["f1"] = macro_f1(targets > 0, scores >= 0.5)
    else:
        predictions = scores.argmax(axis=1)
        one_hot = np.eye(scores.shape[1], dtype=np.float32)[targets]
        # as scikit-learn: macro-F1 over the classes that occur in the targets or predictions
        seen = np.union1d(targets, predictions)
        result = {
            "accuracy": float(np.mean(predictions == targets)),
            "auroc": macro_auroc(one_hot, scores),
            "f1": macro_f1(
                one_hot[:, seen] > 0, np.eye(scores.shape[1], dtype=bool)[predictions][:, seen]
            ),
        }
    defined = {key: value for key, value in result.items() if not np.isnan(value)}
    return {"score": result[name], **defined}


def metric_name(task_kind: str) -> str:
    return "map" if task_kind == "multilabel" else "accuracy"
