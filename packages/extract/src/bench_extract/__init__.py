"""Ray Data extraction of frozen-encoder token maps into the bench store, and imports of token
maps computed elsewhere."""

from bench_extract.estimate import ExtractEstimate, estimate
from bench_extract.importer import ImportSummary, TokenLayout, import_tokens, read_label_manifest
from bench_extract.pipeline import ExtractOptions, ExtractSummary, extract

__all__ = [
    "ExtractEstimate",
    "ExtractOptions",
    "ExtractSummary",
    "ImportSummary",
    "TokenLayout",
    "estimate",
    "extract",
    "import_tokens",
    "read_label_manifest",
]
