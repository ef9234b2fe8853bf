"""ep (Efficient Probing, Psomas et al. 2025): M = 32 learnable queries over the raw tokens.

Keys are the tokens themselves (no projection); values are Linear(D -> D) split into M groups of
D / M channels; attention softmax(q_m z^T / sqrt(D)) over the valid tokens; query m pools only its
own value slice, the M slices are concatenated back to D and classified by Linear(D -> C).
Query initialisation (inferred): N(0, 0.02), as for mhca's query.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from bench_probes.heads.base import PoolingHead, flat_tokens, masked_softmax, scaled_scores


class EPHead(PoolingHead):
    name = "ep"

    def __init__(self, dim: int, num_classes: int, freq_tokens: int, num_queries: int = 32) -> None:
        super().__init__(dim, num_classes, freq_tokens)
        if dim % num_queries:
            raise ValueError(f"dim {dim} is not divisible by num_queries {num_queries}")
        self.num_queries = num_queries
        self.queries = nn.Parameter(torch.randn(num_queries, dim) * 0.02)
        self.value = nn.Linear(dim, dim)
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, tokens: Tensor, mask: Tensor, cls: Tensor) -> Tensor:
        z, valid = flat_tokens(tokens, mask)
        b, n, d = z.shape
        m = self.num_queries
        queries = self.queries.to(z.dtype).expand(b, -1, -1)
        attention = masked_softmax(scaled_scores(queries, z), valid[:, None, :])  # (B, M, N)
        values = self.value(z).view(b, n, m, d // m)
        pooled = torch.einsum("bmn,bnmc->bmc", attention.to(values.dtype), values)
        return self.classifier(pooled.reshape(b, d))
