"""Dataset readers, one module per official layout; each registers itself by name."""

from bench_audio.readers import (  # noqa: F401  (registration side effect)
    audioset,
    birdset,
    esc50,
    fsd50k,
    hf,
    manifest,
    speechcommands,
    synthetic,
    urbansed,
)
from bench_audio.readers.registry import ReaderSpec, get_reader, list_readers, register_reader

__all__ = ["ReaderSpec", "get_reader", "list_readers", "register_reader"]
