"""The timm-layout ViT over a fbank image that Audio-MAE and ASiT share.

Both official encoders are a timm/DeiT VisionTransformer with one input channel: a 16x16 Conv2d
patch embedding (`patch_embed.proj`), a cls token, a (1 + T*F) position table whose first row
belongs to the cls token, pre-norm blocks with qkv bias and LayerNorm eps 1e-6, and a final
LayerNorm (`norm`). They differ only in the position table (fixed sin-cos vs learned), the window
and the front-end, which their own modules (audiomae.py, asit.py) supply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from bench_encoders.base import AudioEncoder, EncoderInfo, WindowOutput
from bench_encoders.frontends import FbankConfig, KaldiFbank
from bench_encoders.layers import PatchEmbed, PreNormBlock, run_blocks, token_key_mask


@dataclass(frozen=True)
class ViTConfig:
    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    patch_size: int = 16
    num_mel_bins: int = 128
    window_frames: int = 1024
    norm_eps: float = 1e-6

    @property
    def grid(self) -> tuple[int, int]:
        """(time, freq) patches of one full window: the size of the position table."""
        return self.window_frames // self.patch_size, self.num_mel_bins // self.patch_size


class ViTAudioEncoder(AudioEncoder):
    """Pre-norm ViT whose every returned layer goes through the final `norm`.

    Why the norm, for the last layer and for earlier ones alike: the official pre-trained encoders
    are read through it. Audio-MAE's `forward_encoder` returns `norm(blocks(x))` (what its decoder
    reconstructs from), and its `forward_encoder_no_mask` averages `norm(x)` over intermediate
    blocks; ASiT's `VisionTransformer.forward` returns `norm(x)` to its heads, and its DINO lineage
    reads intermediate layers through `norm` as well. A pre-norm block's raw output is an
    un-normalised residual stream that no official consumer reads.
    """

    def __init__(
        self,
        *,
        name: str,
        arch: str,
        preset: str,
        config: ViTConfig,
        fbank: FbankConfig,
        positions: Tensor,
    ) -> None:
        """`positions` (1 + T*F, D): the position table to start from (a checkpoint replaces it)."""
        super().__init__()
        self.config = config
        time, freq = config.grid
        dim = config.embed_dim
        if positions.shape != (1 + time * freq, dim):
            raise ValueError(f"position table {tuple(positions.shape)} does not fit {config}")
        self.info = EncoderInfo(
            name=name,
            arch=arch,
            preset=preset,
            sample_rate=fbank.sample_rate,
            embed_dim=dim,
            num_layers=config.depth,
            freq_tokens=freq,
            frames_per_token=config.patch_size,
            window_frames=config.window_frames,
            has_cls=True,
        )
        self.frontend = KaldiFbank(fbank)
        self.patch_embed = PatchEmbed(dim, config.patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(positions[None].clone())
        self.blocks = nn.ModuleList(
            PreNormBlock(dim, config.num_heads, config.mlp_ratio, config.norm_eps)
            for _ in range(config.depth)
        )
        self.norm = nn.LayerNorm(dim, eps=config.norm_eps)
        self._init_random()

    def _init_random(self) -> None:
        """MAE-style initialisation, used only when random weights are asked for."""
        weight = self.patch_embed.proj.weight
        nn.init.xavier_uniform_(weight.view(weight.shape[0], -1))
        nn.init.normal_(self.cls_token, std=0.02)
        for module in self.blocks.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def encode_window(
        self, features: Tensor, frames: Tensor, layers: Sequence[int]
    ) -> WindowOutput:
        patches, time_valid = self.patch_embed(features, frames, self.frontend.pad_value)
        b, t, f, d = patches.shape
        if t > self.config.grid[0]:
            raise ValueError(f"{t} time patches exceed the position table ({self.config.grid[0]})")
        x = torch.cat([self.cls_token.expand(b, -1, -1), patches.reshape(b, t * f, d)], dim=1)
        x = x + self.pos_embed[:, : 1 + t * f].to(x.dtype)
        stacked = run_blocks(self.blocks, x, token_key_mask(time_valid, f, 1), layers, self.norm)
        tokens = stacked[:, :, 1:].reshape(b, len(layers), t, f, d)
        return WindowOutput(tokens=tokens, time_valid=time_valid, cls=stacked[:, :, 0])
