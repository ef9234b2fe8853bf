"""conv: a small convolutional head over the D x T x F token map, global pooling, Linear.

Inferred (the paper gives no architecture): one 3x3 Conv2d (D -> `channels`, 256 by default,
zero padding) over the (time, frequency) grid, GELU, global average pooling over the valid
positions, Linear(channels -> C). One layer is the smallest head that sees local time-frequency
context; average pooling is what "global pool" means for a CNN head, and the paper's conv score
(19.50 for EAT on as20k, near the global probes) fits it. Padded time steps are zeroed before the
convolution, so the kernel sees exactly the zero padding it sees at the end of an unpadded map.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from bench_probes.heads.base import PoolingHead, masked_mean, token_mask


class ConvHead(PoolingHead):
    name = "conv"

    def __init__(self, dim: int, num_classes: int, freq_tokens: int, channels: int = 256) -> None:
        super().__init__(dim, num_classes, freq_tokens)
        self.conv = nn.Conv2d(dim, channels, kernel_size=3, padding=1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, tokens: Tensor, mask: Tensor, cls: Tensor) -> Tensor:
        grid = tokens.masked_fill(~mask[:, :, None, None], 0.0).permute(0, 3, 1, 2)  # B, D, T, F
        features = F.gelu(self.conv(grid)).permute(0, 2, 3, 1).flatten(1, 2)  # B, T*F, channels
        return self.classifier(masked_mean(features, token_mask(tokens, mask)))
