"""Typed dataset configs (configs/datasets/<name>.yaml)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, PositiveFloat

from bench_core import Config, MissingResourceError, load_named_config


class DatasetConfig(Config):
    """Where a dataset lives and how the paper's protocol reads it.

    `root` may be given in the file, by the environment variable `root_env`, or on the command line
    (`--data-root`); the reader validates the layout it finds there.
    """

    name: str
    reader: str
    description: str = ""
    root: Path | None = None
    root_env: str | None = None
    clip_seconds: PositiveFloat | None = Field(
        default=None, description="crop clips to this length (the paper's clip length)"
    )
    options: dict[str, Any] = Field(default_factory=dict)

    def resolve_root(self, override: str | Path | None = None) -> Path:
        """The dataset root from the override, the environment, or the file, in that order."""
        candidates: list[tuple[str, str | Path | None]] = [
            ("--data-root", override),
            (f"${self.root_env}" if self.root_env else "", os.environ.get(self.root_env or "")),
            (f"configs/datasets/{self.name}.yaml root", self.root),
        ]
        for origin, value in candidates:
            if value:
                path = Path(value).expanduser()
                if not path.exists():
                    raise MissingResourceError(
                        f"dataset '{self.name}': root {path} (from {origin}) does not exist"
                    )
                return path
        how = f"set ${self.root_env} or pass --data-root" if self.root_env else "pass --data-root"
        raise MissingResourceError(
            f"dataset '{self.name}' is not on this machine: {how} with the folder of its official "
            f"layout ({self.description or self.reader})"
        )


def load_dataset_config(name: str) -> DatasetConfig:
    return load_named_config("datasets", name, DatasetConfig)
