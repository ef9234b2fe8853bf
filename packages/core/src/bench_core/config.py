"""Typed YAML configuration.

Every config under `configs/` is validated by a pydantic model that lives next to the code it
configures (datasets in bench_audio, backbones in bench_encoders, poolings and search spaces in
bench_probes). This module only knows how to find and validate files, so there is one way to load
any of them and one error format for all of them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from bench_core.errors import ConfigError

CONFIG_DIR_ENV = "BENCH_CONFIG_DIR"


class Config(BaseModel):
    """Base of every config model: unknown keys are errors (typos must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ConfigT = TypeVar("ConfigT", bound=BaseModel)


def config_dir() -> Path:
    """The configs/ directory: $BENCH_CONFIG_DIR, else the one of this monorepo checkout."""
    if env := os.environ.get(CONFIG_DIR_ENV):
        path = Path(env)
    else:
        path = Path(__file__).resolve().parents[4] / "configs"
    if not path.is_dir():
        raise ConfigError(
            f"config directory {path} not found; set {CONFIG_DIR_ENV} to the folder that holds "
            "datasets/, backbones/, poolings/ and search/"
        )
    return path


def _format_validation(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "<root>"
        lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)


def validate_config(data: object, model: type[ConfigT], source: str) -> ConfigT:
    """Validate already-parsed data; `source` names where it came from in the error message."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ConfigError(
            f"invalid {model.__name__} in {source}:\n{_format_validation(error)}"
        ) from None


def load_config(path: str | Path, model: type[ConfigT]) -> ConfigT:
    """Read one YAML file and validate it against `model`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from None
    return validate_config(data if data is not None else {}, model, str(path))


def list_configs(kind: str) -> list[str]:
    """Names of the configs of one kind (`datasets`, `backbones`, ...), sorted."""
    folder = config_dir() / kind
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load_named_config(kind: str, name: str, model: type[ConfigT]) -> ConfigT:
    """Load `configs/<kind>/<name>.yaml`; an unknown name lists the known ones."""
    path = config_dir() / kind / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(list_configs(kind)) or "none"
        raise ConfigError(f"unknown {kind[:-1]} '{name}'; known: {known}")
    return load_config(path, model)
