"""File-system helpers shared by the readers: listing audio folders, stable seeded fractions."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".mp3"})
"""What soundfile's bundled libsndfile decodes (see bench_audio.decode)."""


def list_audio(folder: Path, recursive: bool = True) -> dict[str, str]:
    """Paths of the audio files under `folder` by file name (on duplicate names, one of them,
    deterministically).

    One directory listing replaces a `stat` per clip: checking 2 million AudioSet clips for
    existence this way takes seconds instead of minutes, on network file systems too. Paths stay
    strings: a `Path` per file would cost more than the listing itself.
    """
    found: dict[str, str] = {}
    if not folder.is_dir():
        return found
    stack = [str(folder)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=True):
                    if recursive:
                        stack.append(entry.path)
                elif os.path.splitext(entry.name)[1].lower() in AUDIO_SUFFIXES:
                    found.setdefault(entry.name, entry.path)
    return found


def stable_fraction(key: str, seed: int) -> float:
    """A number in [0, 1) fixed by (`seed`, `key`): a clip's draw for a seeded random split that
    does not change when other clips are added or go missing."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
