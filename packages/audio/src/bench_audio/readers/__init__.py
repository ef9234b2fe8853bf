"""Dataset readers, one module per official layout; each registers itself by name."""

from bench_audio.readers import esc50, synthetic  # noqa: F401  (registration side effect)
from bench_audio.readers.registry import ReaderSpec, get_reader, list_readers, register_reader

__all__ = ["ReaderSpec", "get_reader", "list_readers", "register_reader"]
