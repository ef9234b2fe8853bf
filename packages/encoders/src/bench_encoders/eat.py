"""EAT (Chen et al. 2024) and SSLAM: data2vec 2.0 audio encoders with the same architecture.

Architecture, after the official fairseq code (cwx-worst-one/EAT, models/images.py, base.py,
modules.py): a 16x16 Conv2d patch embedding over the (time x 128-mel) fbank image, a fixed 2-D
sin-cos position table covering up to `max_time_patches` x 8 patches, one learned extra (cls)
token prepended, a LayerNorm over the sequence (the context encoder with no blocks), then post-norm
transformer blocks and no final norm. Tokens are time-major: (T, F) = (frames / 16, 8).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench_encoders.base import AudioEncoder, EncoderInfo, WindowOutput
from bench_encoders.checkpoints import CheckpointError, strip_prefix
from bench_encoders.frontends import FbankConfig, KaldiFbank
from bench_encoders.layers import PostNormBlock, sincos_2d

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
class EATConfig:
    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    patch_size: int = 16
    num_mel_bins: int = 128
    max_time_patches: int = 768
    window_frames: int = 1024
    norm_eps: float = 1e-6


EAT_PRESETS: dict[str, EATConfig] = {
    "base": EATConfig(),
    "tiny": EATConfig(embed_dim=64, depth=2, num_heads=4, max_time_patches=128),
    # between tiny and base: enough compute per clip that benchmarks measure the encoder
    "small": EATConfig(embed_dim=192, depth=4, num_heads=3, max_time_patches=256),
}


class EATEncoder(AudioEncoder):
    def __init__(self, name: str, preset: str, config: EATConfig) -> None:
        super().__init__()
        self.config = config
        freq = config.num_mel_bins // config.patch_size
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
        self.patch_embed = nn.Conv2d(
            1, dim, kernel_size=config.patch_size, stride=config.patch_size
        )
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
        nn.init.xavier_uniform_(self.patch_embed.weight.view(self.patch_embed.weight.shape[0], -1))
        nn.init.normal_(self.cls_token)
        for module in self.blocks.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def encode_window(
        self, features: Tensor, frames: Tensor, layers: Sequence[int]
    ) -> WindowOutput:
        p = self.config.patch_size
        pad = (-features.shape[1]) % p
        if pad:
            features = F.pad(features, (0, 0, 0, pad), value=self.frontend.pad_value)
        x = self.patch_embed(features.unsqueeze(1).to(self.patch_embed.weight.dtype))
        b, d, t, f = x.shape
        if t > self.config.max_time_patches:
            raise ValueError(
                f"{t} time patches exceed the position table ({self.config.max_time_patches})"
            )
        x = x.flatten(2).transpose(1, 2) + self.pos_embed[:, : t * f].to(x.dtype)
        x = torch.cat([self.cls_token.expand(b, -1, -1).to(x.dtype), x], dim=1)
        time_valid = torch.arange(t, device=x.device)[None] < torch.ceil(frames / p)[:, None]
        key_valid = torch.cat(
            [time_valid.new_ones((b, 1)), time_valid[:, :, None].expand(b, t, f).reshape(b, t * f)],
            dim=1,
        )
        x = self.pre_norm(x)
        wanted = set(layers)
        taken: dict[int, Tensor] = {}
        for index, block in enumerate(self.blocks):
            x = block(x, key_valid)
            if index in wanted:
                taken[index] = x
            if len(taken) == len(wanted):
                break
        stacked = torch.stack([taken[i] for i in layers], dim=1)  # (B, L, 1 + T*F, D)
        tokens = stacked[:, :, 1:].reshape(b, len(layers), t, f, d)
        return WindowOutput(tokens=tokens, time_valid=time_valid, cls=stacked[:, :, 0])


_PRETRAINING_ONLY = (
    "_ema",
    "ema.",
    "decoder.",
    "shared_decoder.",
    "recon_proj.",
    "cls_proj.",
    "center",
    "modality_encoders.IMAGE.decoder.",
    "modality_encoders.IMAGE.alibi_scale",
    "head.",
    "fc_norm.",
)


def eat_checkpoint_filter_fn(checkpoint: Mapping[str, object]) -> dict[str, Tensor]:
    """Official EAT/SSLAM fairseq checkpoint (pre-trained, or fine-tuned with a `model.` prefix)
    to this module's keys. Pretraining-only modules (EMA teacher, decoders) and the fine-tuning
    head are dropped; everything else must map, or `load_exact` names what is left over."""
    state = checkpoint.get("model", checkpoint)
    if not isinstance(state, Mapping):
        raise CheckpointError("EAT checkpoint has no 'model' state dict")
    state = strip_prefix(state, "model.")
    renames = {
        "modality_encoders.IMAGE.local_encoder.proj.": "patch_embed.",
        "modality_encoders.IMAGE.fixed_positional_encoder.positions": "pos_embed",
        "modality_encoders.IMAGE.extra_tokens": "cls_token",
        "modality_encoders.IMAGE.context_encoder.norm.": "pre_norm.",
    }
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        if key.startswith(_PRETRAINING_ONLY) or not isinstance(value, Tensor):
            continue
        for old, new in renames.items():
            if key.startswith(old):
                key = new + key[len(old) :]
                break
        out[key] = value
    return out
