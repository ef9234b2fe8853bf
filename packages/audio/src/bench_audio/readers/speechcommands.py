"""Speech Commands v0.02 (sc2) in its release layout, with the 12-class keyword-spotting protocol.

Layout: one folder per word (`yes/0a7c2a8d_nohash_0.wav`, 35 words in v0.02), `_background_noise_/`
(six long noise recordings), `validation_list.txt` and `testing_list.txt` (paths relative to the
root, one per line).

Protocol: 12 classes, the ten words yes/no/up/down/left/right/on/off/stop/go, `_unknown_` (every
other word) and `_silence_`. Files in testing_list.txt are the test split, in validation_list.txt
the validation split, all others train. `_silence_` clips are consecutive 1 s crops of the
background-noise files (Clip.start/duration select them); the crops of each noise file are split
by position, the first `silence_fractions[0]` to train, the next to valid, the last to test, so
no test crop overlaps a training crop. Clip length 1 s; shorter utterances are not padded.
"""

from __future__ import annotations

from pathlib import Path

import soundfile as sf
from pydantic import Field, model_validator

from bench_audio.config import DatasetConfig
from bench_audio.files import list_audio
from bench_audio.readers.common import ClipCollector, parse_options, require
from bench_audio.readers.registry import register_reader
from bench_audio.types import Clip, Dataset, DatasetInfo, TaskKind
from bench_core import Config

WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
UNKNOWN, SILENCE = "_unknown_", "_silence_"
NOISE = "_background_noise_"


class SpeechCommandsOptions(Config):
    words: tuple[str, ...] = WORDS
    silence_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    silence_seconds: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _fractions_sum_to_one(self) -> SpeechCommandsOptions:
        if abs(sum(self.silence_fractions) - 1.0) > 1e-6 or min(self.silence_fractions) < 0:
            raise ValueError("silence_fractions must be three non-negative numbers summing to 1")
        return self


def _listed(root: Path, name: str) -> set[str]:
    path = require(root / name, f"Speech Commands root {root} must hold {name}")
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def _silence(root: Path, options: SpeechCommandsOptions, label: int, out: ClipCollector) -> None:
    """1 s crops of every background-noise recording, split by position (see module doc)."""
    for name, path in sorted(list_audio(root / NOISE, recursive=False).items()):
        try:
            seconds = sf.info(path).duration
        except (sf.LibsndfileError, RuntimeError) as error:
            out.reject(f"{SILENCE}/{Path(name).stem}", f"unreadable noise file {path}: {error}")
            continue
        n = int(seconds // options.silence_seconds)
        n_train = round(options.silence_fractions[0] * n)
        n_valid = round(options.silence_fractions[1] * n)
        for k in range(n):
            split = "train" if k < n_train else "valid" if k < n_train + n_valid else "test"
            clip_id = f"{SILENCE}/{Path(name).stem}_{k:04d}"
            start = k * options.silence_seconds
            out.add(
                Clip(
                    clip_id,
                    split,
                    (label,),
                    path,
                    start=start,
                    duration=options.silence_seconds,
                )
            )


@register_reader("speechcommands", kind=TaskKind.MULTICLASS)
def read_speechcommands(config: DatasetConfig, root: Path | None) -> Dataset:
    assert root is not None
    options = parse_options(config, SpeechCommandsOptions)
    class_names = (*options.words, UNKNOWN, SILENCE)
    index = {name: i for i, name in enumerate(class_names)}
    testing, validation = _listed(root, "testing_list.txt"), _listed(root, "validation_list.txt")
    out = ClipCollector()
    seen: set[str] = set()
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("_")):
        label = index.get(folder.name, index[UNKNOWN])
        for name, path in sorted(list_audio(folder, recursive=False).items()):
            relative = f"{folder.name}/{name}"
            seen.add(relative)
            split = (
                "test" if relative in testing else "valid" if relative in validation else "train"
            )
            out.add(Clip(relative.removesuffix(".wav"), split, (label,), path=path))
    for relative in sorted((testing | validation) - seen):
        out.reject(relative.removesuffix(".wav"), f"missing file {root / relative} (listed)")
    _silence(root, options, index[SILENCE], out)
    info = DatasetInfo(
        name=config.name,
        kind=TaskKind.MULTICLASS,
        class_names=class_names,
        sample_rate=16000,
        clip_seconds=config.clip_seconds,
    )
    return out.dataset(info)
