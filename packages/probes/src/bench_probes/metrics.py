"""Evaluation metrics, computed by scikit-learn (a tested implementation) on numpy arrays.

Macro mAP averages average precision over the classes that have at least one positive in the
evaluation split: a class absent from a split has no defined AP, and counting it as 0 would
punish the probe for the split, not for its predictions.
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


def evaluate(task_kind: str, targets: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Headline metric under "score" (macro mAP or accuracy), plus the detailed ones."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task_kind == "multilabel":
            present = targets.sum(axis=0) > 0
            both = present & (targets.sum(axis=0) < len(targets))
            result = {"score": macro_map(targets, scores), "map": macro_map(targets, scores)}
            if both.any():
                result["auroc"] = float(
                    roc_auc_score(targets[:, both], scores[:, both], average="macro")
                )
            result["f1"] = float(f1_score(targets, scores >= 0.5, average="macro", zero_division=0))
            return result
        predictions = scores.argmax(axis=1)
        accuracy = float(accuracy_score(targets, predictions))
        return {
            "score": accuracy,
            "accuracy": accuracy,
            "f1": float(f1_score(targets, predictions, average="macro", zero_division=0)),
        }


def metric_name(task_kind: str) -> str:
    return "map" if task_kind == "multilabel" else "accuracy"
