"""simpool (SimPool, Psomas et al. 2023): attention pooling with the mean token as the query.

Tokens are LayerNorm-ed; the query is the mean of the normed valid tokens; attention
softmax(q z^T / sqrt(D)) over the valid tokens; the pooled vector is the attention-weighted sum of
the normed tokens; Linear(D -> C). As the paper's definition: no query/key projections, so the
only parameters are the LayerNorm's affine ones and the classifier.
"""

from __future__ import annotations

from torch import Tensor, nn

from bench_probes.heads.base import (
    PoolingHead,
    flat_tokens,
    masked_mean,
    masked_softmax,
    scaled_scores,
)


class SimPoolHead(PoolingHead):
    name = "simpool"

    def __init__(self, dim: int, num_classes: int, freq_tokens: int) -> None:
        super().__init__(dim, num_classes, freq_tokens)
        self.norm = nn.LayerNorm(dim)
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, tokens: Tensor, mask: Tensor, cls: Tensor) -> Tensor:
        z, valid = flat_tokens(tokens, mask)
        normed = self.norm(z)
        query = masked_mean(normed, valid)[:, None, :]  # (B, 1, D)
        attention = masked_softmax(scaled_scores(query, normed), valid[:, None, :])  # (B, 1, N)
        return self.classifier((attention.to(normed.dtype) @ normed).squeeze(1))
