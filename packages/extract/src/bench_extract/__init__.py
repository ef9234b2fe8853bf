"""Ray Data extraction of frozen-encoder token maps into the bench store."""

from bench_extract.pipeline import ExtractOptions, ExtractSummary, extract

__all__ = ["ExtractOptions", "ExtractSummary", "extract"]
