"""Evaluation metrics, computed by scikit-learn (a tested implementation) on numpy arrays.

Macro averages (mAP, AUROC) run over the classes for which the metric is defined in the
evaluation split: a class without positives has no AP (and no AUROC without negatives too);
counting it as 0 would punish the probe for the split, not for its predictions. A metric that is
undefined on the split is left out. Scores that are not finite (a diverged probe) give a NaN
score instead of an exception, so model selection and the search see the failure and move on.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, roc_auc_score


def macro_map(targets: np.ndarray, scores: np.ndarray) -> float:
    present = targets.sum(axis=0) > 0
    if not present.any():
        return float("nan")
    return float(average_precision_score(targets[:, present], scores[:, present], average="macro"))


def macro_auroc(targets: np.ndarray, scores: np.ndarray) -> float:
    """One-vs-rest AUROC averaged over the classes with both positives and negatives."""
    positives = targets.sum(axis=0)
    defined = (positives > 0) & (positives < len(targets))
    if not defined.any():
        return float("nan")
    return float(roc_auc_score(targets[:, defined], scores[:, defined], average="macro"))


def evaluate(task_kind: str, targets: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Headline metric under "score" (macro mAP or accuracy), plus the detailed ones: AUROC and
    macro-F1 (multi-label: a class is predicted at probability >= 0.5; multi-class: argmax)."""
    name = metric_name(task_kind)
    if not np.isfinite(scores).all():
        return {"score": float("nan"), name: float("nan")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task_kind == "multilabel":
            result = {"map": macro_map(targets, scores), "auroc": macro_auroc(targets, scores)}
            result["f1"] = float(f1_score(targets, scores >= 0.5, average="macro", zero_division=0))
        else:
            predictions = scores.argmax(axis=1)
            one_hot = np.eye(scores.shape[1], dtype=np.float32)[targets]
            result = {
                "accuracy": float(accuracy_score(targets, predictions)),
                "auroc": macro_auroc(one_hot, scores),
                "f1": float(f1_score(targets, predictions, average="macro", zero_division=0)),
            }
    defined = {key: value for key, value in result.items() if not np.isnan(value)}
    return {"score": result[name], **defined}


def metric_name(task_kind: str) -> str:
    return "map" if task_kind == "multilabel" else "accuracy"
