"""The bench token store (LanceDB): embedding sets, failures and results. No torch import here."""

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
    "OptimizeReport",
    "PendingFragment",
    "ResultSummary",
    "RunRecord",
    "SetInfo",
    "TokenBatch",
    "TokenDType",
    "TokenStore",
    "identity_hash",
    "optimize_set",
    "summarize_runs",
    "table_name",
]
