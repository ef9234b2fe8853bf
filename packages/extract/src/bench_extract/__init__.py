"""Ray Data extraction of frozen-encoder token maps into the bench store."""

from bench_extract.estimate import ExtractEstimate, estimate
from bench_extract.pipeline import ExtractOptions, ExtractSummary, extract

__all__ = ["ExtractEstimate", "ExtractOptions", "ExtractSummary", "estimate", "extract"]
