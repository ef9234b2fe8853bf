"""Frozen audio encoders: registry, front-ends, and official checkpoint converters."""

from bench_encoders.asit import ASIT_PRESETS, asit_checkpoint_filter_fn, build_asit
from bench_encoders.audiomae import AUDIOMAE_PRESETS, audiomae_checkpoint_filter_fn, build_audiomae
from bench_encoders.base import AudioEncoder, EncoderInfo, EncoderOutput
from bench_encoders.beats import (
    BEATS_PRESETS,
    BEATsEncoder,
    beats_checkpoint_filter_fn,
    build_beats_for_checkpoint,
)
from bench_encoders.birdnet import birdnet_available, bundled_model_file, load_birdnet
from bench_encoders.checkpoints import CheckpointError, load_state_dict
from bench_encoders.dasheng import DASHENG_PRESETS, DashengEncoder, dasheng_checkpoint_filter_fn
from bench_encoders.eat import EAT_PRESETS, EATEncoder, eat_checkpoint_filter_fn
from bench_encoders.registry import (
    Architecture,
    BackboneConfig,
    Weights,
    create_encoder,
    get_arch,
    list_backbones,
    load_backbone_config,
    register_arch,
)

register_arch(
    Architecture(
        name="eat",
        build=lambda name, preset: EATEncoder(name, preset, EAT_PRESETS[preset]),
        checkpoint_filter_fn=eat_checkpoint_filter_fn,
        presets=tuple(EAT_PRESETS),
    )
)
register_arch(
    Architecture(
        name="audiomae",
        build=build_audiomae,
        checkpoint_filter_fn=audiomae_checkpoint_filter_fn,
        presets=tuple(AUDIOMAE_PRESETS),
    )
)
register_arch(
    Architecture(
        name="asit",
        build=build_asit,
        checkpoint_filter_fn=asit_checkpoint_filter_fn,
        presets=tuple(ASIT_PRESETS),
    )
)
register_arch(
    Architecture(
        name="birdnet", load_model_file=load_birdnet, bundled_checkpoint=bundled_model_file
    )
)

register_arch(
    Architecture(
        name="beats",
        build=lambda name, preset: BEATsEncoder(name, preset, BEATS_PRESETS[preset]),
        checkpoint_filter_fn=beats_checkpoint_filter_fn,
        presets=tuple(BEATS_PRESETS),
        build_for_checkpoint=build_beats_for_checkpoint,
    )
)
register_arch(
    Architecture(
        name="dasheng",
        build=lambda name, preset: DashengEncoder(name, preset, DASHENG_PRESETS[preset]),
        checkpoint_filter_fn=dasheng_checkpoint_filter_fn,
        presets=tuple(DASHENG_PRESETS),
    )
)

__all__ = [
    "Architecture",
    "AudioEncoder",
    "BackboneConfig",
    "CheckpointError",
    "EncoderInfo",
    "EncoderOutput",
    "Weights",
    "birdnet_available",
    "create_encoder",
    "get_arch",
    "list_backbones",
    "load_backbone_config",
    "load_state_dict",
    "register_arch",
]
