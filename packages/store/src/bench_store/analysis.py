"""What the paper reads off its result tables: averages over dataset groups, the pooling-vs-pooling
win matrix, and how the ranking of backbones changes from one probe to another.

Everything here works on `ResultSummary` rows (final seeded runs, mean over seeds), so the numbers
agree with the per-dataset tables by construction.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench_store.results import ResultSummary


@dataclass(frozen=True)
class GroupMean:
    """Mean test score of one (backbone, pooling) over the datasets of a group that have it."""

    group: str
    backbone: str
    pooling: str
    metric: str
    mean: float
    datasets: int
    """How many of the group's datasets the mean covers (fewer than `group_size`: incomplete)."""
    group_size: int


@dataclass(frozen=True)
class WinMatrix:
    """wins[i][j]: on how many (dataset, backbone) pairs pooling i has a higher mean than pooling j
    (pairs where either is missing, and ties, count for neither)."""

    poolings: list[str]
    wins: list[list[int]]


@dataclass(frozen=True)
class RankChange:
    """Rank of a backbone among all backbones on one dataset under two probes (1 = best)."""

    dataset: str
    backbone: str
    before: int
    after: int

    @property
    def change(self) -> int:
        """Places gained going from the first probe to the second (positive = moved up)."""
        return self.before - self.after


def dataset_groups(
    summaries: Sequence[ResultSummary], groups: Mapping[str, Sequence[str]]
) -> dict[str, list[str]]:
    """The named groups that have results (with all their members, so an average can say how
    complete it is), plus one "other <metric>" group per metric for datasets in no group: a mean
    never mixes mAP with accuracy unless a group says so."""
    present = {s.dataset: s.metric for s in summaries}
    out = {
        name: list(members)
        for name, members in groups.items()
        if any(d in present for d in members)
    }
    grouped = {d for members in groups.values() for d in members}
    for dataset, metric in sorted(present.items()):
        if dataset not in grouped:
            out.setdefault(f"other {metric}", []).append(dataset)
    return out


def group_means(
    summaries: Sequence[ResultSummary], groups: Mapping[str, Sequence[str]]
) -> list[GroupMean]:
    """Per group, backbone and pooling: the mean over the group's datasets (as the paper averages
    "general audio" and "bioacoustics")."""
    means = []
    for group, members in dataset_groups(summaries, groups).items():
        cells: dict[tuple[str, str], list[ResultSummary]] = {}
        for s in summaries:
            if s.dataset in members:
                cells.setdefault((s.backbone, s.pooling), []).append(s)
        for (backbone, pooling), rows in sorted(cells.items()):
            metrics = sorted({r.metric for r in rows})
            means.append(
                GroupMean(
                    group=group,
                    backbone=backbone,
                    pooling=pooling,
                    metric="/".join(metrics),
                    mean=statistics.fmean(r.mean for r in rows),
                    datasets=len(rows),
                    group_size=len(members),
                )
            )
    return means


def win_matrix(summaries: Sequence[ResultSummary]) -> WinMatrix:
    """The paper's pooling-vs-pooling comparison over every (dataset, backbone) pair."""
    by_pair: dict[tuple[str, str], dict[str, float]] = {}
    for s in summaries:
        by_pair.setdefault((s.dataset, s.backbone), {})[s.pooling] = s.mean
    poolings = sorted({s.pooling for s in summaries})
    wins = [
        [
            sum(
                1
                for cell in by_pair.values()
                if row in cell and col in cell and cell[row] > cell[col]
            )
            for col in poolings
        ]
        for row in poolings
    ]
    return WinMatrix(poolings, wins)


def _ranks(scores: Mapping[str, float]) -> dict[str, int]:
    """Competition ranking (1 = best; equal scores share a rank)."""
    return {
        name: 1 + sum(other > score for other in scores.values()) for name, score in scores.items()
    }


def rank_changes(
    summaries: Sequence[ResultSummary], before: str = "linear", after: str = "protobin"
) -> list[RankChange]:
    """Per dataset, each backbone's rank under `before` and under `after`, over the backbones that
    have both: the paper's point that linear probing misjudges which encoder is best."""
    changes = []
    for dataset in sorted({s.dataset for s in summaries}):
        rows = [s for s in summaries if s.dataset == dataset]
        first = {s.backbone: s.mean for s in rows if s.pooling == before}
        second = {s.backbone: s.mean for s in rows if s.pooling == after}
        both = sorted(first.keys() & second.keys())
        if len(both) < 2:
            continue
        rank_a = _ranks({b: first[b] for b in both})
        rank_b = _ranks({b: second[b] for b in both})
        changes.extend(RankChange(dataset, b, rank_a[b], rank_b[b]) for b in both)
    return changes
