"""Ray Data extraction of frozen-encoder token maps into the bench store, and the import of token
maps computed elsewhere."""

from bench_extract.importer import ImportSummary, TokenLayout, import_tokens, read_label_manifest
from bench_extract.pipeline import ExtractOptions, ExtractSummary, extract

__all__ = [
    "ExtractOptions",
    "ExtractSummary",
    "ImportSummary",
    "TokenLayout",
    "extract",
    "import_tokens",
    "read_label_manifest",
]
