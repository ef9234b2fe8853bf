"""linear: the standard global probe, Linear(D -> C) on the cls vector (mean of tokens for
backbones without a cls token, as the paper does for BEATs and Dasheng)."""

from __future__ import annotations

from torch import Tensor, nn

from bench_probes.heads.base import PoolingHead


class LinearHead(PoolingHead):
    name = "linear"
    reads_tokens = False

    def __init__(self, dim: int, num_classes: int, freq_tokens: int) -> None:
        super().__init__(dim, num_classes, freq_tokens)
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, tokens: Tensor, mask: Tensor, cls: Tensor) -> Tensor:
        return self.classifier(cls)
