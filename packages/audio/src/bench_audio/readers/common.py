"""What every reader shares: typed options, and collecting clips with per-clip problems."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from bench_audio.config import DatasetConfig
from bench_audio.types import Clip, ClipProblem, Dataset, DatasetInfo
from bench_core import Config, MissingResourceError
from bench_core.config import validate_config

OptionsT = TypeVar("OptionsT", bound=Config)


def parse_options(config: DatasetConfig, model: type[OptionsT]) -> OptionsT:
    """The config's `options` validated by the reader's own model (unknown keys are errors)."""
    return validate_config(config.options, model, f"options of dataset '{config.name}'")


def require(path: Path, what: str) -> Path:
    """`path` if it exists, else an error that names the layout the reader expected."""
    if not path.exists():
        raise MissingResourceError(f"{path} not found: {what}")
    return path


class ClipCollector:
    """Accepts good clips, records rejected ones with their reason, and refuses duplicate ids."""

    def __init__(self) -> None:
        self.clips: list[Clip] = []
        self.problems: list[ClipProblem] = []
        self._ids: set[str] = set()

    def add(self, clip: Clip) -> None:
        if clip.clip_id in self._ids:
            self.reject(clip.clip_id, "duplicate clip id (kept the first)")
            return
        self._ids.add(clip.clip_id)
        self.clips.append(clip)

    def reject(self, clip_id: str, reason: str) -> None:
        self.problems.append(ClipProblem(clip_id, "read", reason))

    def dataset(self, info: DatasetInfo) -> Dataset:
        return Dataset(info=info, clips=self.clips, problems=self.problems)
