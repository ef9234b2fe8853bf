"""The bench token store (LanceDB): embedding sets, failures and results. No torch import here."""

from bench_store.analysis import (
    GroupMean,
    RankChange,
    WinMatrix,
    dataset_groups,
    group_means,
    rank_changes,
    win_matrix,
)
from bench_store.codecs import TokenDType
from bench_store.embeddings import CommitOutcome, EmbeddingSet
from bench_store.fragments import FragmentWriter, PendingFragment
from bench_store.identity import identity_hash, table_name
from bench_store.maintenance import OptimizeReport, optimize_set
from bench_store.results import ResultSummary, RunRecord, summarize_runs
from bench_store.schema import ClipTokens, SetInfo, TokenBatch
from bench_store.store import TokenStore

__all__ = [
    "ClipTokens",
    "CommitOutcome",
    "EmbeddingSet",
    "FragmentWriter",
    "GroupMean",
    "OptimizeReport",
    "PendingFragment",
    "RankChange",
    "ResultSummary",
    "RunRecord",
    "SetInfo",
    "TokenBatch",
    "TokenDType",
    "TokenStore",
    "WinMatrix",
    "dataset_groups",
    "group_means",
    "identity_hash",
    "optimize_set",
    "rank_changes",
    "summarize_runs",
    "table_name",
    "win_matrix",
]
