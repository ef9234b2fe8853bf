"""The results table: one row per probe training run (search trial, final seeded run, or single
`bench train`), keyed by the identity of the embedding set it was trained on (MTEB-style)."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from bench_core import code_version

RESULTS_TABLE = "runs"

RESULTS_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("experiment", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("dataset", pa.string()),
        pa.field("backbone", pa.string()),
        pa.field("pooling", pa.string()),
        pa.field("embedding_set", pa.string()),
        pa.field("identity_hash", pa.string()),
        pa.field("hparams", pa.string()),
        pa.field("seed", pa.int64()),
        pa.field("metric", pa.string()),
        pa.field("valid_score", pa.float64()),
        pa.field("test_score", pa.float64()),
        pa.field("metrics", pa.string()),
        pa.field("epochs", pa.int64()),
        pa.field("train_seconds", pa.float64()),
        pa.field("created_at", pa.float64()),
        pa.field("code_version", pa.string()),
    ]
)


@dataclass(frozen=True)
class RunRecord:
    """A finished training run. `kind` is "trial" (search), "final" (seeded re-run) or "train"."""

    experiment: str
    kind: str
    dataset: str
    backbone: str
    pooling: str
    embedding_set: str
    identity_hash: str
    hparams: dict[str, Any]
    seed: int
    metric: str
    valid_score: float
    test_score: float | None
    metrics: dict[str, float]
    epochs: int
    train_seconds: float
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: float = field(default_factory=time.time)
    code_version: str = field(default_factory=code_version)

    def to_row(self) -> dict[str, Any]:
        row = dict(self.__dict__)
        row["hparams"] = json.dumps(self.hparams, sort_keys=True)
        row["metrics"] = json.dumps(self.metrics, sort_keys=True)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RunRecord:
        data = dict(row)
        data["hparams"] = json.loads(data["hparams"])
        data["metrics"] = json.loads(data["metrics"])
        return cls(**data)


@dataclass(frozen=True)
class ResultSummary:
    """Final (seeded) runs of one (dataset, backbone, pooling), as mean and sd of the test score."""

    dataset: str
    backbone: str
    pooling: str
    metric: str
    mean: float
    sd: float
    n: int
    valid_mean: float
    embedding_set: str
    hparams: dict[str, Any]


def summarize_runs(runs: list[RunRecord]) -> list[ResultSummary]:
    """Summaries of the final runs; for each (dataset, backbone) only the newest embedding set
    counts, so re-extracting with new weights never averages old and new numbers together."""
    finals = [r for r in runs if r.kind == "final" and r.test_score is not None]
    newest_set: dict[tuple[str, str], tuple[float, str]] = {}
    for run in finals:
        key = (run.dataset, run.backbone)
        if key not in newest_set or run.created_at > newest_set[key][0]:
            newest_set[key] = (run.created_at, run.embedding_set)
    groups: dict[tuple[str, str, str], list[RunRecord]] = {}
    for run in finals:
        if run.embedding_set == newest_set[(run.dataset, run.backbone)][1]:
            groups.setdefault((run.dataset, run.backbone, run.pooling), []).append(run)
    summaries = []
    for (dataset, backbone, pooling), group in sorted(groups.items()):
        scores = [r.test_score for r in group if r.test_score is not None]
        summaries.append(
            ResultSummary(
                dataset=dataset,
                backbone=backbone,
                pooling=pooling,
                metric=group[0].metric,
                mean=statistics.fmean(scores),
                sd=statistics.stdev(scores) if len(scores) > 1 else 0.0,
                n=len(scores),
                valid_mean=statistics.fmean(r.valid_score for r in group),
                embedding_set=group[0].embedding_set,
                hparams=max(group, key=lambda r: r.created_at).hparams,
            )
        )
    return summaries
