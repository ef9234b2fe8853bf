"""Transformer building blocks shared by the ViT-style audio backbones.

All of them see a padded batch: padded tokens are excluded as attention keys (`key_valid`), so the
valid tokens of a clip do not depend on what else is in its batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Attention(nn.Module):
    """Multi-head self-attention with a fused qkv projection (timm / data2vec parameter names)."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor, key_valid: Tensor | None = None) -> Tensor:
        """`key_valid` (B, N) bool: padded keys are excluded from every query's softmax."""
        b, n, c = x.shape
        qkv = (
            self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        )
        mask = None if key_valid is None else key_valid[:, None, None, :]
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=mask)
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class PostNormBlock(nn.Module):
    """data2vec 2.0 block with `layer_norm_first=False` (EAT, SSLAM): norms after each residual."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, eps: float) -> None:
        super().__init__()
        self.attn = Attention(dim, num_heads)
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.norm2 = nn.LayerNorm(dim, eps=eps)

    def forward(self, x: Tensor, key_valid: Tensor | None = None) -> Tensor:
        x = self.norm1(x + self.attn(x, key_valid))
        return self.norm2(x + self.mlp(x))


class PreNormBlock(nn.Module):
    """timm ViT block (Audio-MAE, ASiT, Dasheng): norms before attention and MLP, inside the
    residuals."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, eps: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: Tensor, key_valid: Tensor | None = None) -> Tensor:
        x = x + self.attn(self.norm1(x), key_valid)
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    """Non-overlapping `patch` x `patch` patches of a (frames x mels) feature image.

    The conv sits in `proj`, the timm / MAE parameter name. A clip whose frame count is not a
    multiple of the patch size keeps its last, partial patch: the missing frames take the
    front-end's padding value and the patch counts as valid, so every frame is seen.
    """

    def __init__(self, dim: int, patch: int) -> None:
        super().__init__()
        self.patch = patch
        self.proj = nn.Conv2d(1, dim, kernel_size=patch, stride=patch)

    def forward(self, features: Tensor, frames: Tensor, pad_value: float) -> tuple[Tensor, Tensor]:
        """features (B, n, mels), true frame counts (B,) -> patch tokens (B, T, F, D) in time-major
        grid order, and which time steps hold real frames (B, T)."""
        pad = (-features.shape[1]) % self.patch
        if pad:
            features = F.pad(features, (0, 0, 0, pad), value=pad_value)
        x = self.proj(features.unsqueeze(1).to(self.proj.weight.dtype))
        steps = torch.arange(x.shape[2], device=x.device)
        time_valid = steps[None] < torch.ceil(frames.to(x.device) / self.patch)[:, None]
        return x.permute(0, 2, 3, 1), time_valid


def token_key_mask(time_valid: Tensor, freq: int, prefix: int) -> Tensor:
    """Key mask (B, prefix + T*freq) for `prefix` always-valid tokens (cls) then a time-major grid."""
    b, t = time_valid.shape
    grid = time_valid[:, :, None].expand(b, t, freq).reshape(b, t * freq)
    return torch.cat([time_valid.new_ones((b, prefix)), grid], dim=1)


def run_blocks(
    blocks: nn.ModuleList,
    x: Tensor,
    key_valid: Tensor,
    layers: Sequence[int],
    out_norm: nn.Module | None = None,
) -> Tensor:
    """Outputs (B, L, N, D) of the blocks at `layers` (0-based, in the order asked), each passed
    through `out_norm` when the backbone reads its layers through a final norm. Blocks after the
    deepest selected one are not run."""
    wanted = set(layers)
    taken: dict[int, Tensor] = {}
    for index, block in enumerate(blocks):
        x = block(x, key_valid)
        if index in wanted:
            taken[index] = x if out_norm is None else out_norm(x)
            if len(taken) == len(wanted):
                break
    return torch.stack([taken[i] for i in layers], dim=1)


def sincos_2d(dim: int, rows: int, cols: int) -> Tensor:
    """Fixed 2-D sin-cos position table (rows*cols, dim), row-major like the patch sequence.

    MAE convention: the first half of the channels encodes the column index, the second half the
    row index; each half is [sin | cos] over frequencies 1 / 10000^(2i/d).
    """
    if dim % 4:
        raise ValueError("sin-cos position embedding needs dim divisible by 4")

    def one_axis(d: int, pos: Tensor) -> Tensor:
        omega = 1.0 / 10000 ** (torch.arange(d // 2, dtype=torch.float64) / (d / 2))
        angles = pos.to(torch.float64)[:, None] * omega[None]
        return torch.cat([angles.sin(), angles.cos()], dim=1)

    r, c = torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij")
    table = torch.cat([one_axis(dim // 2, c.flatten()), one_axis(dim // 2, r.flatten())], dim=1)
    return table.float()
