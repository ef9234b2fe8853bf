"""EAT (Chen et al. 2024) and SSLAM (Alex et al. 2025): data2vec 2.0 audio encoders, one architecture.

Architecture, after the official fairseq code (cwx-worst-one/EAT: models/images.py, base.py,
modules.py, mae.py, EAT_pretraining.py; ta012/SSLAM ships the same model files, its README says its
inference code "is identical to EAT"): a 16x16 Conv2d patch embedding over the (time x 128-mel)
fbank image, a fixed 2-D sin-cos position table covering up to `max_time_patches` x 8 patches added
to the patches only, one learned extra (cls) token prepended, a LayerNorm over the sequence (the
context encoder with `prenet_depth: 0` keeps only its norm), then post-norm blocks
(`layer_norm_first: False`) and no final norm. Tokens are time-major: (T, F) = (frames / 16, 8).

Checkpoints, both read by `eat_checkpoint_filter_fn`:
- official fairseq saves: pre-trained `{"model": {modality_encoders.IMAGE.*, blocks.*, decoder and
  EMA entries}, "cfg": ...}`, fine-tuned with the encoder under `model.` plus `fc_norm`/`head`;
- the official Hugging Face layout (worstchan/EAT-base_epoch30_pretrain, _finetune_AS2M, the
  EAT-large ones, and ta012/SSLAM_pretrain / SSLAM_AS2M_Finetuned, which ship the same remote
  code): a folder with `model.safetensors`. Key names read from that remote code
  (modeling_eat.py: `EATModel.model = EAT(config)`; eat_model.py: `local_encoder.proj`,
  `extra_tokens`, `fixed_positional_encoder.positions` (a stored 768 x 8 table), `pre_norm`,
  `blocks.*` (model_core.py `AltBlock`), and `fc_norm`/`head` in the fine-tuned variant), as
  found in the public code corpus, and cross-checked against third-party loaders of those files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from bench_encoders.base import AudioEncoder, EncoderInfo, WindowOutput
from bench_encoders.checkpoints import CheckpointError, convert_keys, strip_prefix
from bench_encoders.frontends import FbankConfig, KaldiFbank
from bench_encoders.layers import (
    PatchEmbed,
    PostNormBlock,
    run_blocks,
    sincos_2d,
    token_key_mask,
)
from bench_encoders.vit import ViTConfig

EAT_FBANK = FbankConfig(
    sample_rate=16000,
    num_mel_bins=128,
    window="hanning",
    htk_compat=True,
    subtract_wave_mean=True,
    norm_mean=-4.268,
    norm_std=4.569,
)


@dataclass(frozen=True)
class EATConfig(ViTConfig):
    """A ViT-B over 16x16 fbank patches like the others; its position table is longer than one
    window (`max_time_patches`), as the official code sizes it."""

    max_time_patches: int = 768


EAT_PRESETS: dict[str, EATConfig] = {
    "base": EATConfig(),
    "large": EATConfig(embed_dim=1024, depth=24, num_heads=16),
    "tiny": EATConfig(embed_dim=64, depth=2, num_heads=4, max_time_patches=128),
    # between tiny and base: enough compute per clip that benchmarks measure the encoder
    "small": EATConfig(embed_dim=192, depth=4, num_heads=3, max_time_patches=256),
}


class EATEncoder(AudioEncoder):
    def __init__(self, name: str, preset: str, config: EATConfig) -> None:
        super().__init__()
        self.config = config
        freq = config.grid[1]
        self.info = EncoderInfo(
            name=name,
            arch="eat",
            preset=preset,
            sample_rate=EAT_FBANK.sample_rate,
            embed_dim=config.embed_dim,
            num_layers=config.depth,
            freq_tokens=freq,
            frames_per_token=config.patch_size,
            window_frames=config.window_frames,
            has_cls=True,
        )
        self.frontend = KaldiFbank(EAT_FBANK)
        dim = config.embed_dim
        self.patch_embed = PatchEmbed(dim, config.patch_size)
        self.register_buffer("pos_embed", sincos_2d(dim, config.max_time_patches, freq)[None])
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pre_norm = nn.LayerNorm(dim, eps=config.norm_eps)
        self.blocks = nn.ModuleList(
            PostNormBlock(dim, config.num_heads, config.mlp_ratio, config.norm_eps)
            for _ in range(config.depth)
        )
        self._init_random()

    def _init_random(self) -> None:
        """Official-style initialisation, used only when random weights are asked for."""
        weight = self.patch_embed.proj.weight
        nn.init.xavier_uniform_(weight.view(weight.shape[0], -1))
        nn.init.normal_(self.cls_token)
        for module in self.blocks.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def encode_window(
        self, features: Tensor, frames: Tensor, layers: Sequence[int]
    ) -> WindowOutput:
        patches, time_valid = self.patch_embed(features, frames, self.frontend.pad_value)
        b, t, f, d = patches.shape
        if t > self.config.max_time_patches:
            raise ValueError(
                f"{t} time patches exceed the position table ({self.config.max_time_patches})"
            )
        x = patches.reshape(b, t * f, d) + self.pos_embed[:, : t * f].to(patches.dtype)
        x = torch.cat([self.cls_token.expand(b, -1, -1).to(x.dtype), x], dim=1)
        x = self.pre_norm(x)
        stacked = run_blocks(self.blocks, x, token_key_mask(time_valid, f, 1), layers)
        tokens = stacked[:, :, 1:].reshape(b, len(layers), t, f, d)
        return WindowOutput(tokens=tokens, time_valid=time_valid, cls=stacked[:, :, 0])


_EAT_RENAMES = {
    # fairseq data2vec_multi (official .pt)
    "modality_encoders.IMAGE.local_encoder.proj.": "patch_embed.proj.",
    "modality_encoders.IMAGE.fixed_positional_encoder.positions": "pos_embed",
    "modality_encoders.IMAGE.extra_tokens": "cls_token",
    "modality_encoders.IMAGE.context_encoder.norm.": "pre_norm.",
    # Hugging Face remote code (`pre_norm.` and `blocks.` already carry our names)
    "local_encoder.proj.": "patch_embed.proj.",
    "fixed_positional_encoder.positions": "pos_embed",
    "extra_tokens": "cls_token",
}

_EAT_UNUSED = (
    # pretraining-only modules of data2vec_multi: EMA teacher, decoders, projections
    "_ema",
    "ema.",
    "decoder.",
    "shared_decoder.",
    "recon_proj.",
    "cls_proj.",
    "center",
    "modality_encoders.IMAGE.decoder.",
    "modality_encoders.IMAGE.alibi_scale",
    # the fine-tuning head (fairseq MaeImageClassificationModel, HF model_variant="finetune")
    "head.",
    "fc_norm.",
)


def eat_checkpoint_filter_fn(checkpoint: Mapping[str, object]) -> dict[str, Tensor]:
    """Official EAT/SSLAM checkpoint (fairseq pre-trained or fine-tuned, or the Hugging Face
    safetensors layout, whose keys all sit under `model.`) to this module's keys. Pretraining-only
    modules and the fine-tuning head are dropped; everything else must map, or `load_exact` names
    what is left over."""
    state = checkpoint.get("model", checkpoint)
    if not isinstance(state, Mapping):
        raise CheckpointError("EAT checkpoint has no 'model' state dict")
    return convert_keys(strip_prefix(state, "model."), _EAT_RENAMES, _EAT_UNUSED)
