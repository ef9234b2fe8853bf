"""abmilp: attention-based multiple-instance pooling (Ilse et al. 2018).

Token scores t(z) = Linear(D, D) - tanh - Linear(D, 1); softmax over the valid tokens; the
attention-weighted sum of the tokens is classified by Linear(D -> C).
"""

from __future__ import annotations

from torch import Tensor, nn

from bench_probes.heads.base import PoolingHead, flat_tokens, masked_softmax


class ABMILPHead(PoolingHead):
    name = "abmilp"

    def __init__(self, dim: int, num_classes: int, freq_tokens: int) -> None:
        super().__init__(dim, num_classes, freq_tokens)
        self.score = nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, 1))
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, tokens: Tensor, mask: Tensor, cls: Tensor) -> Tensor:
        z, valid = flat_tokens(tokens, mask)
        attention = masked_softmax(self.score(z).squeeze(-1), valid)  # (B, N)
        return self.classifier((attention[:, None, :].to(z.dtype) @ z).squeeze(1))
