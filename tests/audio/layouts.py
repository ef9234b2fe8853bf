"""Writers of tiny datasets in their publishers' official layouts (file names, CSV headers, folders)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile as sf

CATEGORIES = ["dog", "rooster", "rain"]


def make_esc50(root: Path, missing: str | None = None) -> Path:
    """A tiny ESC-50 in the official layout: meta/esc50.csv + audio/<fold>-<src>-<take>-<target>.wav."""
    (root / "meta").mkdir(parents=True)
    (root / "audio").mkdir()
    rows = []
    for fold in range(1, 6):
        for target, category in enumerate(CATEGORIES):
            name = f"{fold}-{100 + target}-A-{target}.wav"
            rows.append([name, fold, target, category, "False", str(100 + target), "A"])
            if name != missing:
                sf.write(root / "audio" / name, np.zeros(44100 * 5, dtype=np.float32), 44100)
    with (root / "meta" / "esc50.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["filename", "fold", "target", "category", "esc10", "src_file", "take"])
        writer.writerows(rows)
    return root
