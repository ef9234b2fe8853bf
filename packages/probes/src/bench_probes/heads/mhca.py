"""mhca: multi-head cross-attention from one learnable query to the tokens.

One query q ~ N(0, 0.02) (no W_q: a learnable query already is a free vector), K = z W_k and
V = z W_v without bias, H heads, scaled dot-product attention over the valid tokens, the heads'
outputs concatenated (D) and classified by Linear(D -> C), as the paper specifies.
H (inferred beyond D = 768): D / 64 heads, i.e. head width 64, which is the paper's 12 heads at
D = 768 and the ViT convention at other widths.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench_probes.heads.base import PoolingHead, flat_tokens


class MHCAHead(PoolingHead):
    name = "mhca"

    def __init__(
        self, dim: int, num_classes: int, freq_tokens: int, num_heads: int | None = None
    ) -> None:
        super().__init__(dim, num_classes, freq_tokens)
        self.num_heads = num_heads or max(1, dim // 64)
        if dim % self.num_heads:
            raise ValueError(f"dim {dim} is not divisible by num_heads {self.num_heads}")
        self.query = nn.Parameter(torch.randn(dim) * 0.02)
        self.key = nn.Linear(dim, dim, bias=False)
        self.value = nn.Linear(dim, dim, bias=False)
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, tokens: Tensor, mask: Tensor, cls: Tensor) -> Tensor:
        z, valid = flat_tokens(tokens, mask)
        b, n, d = z.shape
        h = self.num_heads

        def heads(x: Tensor) -> Tensor:
            return x.view(b, n, h, d // h).transpose(1, 2)  # (B, H, N, D/H)

        query = self.query.view(1, h, 1, d // h).expand(b, -1, -1, -1).to(z.dtype)
        pooled = F.scaled_dot_product_attention(
            query, heads(self.key(z)), heads(self.value(z)), attn_mask=valid[:, None, None, :]
        )  # (B, H, 1, D/H)
        return self.classifier(pooled.reshape(b, d))
