"""linearc: Linear(2D -> C) on the concatenation [cls ; masked mean of the patch tokens].

Inferred: the paper names the probe without a formula; "linear on cls, concatenated with the
token mean" is the common reading (the two global summaries side by side), and it sits, as the
paper's number does, between linear and the token-level heads. For backbones without a cls token
the stored cls already is the token mean, and the head degrades gracefully to a linear probe.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from bench_probes.heads.base import PoolingHead, masked_mean, token_mask


class LinearCHead(PoolingHead):
    name = "linearc"

    def __init__(self, dim: int, num_classes: int, freq_tokens: int) -> None:
        super().__init__(dim, num_classes, freq_tokens)
        self.classifier = nn.Linear(2 * dim, num_classes)

    def forward(self, tokens: Tensor, mask: Tensor, cls: Tensor) -> Tensor:
        mean = masked_mean(tokens.flatten(1, 2), token_mask(tokens, mask))
        return self.classifier(torch.cat([cls, mean], dim=-1))
